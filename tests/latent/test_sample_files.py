"""gankit sample -o folder/: one PNG per sample, named in sample order, pixels exactly the
grid's mapping of the sampled tensor, class sub-folders for conditional runs, written in
batches, existing files never replaced without --overwrite."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.config import ConfigError
from gankit.data import build_source
from gankit.data.images import FolderOptions
from gankit.files import OutputError
from gankit.latent import sample_files
from gankit.latent.sample_files import save_sample_files


def _pixels(batch):
    """The grid's mapping of samples in [−1, 1] to uint8: round((x + 1)·127.5), clamped."""
    return batch.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def test_files_hold_the_samples_pixel_for_pixel(digits, tmp_path):
    written = save_sample_files(digits, tmp_path / "out", 23, seed=4, batch_size=5)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"{i:06d}.png" for i in range(23)] == [p.name for p in written]
    expected = _pixels(torch.cat(list(digits.sample_batches(23, seed=4, batch_size=5))))
    for i, path in enumerate(written):
        with Image.open(path) as image:
            assert image.mode == "L" and image.size == (8, 8)
            assert np.array_equal(np.asarray(image), expected[i, 0])
    # in one batch (n ≤ the batch size) the z are those of Run.sample(n, seed)
    single = save_sample_files(digits, tmp_path / "one", 6, seed=4)
    expected = _pixels(digits.sample(6, seed=4))
    assert all(
        np.array_equal(np.asarray(Image.open(p)), expected[i, 0]) for i, p in enumerate(single)
    )


def test_existing_files_are_refused_unless_overwrite(digits, tmp_path):
    folder = tmp_path / "out"
    save_sample_files(digits, folder, 12, seed=0)
    before = (folder / "000003.png").read_bytes()
    with pytest.raises(
        OutputError,
        match=r"12 of the 15 sample files already exist in .*out \(000000.png, 000001.png, 000002.png, 000003.png, 000004.png and 7 more\); nothing was written: pass --overwrite",
    ):
        save_sample_files(digits, folder, 15, seed=1)
    assert not (folder / "000014.png").exists()  # nothing was written
    save_sample_files(digits, folder, 15, seed=1, overwrite=True)
    assert len(list(folder.iterdir())) == 15
    assert (folder / "000003.png").read_bytes() != before


def test_a_conditional_run_writes_a_folder_per_class_that_reads_back_labelled(
    conditional, tmp_path
):
    folder = tmp_path / "out"
    written = save_sample_files(conditional, folder, 30, seed=2)
    labels = conditional.labels_for(30)
    assert [p.relative_to(folder).as_posix() for p in written] == [
        f"{int(y)}/{i:06d}.png" for i, y in enumerate(labels)
    ]
    assert sorted(p.name for p in folder.iterdir()) == [str(c) for c in range(10)]
    source = build_source(FolderOptions(path=str(folder)))
    assert source.class_names == [str(c) for c in range(10)] and len(source) == 30
    assert torch.equal(source.labels.sort().values, labels.sort().values)
    one = save_sample_files(conditional, tmp_path / "one", 4, label=6)
    assert [p.relative_to(tmp_path / "one").as_posix() for p in one] == [
        f"6/{i:06d}.png" for i in range(4)
    ]


def test_points_runs_and_files_are_refused(ring, digits, tmp_path):
    with pytest.raises(
        ConfigError, match="generates points, not images: a folder of PNG files needs an image run"
    ):
        save_sample_files(ring, tmp_path / "out", 4)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file; name a folder"):
        save_sample_files(digits, tmp_path / "file", 4)


def test_cli_sample_into_a_folder(digits, tmp_path, capsys):
    target = f"{tmp_path / 'new'}/"
    assert main(["sample", str(digits.path), "-n", "9", "-o", target, "--no-progress"]) == 0
    assert len(list((tmp_path / "new").glob("*.png"))) == 9
    assert "wrote 9 samples" in capsys.readouterr().out
    assert main(["sample", str(digits.path), "-n", "9", "-o", target, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "9 of the 9 sample files already exist" in err[0]
    args = ["sample", str(digits.path), "-n", "9", "-o", str(tmp_path / "new"), "--overwrite"]
    assert main([*args, "--no-progress"]) == 0  # an existing folder without the slash


def test_cli_refuses_a_folder_of_points(ring, tmp_path, capsys):
    assert main(["sample", str(ring.path), "-n", "4", "-o", f"{tmp_path}/pts/"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a folder; name a .png, .jpg, .jpeg or .npy file" in err[0]
    assert not (tmp_path / "pts").exists()


def test_more_files_than_the_file_system_holds_are_refused_up_front(digits, tmp_path, monkeypatch):
    monkeypatch.setattr(sample_files.os, "statvfs", lambda path: SimpleNamespace(f_favail=5))
    with pytest.raises(
        OutputError, match=r"cannot write 6 files into .*out: its file system has room for 5 more"
    ):
        save_sample_files(digits, tmp_path / "out", 6)
    assert not (tmp_path / "out").exists()
    assert len(save_sample_files(digits, tmp_path / "out", 5)) == 5
