"""``gankit train`` for a new user: ``--threads`` and its default, plain log lines under
``--no-progress``, run directories named after the data, ``gankit info`` saying what the
run trained on."""

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import api
from gankit.cli import _describe_data, main
from gankit.threads import (
    ThreadChoice,
    choose_threads,
    default_threads,
    set_threads,
    usable_physical_cores,
)
from gankit.train.callbacks import log_line
from gankit.train.rundir import data_label, run_name

TINY = [
    "--set", "generator.width=16", "--set", "discriminator.width=16",
    "--set", "train.batch_size=32", "--set", "samples.every=0",
    "--set", "log.tensorboard=false", "--device", "cpu", "--threads", "1",
]  # fmt: skip


@pytest.fixture(autouse=True)
def keep_torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def cli(capsys, *args):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err.splitlines()


# -- threads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("physical", "online", "load", "threads"),
    [
        (4, 8, 0.0, 4),  # an idle machine: the physical cores
        (4, 8, 5.0, 3),  # 3 CPUs idle
        (4, 8, 5.9, 2),  # ⌊2.1⌋
        (4, 8, 7.5, 1),  # nearly all busy
        (2, 2, 3.64, 1),  # overloaded: still one thread
        (8, 16, 9.99, 6),
        (1, 64, 0.0, 1),  # a one-core cgroup on a big idle host
        (4, 8, float("nan"), 1),
    ],
)
def test_the_default_leaves_busy_cores_alone(physical, online, load, threads):
    assert default_threads(physical, online, load) == threads


def fake_topology(root, pairs):
    """CPU i with (package, core) = pairs[i]."""
    for cpu, (package, core) in enumerate(pairs):
        where = root / f"cpu{cpu}" / "topology"
        where.mkdir(parents=True)
        (where / "physical_package_id").write_text(f"{package}\n")
        (where / "core_id").write_text(f"{core}\n")
    return root


def test_physical_cores_count_hyperthreads_once_and_respect_the_cgroup_quota(tmp_path):
    topology = fake_topology(tmp_path / "cpu", [(0, 0), (0, 1), (0, 0), (0, 1), (1, 0), (1, 0)])
    no_quota = tmp_path / "none"
    assert usable_physical_cores({0, 1, 2, 3, 4, 5}, topology, no_quota) == 3
    assert usable_physical_cores({0, 2}, topology, no_quota) == 1  # two siblings of one core
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")
    assert usable_physical_cores({0, 1, 2, 3, 4, 5}, topology, quota) == 2  # ⌈1.5⌉
    quota.write_text("max 100000\n")
    assert usable_physical_cores({0, 1, 2, 3, 4, 5}, topology, quota) == 3
    assert usable_physical_cores({0, 1, 2}, tmp_path / "missing", no_quota) == 3  # logical


def test_choose_threads_in_order_flag_environment_rule(monkeypatch):
    assert choose_threads(3, {"OMP_NUM_THREADS": "2"}) == ThreadChoice(3, "--threads")
    torch.set_num_threads(2)
    assert choose_threads(None, {"OMP_NUM_THREADS": "2"}) == ThreadChoice(2, "OMP_NUM_THREADS")
    monkeypatch.setattr("gankit.threads.usable_physical_cores", lambda: 4)
    monkeypatch.setattr("gankit.threads.load_average", lambda: 5.5)
    monkeypatch.setattr("gankit.threads.os.cpu_count", lambda: 8)
    choice = choose_threads(None, {})
    assert choice == ThreadChoice(2, "load 5.50 on 8 CPUs, 4 usable physical cores")
    assert str(choice) == "2 CPU threads (load 5.50 on 8 CPUs, 4 usable physical cores)"
    assert str(ThreadChoice(1, "--threads")) == "1 CPU thread (--threads)"
    assert set_threads(3).count == 3 and torch.get_num_threads() == 3


