"""A pix2pix run draws no z: every latent-space command refuses it in one line."""

import numpy as np
import pytest
from PIL import Image

import gankit
from gankit.cli import main
from tests.train.test_translation_tasks import PIX2PIX


@pytest.fixture(scope="module")
def pix2pix(tmp_path_factory):
    path = tmp_path_factory.mktemp("latent") / "pix2pix"
    gankit.train(None, {**PIX2PIX, "train.steps": 2}, run_dir=path, progress=False)
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["interpolate", "-o", "w.png"],
        ["neighbours", "-o", "nn.png"],
        ["export", "-o", "g.pt2"],
        ["project", "in.png", "-o", "r.png"],
        ["sample", "-n", "4", "-o", "folder/"],
    ],
    ids=lambda command: command[0],
)
def test_every_command_refuses_a_translation_run(pix2pix, tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.zeros((16, 16), dtype=np.uint8)).save(tmp_path / "in.png")
    name, *rest = command
    assert main([name, str(pix2pix), *rest]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and "a paired run translates images and draws no samples from z" in err[0]
    ), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]  # nothing written
