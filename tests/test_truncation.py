"""The truncation trick (Brock et al. 2019): z ~ N(0, I) with |zᵢ| > t redrawn, through the
prior, Run.sample, Run.sample_batches and ``gankit sample --truncation``; none by default."""

import math

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.config import ConfigError
from gankit.prior import Prior
from tests.train.tiny import TINY_RING


def _z(n, dim, seed, truncation=None, distribution="normal"):
    return Prior(dim, distribution).sample(
        n, torch.Generator().manual_seed(seed), "cpu", truncation
    )


@pytest.mark.parametrize("threshold", [0.05, 0.7, 2.0])
def test_truncated_z_lies_within_the_threshold_and_keeps_what_was_inside(threshold):
    plain, truncated = _z(20_000, 8, 3), _z(20_000, 8, 3, threshold)
    assert truncated.dtype == torch.float32 and truncated.shape == (20_000, 8)
    assert truncated.abs().max() <= threshold
    inside = plain.abs() <= threshold
    assert torch.equal(truncated[inside], plain[inside])  # only the outliers are redrawn
    # the truncated normal's variance: 1 − 2tφ(t) / (2Φ(t) − 1)
    phi = math.exp(-(threshold**2) / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(threshold / math.sqrt(2))
    variance = 1 - 2 * threshold * phi / mass
    assert truncated.var().item() == pytest.approx(variance, rel=0.03)
    assert truncated.mean().item() == pytest.approx(0.0, abs=0.01 * max(threshold, 0.5))


def test_no_truncation_is_exactly_the_untruncated_draw():
    expected = torch.randn(50, 4, generator=torch.Generator().manual_seed(9))
    assert torch.equal(_z(50, 4, 9), expected)
    assert torch.equal(_z(50, 4, 9, None), expected)
    assert torch.equal(_z(50, 4, 9, 50.0), expected)  # nothing beyond 50σ to redraw


@pytest.mark.parametrize("bad", [0, -0.5, float("nan"), float("inf")])
def test_bad_thresholds_and_uniform_priors_are_refused(bad):
    with pytest.raises(ConfigError, match="truncation must be a positive number"):
        _z(4, 2, 0, bad)
    with pytest.raises(ConfigError, match="noise.distribution=uniform"):
        _z(4, 2, 0, 0.5, "uniform")


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    path = tmp_path_factory.mktemp("truncation") / "ring"
    gankit.train("ring-2d", {**TINY_RING, "train.steps": 3}, run_dir=path, progress=False)
    return path


def test_run_samples_with_and_without_truncation(ring):
    run = gankit.load(ring)
    z = torch.randn(16, run.config.noise.dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        today = run.sampler(z)
        truncated = run.sampler(_z(16, run.config.noise.dim, 3, 0.5))
    assert torch.equal(run.sample(16, seed=3), today)
    assert torch.equal(run.sample(16, seed=3, truncation=None), today)
    assert torch.equal(run.sample(16, seed=3, truncation=0.5), truncated)
    assert not torch.equal(truncated, today)
    batches = list(run.sample_batches(16, seed=3, batch_size=16, truncation=0.5))
    assert len(batches) == 1 and torch.equal(batches[0], truncated)
    parts = list(run.sample_batches(16, seed=3, batch_size=5, truncation=0.5))
    assert [len(b) for b in parts] == [5, 5, 5, 1]
    assert torch.equal(parts[0], run.sample(5, seed=3, truncation=0.5))
    with pytest.raises(ConfigError, match="truncation must be a positive number, got 0"):
        run.sample_batches(16, truncation=0)  # refused before the first batch


def test_cli_sample_truncation(ring, tmp_path, capsys):
    out = tmp_path / "t.npy"
    assert main(["sample", str(ring), "-n", "12", "--seed", "4", "--truncation", "0.7",
                 "-o", str(out), "--no-progress"]) == 0  # fmt: skip
    assert "z truncated at 0.7" in capsys.readouterr().out
    expected = gankit.load(ring).sample(12, seed=4, truncation=0.7)
    assert np.array_equal(np.load(out), expected.numpy())
    for bad in ("0", "-1", "nan", "x"):
        with pytest.raises(SystemExit) as exit_:
            main(["sample", str(ring), "--truncation", bad, "-o", str(tmp_path / "b.npy")])
        assert exit_.value.code == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and "--truncation" in lines[0], lines


def test_uniform_prior_and_translation_runs_refuse_truncation_in_one_line(tmp_path, capsys):
    uniform = tmp_path / "uniform"
    overrides = {**TINY_RING, "train.steps": 1, "noise.distribution": "uniform"}
    gankit.train("ring-2d", overrides, run_dir=uniform, progress=False)
    assert main(["sample", str(uniform), "--truncation", "0.5", "-o", str(tmp_path / "u.npy")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"error: {uniform}: truncation applies to a normal prior (BigGAN's truncation trick); "
        "this run draws z from noise.distribution=uniform"
    ]
    assert not (tmp_path / "u.npy").exists()
    run = gankit.load(uniform)
    assert run.sample(4).abs().max() <= 1e9  # without truncation it samples as before
    run.config = run.config.model_copy(update={"task": gankit.resolve("pix2pix-edges2digits").task})
    with pytest.raises(ConfigError, match="translates images and draws no samples from z"):
        run.sample(4, truncation=0.5)