def test_threads_must_be_a_positive_count(capsys):
    for command in (["train", "ring-2d"], ["sample", "run"], ["eval", "run"]):
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--threads", "0"])
        assert exit_.value.code == 2
        assert capsys.readouterr().err == (
            f"error: argument --threads: 0 must be at least 1 (see `gankit {command[0]} --help`)\n"
        )


# -- plain log lines ----------------------------------------------------------------------


def test_a_log_line_reads_step_time_rate_and_losses():
    record = {
        "step": 500, "d_loss": 1.23449, "g_loss": 0.98751, "d_real": 0.6, "d_fake": 0.4,
        "d_acc": 0.5, "steps_per_s": 40.71, "kind": "train",
    }  # fmt: skip
    assert log_line(record, 3000, 12.34) == (
        "step 500/3000  12.3s  40.7 it/s  d_loss 1.234  g_loss 0.988  d_acc 0.500"
    )
    evaluation = {"kind": "eval", "step": 500, "eval/fid": 12.3456, "eval/kid": 0.01234}
    assert log_line(evaluation, 3000, 99.0) == "eval step 500/3000  fid 12.346  kid 0.012"
    assert log_line({"step": 7, "d_loss": float("nan")}, 9, 0.0) == "step 7/9  0.0s  d_loss nan"


LINE = re.compile(
    r"step (\d+)/(\d+)  (\d+\.\d)s  (\d+\.\d) it/s  d_loss (\d\.\d{3})  g_loss (\d\.\d{3})  "
    r"d_acc (\d\.\d{3})"
)


def test_no_progress_prints_a_line_every_log_every_steps_and_on_resume(tmp_path, capsys):
    run = tmp_path / "ring"
    args = ["train", "ring-2d", "--steps", "60", "--set", "log.every=20", *TINY, "--no-progress"]
    status, out, err = cli(capsys, *args, "--run-dir", run)
    assert status == 0 and "completed at step 60/60" in out
    assert err[0] == f"{run}: steps 0 → 60 on cpu, 1 CPU thread (--threads)"
    matches = [LINE.fullmatch(line) for line in err[1:]]
    assert all(matches) and len(matches) == 3, err
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for match, record in zip(matches, records, strict=True):
        assert (int(match[1]), int(match[2])) == (record["step"], 60)
        for group, key in ((5, "d_loss"), (6, "g_loss"), (7, "d_acc")):
            assert match[group] == f"{record[key]:.3f}"
        assert match[4] == f"{record['steps_per_s']:.1f}"
    assert [int(m[1]) for m in matches] == [20, 40, 60]
    first_session = [float(m[3]) for m in matches]
    assert first_session == sorted(first_session)

    status, _, err = cli(
        capsys, "train", "--resume", run, "--steps", "80", "--no-progress", "--threads", "1"
    )
    assert status == 0
    assert err[0] == f"{run}: steps 60 → 80 on cpu, 1 CPU thread (--threads)"
    resumed = LINE.fullmatch(err[1])
    assert resumed is not None and (resumed[1], resumed[2]) == ("80", "80"), err
    assert float(resumed[3]) >= first_session[-1]  # the whole run's time, both sessions
    assert torch.get_num_threads() == 1


def test_with_a_progress_bar_only_the_start_line_is_plain(tmp_path, capsys):
    run = tmp_path / "ring"
    status = main(["train", "ring-2d", "--steps", "4", *TINY, "--run-dir", str(run)])
    err = capsys.readouterr().err
    shown = [line.split("\r")[-1] for line in err.split("\n")]  # as a terminal shows them
    assert status == 0 and shown[0] == f"{run}: steps 0 → 4 on cpu, 1 CPU thread (--threads)"
    assert shown[1].startswith("train: 100%|") and " 4/4 [" in shown[1], shown
    assert not any(LINE.fullmatch(line) for line in shown)


# -- run directories named after the data, and gankit info ---------------------------------


