import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from gankit.lab.base import LabError
from gankit.lab.why_generate import draw_task, near_shares, why_generate

TINY = dict(steps=100, batch_size=64, width=16, samples=200, draws=4)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """The default run, once for the module. Measured on seeds 0–4: L2 100 % within 0.2 of
    0; the cGAN 97.0–97.3 % within 0.2 of ±1, each sign 44–53 %; 7–9 s of CPU."""
    threads = torch.get_num_threads()
    run = why_generate(out_dir=tmp_path_factory.mktemp("why-generate"), progress=False)
    assert torch.get_num_threads() == threads  # restored
    return run


def test_task_is_a_fair_coin_independent_of_x():
    x, y = draw_task(40_000, 3, torch.Generator().manual_seed(0))
    assert x.shape == (40_000, 3) and y.shape == (40_000, 1)
    assert set(y.unique().tolist()) == {-1.0, 1.0}
    assert float(y.mean()) == pytest.approx(0.0, abs=0.02)  # 4σ of a fair coin's mean
    assert float(x.std()) == pytest.approx(1.0, abs=0.02)
    correlation = np.corrcoef(torch.cat([x, y], dim=1).T.numpy())[-1, :-1]
    assert np.abs(correlation).max() < 0.02


def test_near_shares_by_hand():
    outputs = np.array([0.0, 0.19, -0.21, 1.1, -0.85, 0.5, 1.25, -1.0])
    shares = near_shares(outputs)
    assert shares == pytest.approx(
        {"near_zero": 2 / 8, "near_targets": 3 / 8, "near_plus": 1 / 8, "near_minus": 2 / 8}
    )


def test_l2_regression_predicts_the_blurred_average(result):
    l2 = result.numbers["regression"]
    assert l2["outputs"] == 1000
    assert l2["near_zero"] >= 0.9
    assert l2["near_targets"] <= 0.01
    assert l2["mean"] == pytest.approx(0.0, abs=0.1)
    # the conditional mean 0 is the best L2 prediction: squared error 1 + ŷ² ≈ 1
    assert l2["mse"] == pytest.approx(1.0, abs=0.1)


def test_cgan_generates_both_outcomes(result):
    gan = result.numbers["cgan"]
    assert gan["outputs"] == 1000 * 8
    assert gan["near_targets"] >= 0.8
    assert gan["near_plus"] >= 0.25 and gan["near_minus"] >= 0.25
    assert gan["near_zero"] <= 0.1
    # G follows the coin whatever x: about half positive on either side of x₁ = 0, and
    # nearly every input gets both signs in its 8 draws (a fair coin: 1 − 2⁻⁷ = 99.2 %)
    assert 0.35 <= gan["positive_share_x1_negative"] <= 0.65
    assert 0.35 <= gan["positive_share_x1_positive"] <= 0.65
    assert gan["both_signs_truth"] == pytest.approx(1 - 2**-7)
    assert gan["both_signs"] >= 0.9
    # worse than L2 by L2's own measure: an independent ±1 guess has squared error 2
    assert gan["mse"] == pytest.approx(2.0, abs=0.3)


def test_writes_png_and_json_and_reports(result):
    assert result.figure.name == "why-generate.png"
    assert result.figure.stat().st_size > 10_000
    assert json.loads(result.numbers_path.read_text()) == result.numbers
    assert len(result.lines) == 6
    assert "within 0.2 of 0" in result.lines[2] and "within 0.2 of ±1" in result.lines[3]


def test_same_seed_gives_the_same_numbers(tmp_path):
    def numbers(seed: int) -> dict:
        run = why_generate(out_dir=tmp_path, seed=seed, progress=False, **TINY).numbers
        return {k: v for k, v in run.items() if k not in ("seconds", "cpu_seconds")}

    first = numbers(0)
    assert numbers(0) == first
    assert numbers(1)["cgan"] != first["cgan"]


def test_impossible_options_are_refused(tmp_path):
    with pytest.raises(LabError, match="draws ≥ 2"):
        why_generate(out_dir=tmp_path, draws=1)
    with pytest.raises(LabError, match="lr > 0"):
        why_generate(out_dir=tmp_path, lr=0.0)


def test_cli_lists_it():
    listed = subprocess.run(
        [sys.executable, "-m", "gankit", "lab", "--list"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    (line,) = [line for line in listed.splitlines() if line.split()[:1] == ["why-generate"]]
    assert "L2 regression" in line
