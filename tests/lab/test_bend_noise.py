import json
import math

import numpy as np
import pytest
import torch
from scipy import stats

from gankit.config import resolve
from gankit.data import build_source
from gankit.lab.base import LabError
from gankit.lab.bend_noise import Mixture1d, bend_noise, noise_floor

DATA_MEAN = 0.7 * -1.5 + 0.3 * 2.0  # −0.45
DATA_STD = math.sqrt(0.7 * (0.35**2 + 1.5**2) + 0.3 * (0.5**2 + 2.0**2) - DATA_MEAN**2)  # 1.653


@pytest.fixture(scope="module")
def mixture():
    return Mixture1d(build_source(resolve("bimodal-1d").data))


def test_mixture_moments_cdf_and_valley(mixture):
    assert mixture.mean == pytest.approx(DATA_MEAN, abs=1e-12)
    assert mixture.std == pytest.approx(DATA_STD, abs=1e-12)
    low, high = mixture.support()
    assert mixture.cdf(np.array([low]))[0] < 1e-20
    assert mixture.cdf(np.array([high]))[0] == pytest.approx(1.0, abs=1e-15)
    valley = mixture.valley()
    assert -1.5 < valley < 2.0
    # the density is lowest there: both neighbours are higher
    left, mid, right = mixture.density(np.array([valley - 0.05, valley, valley + 0.05]))
    assert mid < left and mid < right
    assert 1 - mixture.cdf(np.array([valley]))[0] == pytest.approx(0.3, abs=1e-3)
    assert mixture.quantile(np.array([0.7]))[0] == pytest.approx(valley, abs=0.3)


def test_w1_to_the_exact_cdf(mixture):
    rng = torch.Generator().manual_seed(0)
    sample = mixture.source.sample(50_000, rng)[:, 0].double().numpy()
    assert mixture.w1(sample) < 0.03  # sampling noise only
    # shifting every sample by c moves W1 by c (up to the sampling noise)
    assert mixture.w1(sample + 0.4) == pytest.approx(0.4, abs=0.03)
    # against scipy's W1 between the samples and a large sample of P_data
    big = mixture.source.sample(400_000, torch.Generator().manual_seed(1))[:, 0].double().numpy()
    shifted = sample[:5000] - 0.25
    assert mixture.w1(shifted) == pytest.approx(stats.wasserstein_distance(shifted, big), abs=0.01)
    # a point mass at the mean: W1 = E|X − mean|, by quadrature of the mixture density
    grid = np.linspace(-8, 10, 200_001)
    mean_abs = np.trapezoid(np.abs(grid - DATA_MEAN) * mixture.density(grid), grid)
    assert mixture.w1(np.full(100, DATA_MEAN)) == pytest.approx(mean_abs, abs=2e-3)
    assert 0 < noise_floor(mixture, 20_000, seed=0) < 0.03


def test_short_run_writes_png_and_json_and_reruns(tmp_path):
    for _ in range(2):  # a second run in the same folder replaces the first
        result = bend_noise(out_dir=tmp_path, steps=40, samples=2000, progress=False)
    assert result.figure.stat().st_size > 10_000
    numbers = json.loads(result.numbers_path.read_text())
    assert [row["step"] for row in numbers["snapshots"]] == [0, 4, 12, 24, 40]
    assert numbers["final"] == numbers["snapshots"][-1]
    assert numbers["data"]["right_share"] == pytest.approx(0.3, abs=1e-3)
    assert numbers["curve"]["step"][0] == 0 and numbers["curve"]["step"][-1] == 40
    assert (tmp_path / "runs" / "bend-noise-seed0" / "summary.json").is_file()
    assert len(result.lines) == 10 and all(isinstance(line, str) for line in result.lines)
    assert torch.get_num_threads() >= 1


def test_impossible_options_are_refused(tmp_path):
    with pytest.raises(LabError, match="decay_from"):
        bend_noise(out_dir=tmp_path, decay_from=1.5)
    with pytest.raises(LabError, match="steps ≥ 10"):
        bend_noise(out_dir=tmp_path, steps=5)


@pytest.mark.slow
def test_default_run_bends_noise_into_both_modes(tmp_path):
    """Measured with the defaults (4,000 steps) on seeds 0, 1, 2: right-mode share 0.300,
    0.319, 0.303; W1 0.055, 0.095, 0.089; mean −0.46, −0.41, −0.44; std 1.65, 1.69, 1.66;
    G steepest at z = +0.53, −0.49, +0.53; 17–34 s of training on a 2-core CPU."""
    threads = torch.get_num_threads()
    result = bend_noise(out_dir=tmp_path, progress=False)
    assert torch.get_num_threads() == threads  # restored
    numbers = result.numbers
    final, bend = numbers["final"], numbers["bend"]
    assert final["right_share"] == pytest.approx(0.3, abs=0.05)
    assert final["w1"] < 0.15
    assert final["mean"] == pytest.approx(DATA_MEAN, abs=0.1)
    assert final["std"] == pytest.approx(DATA_STD, abs=0.1)
    start = numbers["snapshots"][0]
    assert start["w1"] > 1.0 and start["std"] < 0.2  # G starts as a narrow spike
    assert final["w1"] < start["w1"] / 10
    # the bend sits where the transport map jumps, Φ⁻¹(0.7) or Φ⁻¹(0.3), ±0.524
    assert abs(abs(bend["steepest_z"]) - 0.524) < 0.15
    assert abs(bend["steepest_slope"]) > 10
    assert numbers["cpu_seconds"] < 90
    assert result.figure.stat().st_size > 10_000
