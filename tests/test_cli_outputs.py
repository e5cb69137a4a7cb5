"""What sample, translate, info and eval write and say: never over an existing output,
never from a corrupt checkpoint silently, never a traceback for a bad path or a broken run
directory, in bounded memory for many samples, and without the training data for a grid."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.cli import main
from gankit.evaluate import evaluate
from tests.train.test_translation_tasks import PIX2PIX
from tests.train.tiny import TINY_RING

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def cli(capsys, *args):
    """Run ``gankit ARGS`` in this process: (exit status, stdout, stderr lines)."""
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err.strip().splitlines()


def refused(capsys, *args, contains=()):
    """``gankit ARGS`` must fail with status 2 and one ``error:`` line holding ``contains``."""
    status, _, lines = cli(capsys, *args)
    assert status == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for text in contains:
        assert text in lines[0], lines[0]
    return lines[0]


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    """A ring-2d run with checkpoints at steps 10 and 20."""
    path = tmp_path_factory.mktemp("outputs") / "ring"
    overrides = {**TINY_RING, "train.steps": 20, "checkpoint.every": 10}
    gankit.train("ring-2d", overrides, run_dir=path, progress=False)
    return path


@pytest.fixture(scope="module")
def corrupt_ring(ring, tmp_path_factory):
    """A copy of ``ring`` whose newest checkpoint's weights are damaged."""
    path = tmp_path_factory.mktemp("outputs") / "corrupt"
    shutil.copytree(ring, path)
    (path / "checkpoints/step_00000020/models.safetensors").write_bytes(b"garbage")
    return path


@pytest.fixture(scope="module")
def pix2pix(tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs") / "pix2pix"
    gankit.train(None, {**PIX2PIX, "train.steps": 2}, run_dir=path, progress=False)
    return path


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """A tiny image run (checkpoints at steps 2 and 4) whose newest checkpoint is then broken."""
    path = tmp_path_factory.mktemp("outputs") / "digits"
    overrides = {
        "train.steps": 4,
        "checkpoint.every": 2,
        "generator.width": 8,
        "discriminator.width": 8,
        "samples.every": 0,
        "log.tensorboard": False,
        "device": "cpu",
    }
    gankit.train("dcgan-digits8x8", overrides, run_dir=path, progress=False)
    (path / "checkpoints/step_00000004/state.json").write_text('{"format_version": 1, "st')
    return path


# -- item 2: translate never writes over a file ------------------------------------------------


def _write_inputs(folder, names, size=20):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / name)


