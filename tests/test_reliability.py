"""Fault injection: kill -9, SIGTERM, double Ctrl-C, a full disk, corrupt and malformed
checkpoints, a read-only run directory, a second trainer, name collisions.

Each case runs the real command line in a child process (one torch thread) where the fault
is a signal or the file system, and asserts what the user is promised: exit status 0, 2
(one ``error:`` line), 130 or 143; never a traceback; the newest loadable checkpoint whole;
and a resumed run ending on the uninterrupted run's weights bit for bit."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gankit
from gankit.cli import main
from gankit.train.checkpoint import latest_loadable, list_checkpoints, load_checkpoint
from gankit.train.lock import RunLock, RunLockedError

# a ring-2d GAN wide enough that a checkpoint takes a moment to write (3 MB), fast to train
RING = [
    "generator.width=256",
    "discriminator.width=256",
    "train.batch_size=64",
    "log.every=20",
    "samples.every=0",
    "log.tensorboard=false",
    "checkpoint.every=50",
    "checkpoint.keep=2",
    "device=cpu",
]
STEPS = 600
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def gankit_cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gankit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        **kwargs,
    )


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def train_cli(run_dir: Path, *extra: str) -> subprocess.Popen:
    settings = [arg for item in RING for arg in ("--set", item)]
    return gankit_cli(
        "train", "ring-2d", "--run-dir", str(run_dir), "--steps", str(STEPS), "--no-progress",
        *settings, *extra,
    )  # fmt: skip


def resume_cli(run_dir: Path) -> subprocess.Popen:
    return gankit_cli("train", "--resume", str(run_dir), "--no-progress")


def assert_one_error_line(code: int, err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert lines[-1].startswith("error: ")
    assert sum(line.startswith("error: ") for line in lines) == 1


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    newest = list_checkpoints(run_dir / "checkpoints")[-1]
    assert newest.name == f"step_{STEPS:08d}"
    return load_file(newest / "models.safetensors")


def wait_for(condition, timeout: float = 120, poll: float = 0.001) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


def temporary_files(run_dir: Path) -> list[Path]:
    return [p for p in run_dir.rglob(".*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, torch.Tensor]:
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    code, _, err = finish(train_cli(run_dir))
    assert code == 0, err
    return final_weights(run_dir)


@pytest.mark.slow
def test_sigkill_at_five_random_moments_then_resume_gives_the_uninterrupted_weights(
    tmp_path, uninterrupted
):
    """Kills land at random moments and, for two of them, while a checkpoint folder is
    being written (a ``.step_*.tmp`` folder exists)."""
    chooser = random.Random(1234)
    run_dir = tmp_path / "run"
    checkpoints = run_dir / "checkpoints"
    process = train_cli(run_dir)
    for kill in range(5):
        assert wait_for(lambda: list_checkpoints(checkpoints)), "no checkpoint before the kill"
        if kill in (1, 3):  # mid-write: as soon as a temporary checkpoint folder appears
            wait_for(lambda: any(checkpoints.glob(".step_*.tmp")), timeout=60, poll=0.0002)
        else:
            time.sleep(chooser.uniform(0.0, 1.5))
        process.kill()
        process.wait()
        if list_checkpoints(checkpoints)[-1].name == f"step_{STEPS:08d}":
            break  # it finished before the kill landed
        process = resume_cli(run_dir)
    else:
        code, _, err = finish(process)
        assert code == 0, err
    if process.returncode not in (0, None):
        code, _, err = finish(resume_cli(run_dir))
        assert code == 0, err
    weights = final_weights(run_dir)
    assert weights.keys() == uninterrupted.keys()
    for name, value in uninterrupted.items():
        assert torch.equal(weights[name], value), name
    assert temporary_files(run_dir) == []


@pytest.mark.slow
def test_sigterm_checkpoints_exits_143_and_resumes_to_the_uninterrupted_weights(
    tmp_path, uninterrupted
):
    run_dir = tmp_path / "run"
    process = train_cli(run_dir)
    assert wait_for(lambda: list_checkpoints(run_dir / "checkpoints"))
    process.send_signal(signal.SIGTERM)
    code, _, err = finish(process)
    assert code == 143, err
    assert "Traceback" not in err and "SIGTERM received" in err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["signal"] == "SIGTERM"
    assert list_checkpoints(run_dir / "checkpoints")[-1].name == f"step_{summary['step']:08d}"
    assert (run_dir / ".lock").read_text() == ""  # released cleanly

    code, _, err = finish(resume_cli(run_dir))
    assert code == 0, err
    weights = final_weights(run_dir)
    assert all(torch.equal(weights[name], value) for name, value in uninterrupted.items())


def test_a_second_ctrl_c_during_the_checkpoint_write_lets_the_write_finish(tmp_path, monkeypatch):
    """The first Ctrl-C asks to stop; the second arrives while the final checkpoint's
    tensors are being saved. The checkpoint must complete and load."""
    from gankit.train import checkpoint as checkpoint_module

    real_save = checkpoint_module.save_file

    def save_with_a_second_ctrl_c(tensors, path):
        os.kill(os.getpid(), signal.SIGINT)
        real_save(tensors, path)

    class FirstCtrlC(gankit.Callback):
        def on_step_end(self, trainer, step):
            if step == 7:
                monkeypatch.setattr(checkpoint_module, "save_file", save_with_a_second_ctrl_c)
                os.kill(os.getpid(), signal.SIGINT)

    run = gankit.train(
        "ring-2d",
        {"train.steps": 50, "log.every": 5, "samples.every": 0, "log.tensorboard": False},
        run_dir=tmp_path / "run",
        callbacks=[FirstCtrlC()],
        progress=False,
    )
    assert run.status == "interrupted" and run.step == 7
    checkpoint, skipped = latest_loadable(run.dir.checkpoints_dir)
    assert checkpoint.step == 7 and skipped == []
    assert temporary_files(run.path) == []


@pytest.mark.slow
def test_ctrl_c_during_start_up_prints_one_line(tmp_path):
    process = train_cli(tmp_path / "run")
    time.sleep(0.3)  # importing torch, building the data and the networks
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == 130, err
    assert "Traceback" not in err


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (mounting one needs root; without it the mocked-ENOSPC test below
    covers the same promise in-process)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the mocked-ENOSPC tests cover it")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.slow
def test_a_full_disk_stops_with_one_line_and_keep_1_makes_room(small_disk):
    """3 MB checkpoints on a 4 MB disk: the second checkpoint does not fit beside the first.
    With keep=2 the run stops with one line, no temporary folder, the first checkpoint
    whole; resumed with keep=1 the older checkpoint is pruned to make room and it goes on."""
    run_dir = small_disk / "run"
    code, _, err = finish(train_cli(run_dir, "--set", "checkpoint.every=100"))
    assert_one_error_line(code, err)
    assert "No space left on device" in err
    assert temporary_files(run_dir) == []
    assert [p.name for p in list_checkpoints(run_dir / "checkpoints")] == ["step_00000100"]
    load_checkpoint(run_dir / "checkpoints" / "step_00000100")

    resumed = gankit_cli(
        "train", "--resume", str(run_dir), "--no-progress", "--set", "checkpoint.keep=1",
        "--set", "train.steps=300",
    )  # fmt: skip
    code, _, err = finish(resumed)
    assert code == 0, err
    assert [p.name for p in list_checkpoints(run_dir / "checkpoints")] == ["step_00000300"]


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    """The same promise without root: the write of the second checkpoint hits ENOSPC."""
    import errno

    from gankit.train import checkpoint as checkpoint_module

    run = gankit.train(
        "ring-2d",
        {"train.steps": 10, "log.every": 5, "samples.every": 0, "log.tensorboard": False},
        run_dir=tmp_path / "run",
        progress=False,
    )

    def disk_full(tensors, path):
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint_module, "save_file", disk_full)
    with pytest.raises(gankit.GankitError, match=r"No space left on device; .*step_00000010 is"):
        gankit.resume(run.path, {"train.steps": 20, "checkpoint.keep": 2}, progress=False)
    monkeypatch.undo()
    assert [p.name for p in list_checkpoints(run.dir.checkpoints_dir)] == ["step_00000010"]
    assert temporary_files(run.path) == []
    assert json.loads(run.dir.summary_path.read_text())["status"] == "failed"
    assert gankit.resume(run.path, {"train.steps": 20}, progress=False).step == 20


MALFORMED_STATES = {
    "a list": lambda state: [state],
    "deep nesting": lambda state: "[" * 100_000 + "]" * 100_000,
    "a step that is not an integer": lambda state: {**state, "step": "ten"},
    "a fractional step": lambda state: {**state, "step": 10.5},
    "no config": lambda state: {k: v for k, v in state.items() if k != "config"},
    "no hashes": lambda state: {k: v for k, v in state.items() if k != "sha256"},
    "one hash": lambda state: {**state, "sha256": {"models.safetensors": "0" * 64}},
    "not JSON": lambda state: "{'step': 20",
    "not UTF-8": lambda state: b"\xff\xfe{}",
}


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory) -> Path:
    run = gankit.train(
        "ring-2d",
        {"train.steps": 20, "checkpoint.every": 10, "log.every": 5, "samples.every": 0,
         "log.tensorboard": False},
        run_dir=tmp_path_factory.mktemp("malformed") / "run",
        progress=False,
    )  # fmt: skip
    return run.path


@pytest.mark.parametrize("case", list(MALFORMED_STATES))
def test_a_malformed_state_json_falls_back_to_the_previous_checkpoint(
    case, two_checkpoints, tmp_path, capsys
):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(two_checkpoints, run_dir)
    state_path = run_dir / "checkpoints" / "step_00000020" / "state.json"
    broken = MALFORMED_STATES[case](json.loads(state_path.read_text()))
    if isinstance(broken, bytes):
        state_path.write_bytes(broken)
    else:
        state_path.write_text(broken if isinstance(broken, str) else json.dumps(broken))

    checkpoint, skipped = latest_loadable(run_dir / "checkpoints")
    assert checkpoint.step == 10 and len(skipped) == 1
    assert skipped[0].path.name == "step_00000020" and skipped[0].reason
    capsys.readouterr()
    assert main(["sample", str(run_dir), "-n", "16", "-o", str(tmp_path / "s.npy")]) == 0
    assert "step_00000020" in capsys.readouterr().err  # the skipped one is named
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    assert latest_loadable(run_dir / "checkpoints")[0].step == 20


@pytest.fixture
def read_only_run(two_checkpoints, tmp_path):
    """A copy of a run on a read-only file system (a bind mount as root, else chmod)."""
    import shutil

    run_dir = tmp_path / "ro" / "run"
    shutil.copytree(two_checkpoints, run_dir)
    if os.geteuid() == 0:
        bound = subprocess.run(["mount", "--bind", "-o", "ro", str(run_dir), str(run_dir)])
        if bound.returncode != 0:
            pytest.skip("cannot bind-mount read-only here")
        yield run_dir
        subprocess.run(["umount", str(run_dir)], check=False)
    else:
        for path in [run_dir, *run_dir.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        yield run_dir
        for path in [run_dir, *run_dir.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)


@pytest.mark.slow
def test_a_read_only_run_directory_resumes_with_one_line_and_samples_fine(read_only_run, tmp_path):
    before = {p: p.read_bytes() for p in read_only_run.rglob("*") if p.is_file()}
    code, _, err = finish(
        gankit_cli("train", "--resume", str(read_only_run), "--no-progress", "--steps", "30")
    )
    assert_one_error_line(code, err)
    assert "Read-only file system" in err or "Permission denied" in err
    assert {p: p.read_bytes() for p in before} == before
    code, _, err = finish(gankit_cli("sample", str(read_only_run), "-o", str(tmp_path / "s.png")))
    assert code == 0, err and (tmp_path / "s.png").is_file()


@pytest.mark.slow
def test_a_second_trainer_is_refused_and_a_dead_holders_lock_taken_over(tmp_path, capsys):
    run_dir = tmp_path / "run"
    process = train_cli(run_dir, "--set", "train.steps=100000")
    try:
        assert wait_for(lambda: list_checkpoints(run_dir / "checkpoints"))
        with pytest.raises(RunLockedError, match=f"being trained by pid {process.pid} on host"):
            gankit.resume(run_dir, progress=False)
        code, _, err = finish(resume_cli(run_dir))
        assert_one_error_line(code, err)
        assert f"pid {process.pid}" in err
    finally:
        process.kill()
        process.wait()
    assert json.loads((run_dir / ".lock").read_text())["pid"] == process.pid
    capsys.readouterr()
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        assert json.loads((run_dir / ".lock").read_text())["pid"] == os.getpid()
        assert f"left by pid {process.pid} on host" in capsys.readouterr().err
    finally:
        lock.release()
    assert (run_dir / ".lock").read_text() == ""


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, capsys):
    run = gankit.train(
        "ring-2d",
        {"train.steps": 5, "log.every": 5, "samples.every": 0, "log.tensorboard": False},
        run_dir=tmp_path / "run",
        progress=False,
    )
    (run.path / ".lock").write_text(json.dumps({"pid": 999999, "host": "gone"}) + "\n")
    resumed = gankit.resume(run.path, {"train.steps": 10}, progress=False)
    assert resumed.step == 10
    assert "taking over the lock" in capsys.readouterr().err


@pytest.mark.slow
def test_an_existing_run_dir_is_refused_and_left_untouched(tmp_path):
    run_dir = tmp_path / "run"
    code, _, err = finish(train_cli(run_dir, "--steps", "10"))
    assert code == 0, err
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    code, _, err = finish(train_cli(run_dir, "--steps", "10"))
    assert_one_error_line(code, err)
    assert f"'{run_dir}' already exists" in err and "--resume" in err
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "run-2").exists()


@pytest.mark.slow
def test_an_exploding_run_exits_2_with_strict_json_and_no_checkpoint_promised(tmp_path):
    """lr = 1000 sends the losses to ±inf before any checkpoint: a clear line that says no
    checkpoint exists, status diverged, and a metrics.jsonl that strict parsers accept."""
    run_dir = tmp_path / "run"
    process = gankit_cli(
        "train", "ring-2d", "--run-dir", str(run_dir), "--no-progress", "--steps", "200",
        "--set", "train.g_optimizer.name=sgd", "--set", "train.g_optimizer.lr=1000",
        "--set", "train.d_optimizer.name=sgd", "--set", "train.d_optimizer.lr=1000",
        "--set", "log.every=5", "--set", "samples.every=0", "--set", "log.tensorboard=false",
    )  # fmt: skip
    code, _, err = finish(process)
    assert_one_error_line(code, err)
    assert "training diverged" in err and "No checkpoint was written" in err
    assert not (run_dir / "checkpoints").exists()

    def strict(token: str) -> None:
        raise ValueError(f"not strict JSON: {token}")

    records = [
        json.loads(line, parse_constant=strict)
        for line in (run_dir / "metrics.jsonl").read_text().splitlines()
    ]
    last = [r for r in records if r["kind"] == "train"][-1]
    assert last["nonfinite"] and all(last[k] is None for k in last["nonfinite"])
    verdict = records[-1]  # the diagnosis of the record, after it
    assert verdict["event"] == "diagnosis" and verdict["code"] == "divergence"
    summary = json.loads((run_dir / "summary.json").read_text(), parse_constant=strict)
    assert summary["status"] == "diverged" and summary["checkpoint"] is None
