"""Fixed-seed training runs on toy distributions land where the theory says."""

import pytest
import torch

import gankit
from gankit.metrics import mode_coverage

QUIET = {"log.tensorboard": False, "samples.every": 0, "checkpoint.every": 0, "device": "cpu"}


@pytest.mark.slow
def test_bimodal_1d_run_puts_each_modes_mass_within_5_points_of_the_truth(tmp_path):
    run = gankit.train("bimodal-1d", QUIET, run_dir=tmp_path / "run", progress=False)
    samples = run.sample(20_000, seed=1)
    source = run.source
    index, _ = source.nearest_mode(samples)
    generated = torch.bincount(index, minlength=2).double() / len(samples)
    truth_index, _ = source.nearest_mode(source.sample(200_000, torch.Generator().manual_seed(2)))
    truth = torch.bincount(truth_index, minlength=2).double() / 200_000
    assert truth[0] == pytest.approx(0.7, abs=0.005)  # more mass on the left
    assert (generated - truth).abs().max() < 0.05, (generated, truth)


@pytest.mark.slow
def test_ring_2d_run_covers_at_least_6_of_8_modes(tmp_path):
    """Its time is a benchmark's (``benchmarks/mixtures.py`` prints wall and CPU seconds),
    not an assertion: a loaded machine is slower without anything being wrong."""
    run = gankit.train("ring-2d", QUIET, run_dir=tmp_path / "run", progress=False)
    source = run.source
    result = mode_coverage(run.sample(2500, seed=1), source.modes, source.component_stds[:, 0])
    assert result.modes_captured >= 6, result
