"""js-vs-w: parallel segments, exact JS = log 2 and W1 = |θ|, and what the estimators see."""

import math

import pytest
import torch

from gankit.lab.js_vs_w import js_vs_w, segment_js, segment_samples, segment_w1
from gankit.metrics.divergences import wasserstein1_empirical


def test_exact_values():
    assert segment_js(0.3) == segment_js(-2.0) == math.log(2)
    assert segment_js(0.0) == 0.0
    assert segment_w1(-0.7) == 0.7 and segment_w1(0.0) == 0.0


@pytest.mark.parametrize("theta", [0.2, -0.5, 1.0])
def test_optimal_transport_between_samples_approaches_abs_theta(theta):
    """Empirical W1 ≥ |θ| (every pair is at least |θ| apart) and tends to |θ|."""
    generator = torch.Generator().manual_seed(0)
    a = segment_samples(0.0, 1500, generator).numpy()
    b = segment_samples(theta, 1500, generator).numpy()
    w1 = wasserstein1_empirical(a, b)
    assert abs(theta) <= w1 < abs(theta) * 1.02 + 0.002


@pytest.mark.slow
def test_estimated_js_sits_at_log_2_while_w1_tracks_theta(tmp_path):
    result = js_vs_w(out_dir=tmp_path, progress=False)
    rows = {row["theta"]: row for row in result.numbers["rows"]}
    for theta, row in rows.items():
        if theta == 0:
            assert abs(row["js_estimate"]) < 0.01 and abs(row["w1_estimate"]) < 0.05
        else:
            assert row["js_estimate"] == pytest.approx(math.log(2), abs=0.005)
            assert row["w1_estimate"] == pytest.approx(abs(theta), rel=0.05)
    assert result.figure.stat().st_size > 10_000