def test_translate_keeps_every_output_and_never_overwrites(pix2pix, tmp_path, capsys):
    _write_inputs(tmp_path / "in", ["a.png", "b.png", "b.jpg", "c.JPEG"])
    out = tmp_path / "out"
    status, stdout, _ = cli(capsys, "translate", pix2pix, tmp_path / "in", "-o", out)
    assert status == 0
    assert "translated 4 image(s)" in stdout and "wrote 4 file(s)" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg", "b.png", "c.JPEG"]
    assert (out / "b.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "b.jpg").read_bytes().startswith(JPEG_MAGIC)
    assert (out / "c.JPEG").read_bytes().startswith(JPEG_MAGIC)
    assert Image.open(out / "b.jpg").size == (16, 16)

    (out / "b.png").write_bytes(b"keep me")  # the user's own file in the way
    before = snapshot(out)
    line = refused(
        capsys,
        "translate",
        pix2pix,
        tmp_path / "in",
        "-o",
        out,
        contains=("4 of the 4 output files already exist", "b.png", "--overwrite"),
    )
    assert "nothing was written" in line
    assert snapshot(out) == before
    line = refused(capsys, "translate", pix2pix, tmp_path / "in" / "a.png", "-o", out / "b.png")
    assert "b.png already exists" in line and snapshot(out) == before

    status, stdout, _ = cli(capsys, "translate", pix2pix, tmp_path / "in", "-o", out, "--overwrite")
    assert status == 0 and "wrote 4 file(s)" in stdout
    assert (out / "b.png").read_bytes().startswith(PNG_MAGIC)
    assert not list(out.glob(".*"))  # no temporary files left


def test_translate_refuses_to_replace_its_inputs_even_with_overwrite(pix2pix, tmp_path, capsys):
    _write_inputs(tmp_path / "in", ["a.png", "b.png"])
    before = snapshot(tmp_path / "in")
    refused(
        capsys,
        "translate",
        pix2pix,
        tmp_path / "in",
        "-o",
        tmp_path / "in",
        "--overwrite",
        contains=("would replace the input image(s) a.png, b.png",),
    )
    assert snapshot(tmp_path / "in") == before


# -- item 3: which checkpoint was used, and why a newer one was not ----------------------------


def test_sample_says_which_checkpoint_it_used_and_why_the_newest_was_skipped(
    corrupt_ring, tmp_path, capsys
):
    status, stdout, lines = cli(
        capsys, "sample", corrupt_ring, "-n", 16, "-o", tmp_path / "a.npy", "--no-progress"
    )
    assert status == 0 and "(step 10, step_00000010)" in stdout
    assert lines == [
        f"warning: checkpoint step_00000020 of {corrupt_ring} is unloadable "
        "(models.safetensors: corrupt (sha256 does not match state.json)); used step_00000010"
    ]
    status, _, lines = cli(
        capsys, "sample", corrupt_ring, "-n", 16, "-o", tmp_path / "b.npy",
        "--checkpoint", "step_00000010",
    )  # fmt: skip
    assert status == 0 and lines == []
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))

    run = gankit.load(corrupt_ring)
    assert run.checkpoint == corrupt_ring / "checkpoints/step_00000010" and run.step == 10
    assert run.skipped_checkpoints == [
        {
            "checkpoint": "step_00000020",
            "reason": "models.safetensors: corrupt (sha256 does not match state.json)",
        }
    ]
    assert gankit.load(corrupt_ring, "step_00000010").skipped_checkpoints == []


def test_info_marks_unloadable_checkpoints(corrupt_ring, capsys):
    status, stdout, _ = cli(capsys, "info", corrupt_ring)
    assert status == 0
    assert (
        "checkpoints step_00000010, step_00000020 (unloadable: models.safetensors: corrupt "
        "(sha256 does not match state.json))\n"
    ) in stdout


def test_eval_records_the_checkpoint_used_and_the_skipped_one(digits, tmp_path, capsys):
    output = tmp_path / "eval.json"
    status, stdout, lines = cli(
        capsys, "eval", digits, "--metrics", "fid", "--samples", 20, "-o", output
    )
    assert status == 0 and "at step 2 (step_00000002)" in stdout
    assert len(lines) == 1 and lines[0].startswith(
        f"warning: checkpoint step_00000004 of {digits} is unloadable (state.json: corrupt JSON"
    )
    provenance = json.loads(output.read_text())["provenance"]
    assert provenance["checkpoint"] == "step_00000002" and provenance["checkpoint_step"] == 2
    [skipped] = provenance["skipped_checkpoints"]
    assert skipped["checkpoint"] == "step_00000004"
    assert skipped["reason"].startswith("state.json: corrupt JSON")
    clean = evaluate(gankit.load(digits, "step_00000002"), ["fid"], samples=20)["provenance"]
    assert clean["checkpoint"] == "step_00000002" and clean["skipped_checkpoints"] == []


def test_a_checkpoint_of_another_run_is_refused(ring, corrupt_ring, tmp_path, capsys):
    other = corrupt_ring / "checkpoints/step_00000010"
    refused(
        capsys,
        "sample", ring, "--checkpoint", other, "-o", tmp_path / "x.npy",
        contains=(f"is not a checkpoint of {ring} but of run {corrupt_ring}",),
    )  # fmt: skip
    refused(
        capsys,
        "sample", ring, "--checkpoint", "step_00000099", "-o", tmp_path / "x.npy",
        contains=("no such checkpoint folder", "step_00000010, step_00000020"),
    )  # fmt: skip
    assert not (tmp_path / "x.npy").exists()