def test_run_names_follow_the_data_when_it_is_not_the_presets():
    stamp = r"-\d{8}-\d{6}"
    overrides = ["data.name=folder", "data.path=my_images/", "train.steps=500"]
    folder = {"name": "folder", "path": "my_images/", "size": 64}
    assert re.fullmatch(f"folder-my_images-steps=500{stamp}", run_name("x", overrides, folder))
    assert re.fullmatch(f"x-name=folder_path=my_images_steps=500{stamp}", run_name("x", overrides))
    assert data_label({"name": "ring", "modes": 8}) == "ring"
    assert data_label({"name": "idx", "images": "~/data/train-images.gz"}) == (
        "idx-train-images.gz"
    )
    assert re.fullmatch(f"folder{stamp}", run_name("x", [], {"name": "folder", "path": "/é/ü"}))


@pytest.mark.parametrize(
    ("preset", "overrides", "other"),
    [
        ("dcgan-mnist", ["data.name=folder", "data.path=my_images/"], True),
        ("dcgan-mnist", ["data.size=16"], False),  # the same data, another option
        ("dcgan-mnist", ["data.name=mnist5k"], False),
        ("ring-2d", ["data.name=grid"], True),
        ("ring-2d", ["train.steps=5"], False),
    ],
)
def test_other_data_is_another_source_or_path(preset, overrides, other):
    from gankit.config import resolve

    data = resolve(preset, overrides).data.model_dump(mode="json")
    assert api._other_data(preset, overrides, data) is other


@pytest.fixture
def my_images(tmp_path):
    """Twelve 20×20 RGB images in two class folders."""
    rng = np.random.default_rng(0)
    for i in range(12):
        folder = tmp_path / "my_images" / "ab"[i % 2]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return tmp_path / "my_images"


def test_training_on_a_folder_names_the_run_and_info_after_the_data(
    my_images, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    status, _, _ = cli(
        capsys, "train", "dcgan-mnist", "--set", "data.name=folder", "--set",
        "data.path=my_images/", "--set", "data.size=16", "--set", "generator.width=8", "--set",
        "discriminator.width=8", "--set", "train.batch_size=4", "--steps", "2", *TINY[6:],
        "--no-progress",
    )  # fmt: skip
    assert status == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(
        r"folder-my_images-size=16_width=8_width=8_batch_size=4_.*-\d{8}-\d{6}", run.name
    )
    status, out, _ = cli(capsys, "info", run)
    assert status == 0
    assert "preset      dcgan-mnist\n" in out
    assert (
        "data        folder (path my_images/): 16×16 images, 3 channels, classes not used\n" in out
    )


def test_info_gives_the_classes_a_conditional_run_used(tmp_path, capsys):
    run = tmp_path / "ring"
    conditional = ["--set", "task=conditional", "--set", "data.modes=5"]
    args = ["train", "ring-2d", "--steps", "2", *conditional, *TINY, "--no-progress"]
    assert cli(capsys, *args, "--run-dir", run)[0] == 0
    out = cli(capsys, "info", run)[1]
    assert "\ndata        ring: 2-D points, 5 classes (0, 1, 2, 3, 4)\n" in out


def test_describe_data_without_a_checkpoint_gives_the_configured_size():
    assert _describe_data({"name": "folder", "path": "x", "size": 64}, None) == (
        "folder (path x): size 64"
    )
    info = {"shape": [1, 28, 28], "classes": 10, "class_names": [str(d) for d in range(10)]}
    assert _describe_data({"name": "mnist5k"}, info) == (
        "mnist5k: 28×28 images, 1 channel, 10 classes (0, 1, 2, 3, 4, …)"
    )
    pairs = {"shape": [3, 32, 32], "classes": 0, "input_shape": [1, 32, 32]}
    assert _describe_data({"name": "aligned", "path": "facades"}, pairs) == (
        "aligned (path facades): 32×32 images, 3 channels, inputs 32×32 with 1 channel, "
        "classes not used"
    )
    assert _describe_data(None, None) == "?"
