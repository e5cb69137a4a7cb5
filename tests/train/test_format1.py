"""Run directories written by gankit 0.1.0 before the engine redesign (checkpoint format 1)
still sample, evaluate and resume: the fixture is a ring-2d run paused at step 10 by that
version, and the weights that version reached at step 20 when resumed."""

import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file

import gankit
from gankit.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _copy(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURES / "ring-2d-format1", tmp_path / "run"))


def test_a_format_1_run_loads_and_samples(tmp_path):
    run = gankit.load(_copy(tmp_path))
    assert run.step == 10
    samples = run.sample(64)
    assert samples.shape == (64, 2) and torch.isfinite(samples).all()


def test_a_format_1_run_resumes_to_the_weights_its_own_version_reached(tmp_path):
    resumed = gankit.resume(_copy(tmp_path), progress=False)
    assert resumed.step == 20
    expected = load_file(FIXTURES / "ring-2d-format1-step20-models.safetensors")
    newest = resumed.dir.checkpoints_dir / "step_00000020"
    models = gankit.load(resumed.path, checkpoint=newest)
    for name, value in models.generator.state_dict().items():
        assert torch.equal(value, expected[f"generator.{name}"]), name
    for name, value in models.discriminator.state_dict().items():
        assert torch.equal(value, expected[f"discriminator.{name}"]), name


def test_a_format_1_run_is_described_by_info(tmp_path, capsys):
    run_dir = _copy(tmp_path)
    assert main(["info", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "step_00000010" in out and "unloadable" not in out