# -- item 8: no traceback for bad paths or a broken run directory ------------------------------


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("folder", "is a folder; name a .png, .jpg, .jpeg or .npy file"),
        ("new-folder/", "is a folder"),
        ("x.txt", "cannot write samples as '.txt'; name a .png, .jpg or .jpeg file"),
        ("x", "a file without an extension"),
        ("file.png/x.png", "file.png is a file"),
    ],
)
def test_sample_refuses_outputs_it_cannot_write(ring, tmp_path, capsys, output, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.png").write_bytes(b"mine")
    before = snapshot(tmp_path)
    target = f"{tmp_path}/{output}"
    refused(capsys, "sample", ring, "-n", 4, "-o", target, contains=(message,))
    assert snapshot(tmp_path) == before and not (tmp_path / "new-folder").exists()


@pytest.fixture
def read_only_folder(tmp_path):
    """An empty folder nobody may write into: a read-only bind mount as root (root ignores
    permission bits), ``chmod 555`` otherwise."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        bound = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)])
        if bound.returncode != 0:
            pytest.skip("cannot bind-mount read-only here")
        yield folder
        subprocess.run(["umount", str(folder)], check=False)
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_sample_into_a_read_only_folder_is_one_line(ring, read_only_folder, capsys):
    target = read_only_folder / "x.png"
    line = refused(capsys, "sample", ring, "-o", target)
    assert str(target) in line
    assert "Read-only file system" in line or "Permission denied" in line
    assert list(read_only_folder.iterdir()) == []


def test_sample_writes_jpg_as_jpeg_and_refuses_a_huge_picture(ring, tmp_path, capsys):
    status, _, _ = cli(capsys, "sample", ring, "-n", 16, "-o", tmp_path / "s.jpg")
    assert status == 0 and (tmp_path / "s.jpg").read_bytes().startswith(JPEG_MAGIC)
    refused(
        capsys,
        "sample", ring, "-n", 10_000_000, "-o", tmp_path / "big.png",
        contains=("a picture shows at most 200,000 points", "-o big.npy"),
    )  # fmt: skip
    assert not (tmp_path / "big.png").exists()


def test_translate_with_a_run_that_does_not_translate_is_one_line(ring, pix2pix, tmp_path, capsys):
    _write_inputs(tmp_path / "in", ["a.png"])
    refused(
        capsys,
        "translate", ring, tmp_path / "in", "-o", tmp_path / "out",
        contains=("task=unconditional runs do not translate images",),
    )  # fmt: skip
    refused(
        capsys, "sample", pix2pix, "-o", tmp_path / "s.png", contains=("use `gankit translate`",)
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "s.png").exists()


def test_broken_summary_and_config_neither_stop_sample_nor_crash_info(ring, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(ring, run)
    (run / "summary.json").write_text('{"status": "compl')
    (run / "config.yaml").write_text("data: [unclosed\n")
    status, stdout, _ = cli(capsys, "info", run)
    assert status == 0
    assert "config      unreadable (config.yaml: expected ',' or ']'" in stdout
    assert "summary     unreadable (summary.json: " in stdout
    assert "checkpoints step_00000010, step_00000020\n" in stdout
    status, _, _ = cli(capsys, "sample", run, "-n", 8, "-o", tmp_path / "a.npy")
    assert status == 0 and np.load(tmp_path / "a.npy").shape == (8, 2)
    (run / "summary.json").unlink()
    status, _, _ = cli(capsys, "sample", run, "-n", 8, "-o", tmp_path / "a.png")
    assert status == 0 and (tmp_path / "a.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.slow
def test_no_traceback_from_a_real_process(ring, tmp_path):
    """The same refusals end to end: exit status 2, one line, no traceback."""
    for output in (tmp_path, tmp_path / "x.txt"):
        result = subprocess.run(
            [sys.executable, "-m", "gankit", "sample", str(ring), "-o", str(output)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


# -- item 9: many samples in batches ----------------------------------------------------------


def _spy_on_sampler(run):
    """Record the batch size (and labels) of every call of the run's sampler."""
    calls = []
    forward = run.sampler.forward

    def spy(z, *labels):
        calls.append((len(z), *labels))
        return forward(z, *labels)

    run.sampler.forward = spy
    return calls


def test_many_samples_go_to_npy_in_batches(ring, tmp_path, capsys):
    run = gankit.load(ring)
    calls = _spy_on_sampler(run)
    path = run.save_samples(tmp_path / "many.npy", n=200_000, batch_size=8192)
    array = np.load(path, mmap_mode="r")
    assert array.shape == (200_000, 2) and array.dtype == np.float32
    assert [size for size, *_ in calls] == [8192] * 24 + [200_000 - 24 * 8192]
    np.testing.assert_array_equal(array[:8192], run.sample(8192).numpy())  # same z stream
    assert np.isfinite(array).all() and len(np.unique(array[:, 0])) > 190_000
    # n within one batch: exactly Run.sample(n), as before
    small = run.save_samples(tmp_path / "small.npy", n=500)
    np.testing.assert_array_equal(np.load(small), run.sample(500).numpy())
    status, _, _ = cli(capsys, "sample", ring, "-n", 50_000, "-o", tmp_path / "c.npy")
    assert status == 0 and np.load(tmp_path / "c.npy", mmap_mode="r").shape == (50_000, 2)
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_batched_labels_are_those_of_one_call(ring, tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs") / "conditional"
    overrides = {**TINY_RING, "train.steps": 2, "task": "conditional"}
    run = gankit.load(gankit.train("ring-2d", overrides, run_dir=path, progress=False).path)
    calls = _spy_on_sampler(run)
    batches = list(run.sample_batches(100, seed=3, batch_size=7))
    assert sum(len(b) for b in batches) == 100 and max(len(b) for b in batches) == 7
    labels = torch.cat([y for _, y in calls])
    assert torch.equal(labels, run.labels_for(100))
    calls.clear()
    list(run.sample_batches(20, label=3, batch_size=6))
    assert torch.equal(torch.cat([y for _, y in calls]), torch.full((20,), 3))
    with pytest.raises(gankit.GankitError, match="label"):
        run.sample_batches(10, label=run.classes)


# -- item 10: a grid needs only the checkpoint ------------------------------------------------


def test_a_folder_run_samples_a_grid_after_its_data_moved(tmp_path, capsys):
    data = tmp_path / "images"
    _write_inputs(data, [f"{i}.png" for i in range(16)], size=16)
    overrides = {
        "data.name": "folder",
        "data.path": str(data),
        "data.size": 16,
        "train.steps": 2,
        "train.batch_size": 8,
        "generator.width": 8,
        "discriminator.width": 8,
        "samples.every": 0,
        "log.tensorboard": False,
        "device": "cpu",
    }
    run = gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "run", progress=False)
    data.rename(tmp_path / "moved")
    status, stdout, lines = cli(capsys, "sample", run.path, "-n", 16, "-o", tmp_path / "g.png")
    assert status == 0 and lines == [], lines
    grid = Image.open(tmp_path / "g.png")
    side = 4 * (16 + 2) + 2  # 4×4 tiles of 16 pixels, 2 pixels of padding
    assert grid.size == (side, side) and grid.mode == "RGB"
    status, _, _ = cli(capsys, "sample", run.path, "-n", 16, "-o", tmp_path / "g.jpeg")
    assert status == 0 and Image.open(tmp_path / "g.jpeg").format == "JPEG"


def test_a_refused_write_is_one_line_naming_the_path(ring, tmp_path, capsys, monkeypatch):
    """What a read-only folder does to a writer that is not root: mkstemp is refused."""

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("gankit.files.tempfile.mkstemp", read_only)
    for name in ("x.png", "x.npy"):
        refused(
            capsys,
            "sample", ring, "-o", tmp_path / name,
            contains=(f"cannot write {tmp_path / name}: Permission denied",),
        )  # fmt: skip
    assert not list(tmp_path.iterdir())


def test_eval_refuses_an_unwritable_output_before_measuring(digits, tmp_path, capsys):
    (tmp_path / "file.json").write_text("mine")
    status, _, lines = cli(capsys, "eval", digits, "-o", tmp_path / "file.json" / "eval.json")
    assert status == 2 and lines[-1].startswith("error: cannot create folder")
    assert f"{tmp_path / 'file.json'} is a file" in lines[-1] and len(lines) == 2  # + warning
    assert (tmp_path / "file.json").read_text() == "mine"
