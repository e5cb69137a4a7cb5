"""d-memorises: perfect training accuracy on 256 + 256 samples, chance on fresh ones."""

import math

import pytest
from scipy import stats

from gankit.lab.d_memorises import bayes_accuracy, d_memorises, shifted_gaussians_js


def test_reference_values():
    assert bayes_accuracy(0.5) == pytest.approx(stats.norm.cdf(0.25), abs=1e-12)
    assert shifted_gaussians_js(0.0) == pytest.approx(0.0, abs=1e-12)
    # small shifts: JS ≈ δ²/8 (a quarter of the symmetric KL δ², halved)
    assert shifted_gaussians_js(0.1) == pytest.approx(0.01 / 8, rel=0.01)
    assert shifted_gaussians_js(40.0) == pytest.approx(math.log(2), abs=1e-9)


@pytest.mark.slow
def test_memorising_d_is_perfect_on_its_samples_and_no_better_than_bayes_on_fresh_ones(tmp_path):
    result = d_memorises(out_dir=tmp_path, progress=False)
    numbers = result.numbers
    memorising, honest = numbers["memorising"], numbers["honest"]
    assert memorising["train_accuracy"] > 0.98
    assert memorising["train_value"] > 0.6  # near log 2 on its own samples
    assert memorising["holdout_accuracy"] < numbers["bayes_accuracy"] + 0.03
    assert memorising["value"] < numbers["js_exact"]  # the held-out bound stays below the truth
    assert honest["value"] == pytest.approx(numbers["js_exact"], abs=0.012)
    assert result.figure.stat().st_size > 10_000
