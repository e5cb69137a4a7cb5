"""Fixed-seed training runs on toy distributions land where the theory says."""

import time

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
def test_ring_2d_run_covers_at_least_6_of_8_modes_within_a_cpu_minute(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one CPU: process time then equals wall time of one core
    try:
        start = time.process_time()
        run = gankit.train("ring-2d", QUIET, run_dir=tmp_path / "run", progress=False)
        cpu_seconds = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    source = run.source
    result = mode_coverage(run.sample(2500, seed=1), source.modes, source.component_stds[:, 0])
    assert result.modes_captured >= 6, result
    assert cpu_seconds < 60, cpu_seconds
