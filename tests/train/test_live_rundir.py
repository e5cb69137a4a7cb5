"""The live run directory: status.json through a run's states (SIGTERM and kill -9 of a real
command line included), its heartbeat during a long step, and metrics.jsonl appended to
across a resume so that a reader keeping its byte offset reads every record once."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

import gankit
from gankit.cli import main
from gankit.train import status as status_module
from gankit.train.checkpoint import list_checkpoints
from gankit.train.rundir import RunDir, apply_markers, read_metrics_from
from gankit.train.status import (
    StatusFile,
    describe_status,
    heartbeat_age,
    is_stale,
    read_status,
    stale_reason,
    starting_status,
)
from tests.train.tiny import TINY_RING as TINY

FIXTURES = Path(__file__).parents[1] / "fixtures"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
CLI_RING = [
    "train", "ring-2d", "--steps", "1000000", "--no-progress",
    "--set", "generator.width=16", "--set", "discriminator.width=16",
    "--set", "train.batch_size=32", "--set", "log.every=10", "--set", "samples.every=0",
    "--set", "checkpoint.every=100", "--set", "log.tensorboard=false", "--set", "device=cpu",
]  # fmt: skip


def _train_cli(run_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gankit", *CLI_RING, "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _wait_for(condition, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the child ended early: {process.communicate()}")
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def status(monkeypatch):
    """A heartbeat every 0.05 s unless a test lowers HEARTBEAT_SECONDS itself."""
    monkeypatch.setattr(status_module, "HEARTBEAT_SECONDS", 0.05)


def _status_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gankit-status" and t.is_alive()]


class Snapshots(gankit.Callback):
    """status.json as it is at the end of chosen steps."""

    def __init__(self, steps):
        self.steps, self.seen = steps, {}

    def on_step_end(self, trainer, step):
        if step in self.steps:
            self.seen[step] = read_status(trainer.run.path)


def test_status_goes_from_starting_to_training_paused_and_completed(tmp_path, status):
    run_dir = tmp_path / "run"
    overrides = {**TINY, "train.steps": 20, "checkpoint.every": 10}
    snapshots = Snapshots({3})
    run = gankit.train(
        "ring-2d",
        overrides,
        run_dir=run_dir,
        progress=False,
        callbacks=[snapshots],
        until_step=12,
    )
    training = snapshots.seen[3]
    assert training["state"] == "training" and training["total_steps"] == 20
    assert training["pid"] == os.getpid() and training["schema"] == 1
    assert training["checkpoint"] is None and not is_stale(training)
    assert datetime.fromisoformat(training["started_at"]).tzinfo is not None

    paused = read_status(run_dir)
    assert (paused["state"], paused["step"], paused["reason"]) == ("paused", 12, "fit_end")
    assert paused["checkpoint"] == "step_00000012" and paused["eta_seconds"] is None
    assert paused["steps_per_s"] > 0 and 0 <= heartbeat_age(paused) < 60
    assert _status_threads() == []

    with starting_status(run.dir, step=None):  # what Trainer.resume does after the lock
        starting = read_status(run_dir)
    assert starting["state"] == "starting" and starting["step"] is None
    assert starting["checkpoint"] == "step_00000012" and not is_stale(starting)

    snapshots = Snapshots({15})
    resumed = gankit.resume(run_dir, progress=False, callbacks=[snapshots])
    assert snapshots.seen[15]["state"] == "training"
    done = read_status(run_dir)
    assert resumed.status == "completed"
    assert (done["state"], done["step"], done["total_steps"]) == ("completed", 20, 20)
    assert done["checkpoint"] == "step_00000020" and done["signal"] is done["message"] is None
    assert _status_threads() == []


@pytest.mark.slow
def test_sigterm_leaves_status_interrupted_and_exit_status_143(tmp_path):
    run_dir = tmp_path / "run"
    process = _train_cli(run_dir)
    try:
        _wait_for(lambda: list_checkpoints(run_dir / "checkpoints"), process)
        live = read_status(run_dir)
        assert live["state"] == "training" and live["pid"] == process.pid
        assert live["total_steps"] == 1_000_000 and stale_reason(live) is None
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 143, err
    status = read_status(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (status["state"], status["signal"]) == ("interrupted", "SIGTERM")
    assert status["step"] == summary["step"] and status["message"] is None
    assert status["checkpoint"] == f"step_{summary['step']:08d}" and not is_stale(status)


@pytest.mark.slow
def test_kill_9_leaves_a_training_status_that_info_calls_stale(tmp_path, capsys):
    run_dir = tmp_path / "run"
    process = _train_cli(run_dir)
    try:
        _wait_for(lambda: (read_status(run_dir) or {}).get("state") == "training", process)
    finally:
        process.kill()
        process.wait()
    status = read_status(run_dir)
    assert status["state"] == "training"
    assert stale_reason(status) == f"pid {process.pid} on {status['host']} is not running"
    assert main(["info", str(run_dir)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("state "))
    assert line.startswith("state       training at step ") and "stale: pid" in line


def test_divergence_leaves_status_diverged_with_its_message(tmp_path, status):
    run = gankit.train(
        "ring-2d", {**TINY, "train.steps": 10}, run_dir=tmp_path / "run", progress=False
    )
    explode = {
        "train.steps": 40,
        "train.g_optimizer.name": "sgd",
        "train.g_optimizer.lr": 1e30,
        "train.d_optimizer.name": "sgd",
        "train.d_optimizer.lr": 1e30,
    }
    with pytest.raises(gankit.TrainingDiverged):
        gankit.resume(run.path, explode, allow_config_change=True, progress=False)
    status = read_status(run.path)
    assert status["state"] == "diverged" and status["step"] in (10, 15)
    assert "training diverged" in status["message"] and status["checkpoint"] == "step_00000010"
    assert describe_status(status).startswith(f"diverged at step {status['step']}/40: step ")
    assert _status_threads() == []


def test_the_heartbeat_is_refreshed_while_a_step_takes_long(tmp_path, status, monkeypatch):
    interval = 0.2
    monkeypatch.setattr(status_module, "HEARTBEAT_SECONDS", interval)
    beats: list[dict] = []

    class LongStep(gankit.Callback):
        def on_step_end(self, trainer, step):
            if step != 3:
                return
            deadline = time.monotonic() + 8 * interval
            while time.monotonic() < deadline:
                status = read_status(trainer.run.path)
                if not beats or status["heartbeat_at"] != beats[-1]["heartbeat_at"]:
                    beats.append(status)
                time.sleep(0.005)

    gankit.train(
        "ring-2d",
        {**TINY, "train.steps": 5},
        run_dir=tmp_path / "run",
        progress=False,
        callbacks=[LongStep()],
    )
    heartbeats = beats[1:]  # the first was written before the long step began
    assert len(heartbeats) >= 5
    assert all(
        (b["state"], b["reason"], b["step"]) == ("training", "heartbeat", 3) for b in heartbeats
    )
    assert all(b["steps_per_s"] > 0 and b["eta_seconds"] > 0 for b in heartbeats)
    times = [datetime.fromisoformat(b["heartbeat_at"]) for b in heartbeats]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) < 2 * interval, gaps


def test_a_status_file_that_cannot_be_written_never_stops_training(
    tmp_path, status, monkeypatch, capsys
):
    def disk_full(path, data, indent=1):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    class Slow(gankit.Callback):
        def on_step_end(self, trainer, step):
            time.sleep(0.01)

    monkeypatch.setattr(status_module, "write_json_atomic", disk_full)
    monkeypatch.setattr(status_module, "HEARTBEAT_SECONDS", 0.02)
    run = gankit.train(
        "ring-2d",
        {**TINY, "train.steps": 30},
        run_dir=tmp_path / "run",
        progress=False,
        callbacks=[Slow()],
    )
    assert run.status == "completed" and not (run.path / "status.json").exists()
    err = capsys.readouterr().err
    assert err.count("warning: cannot update") == 1 and "No space left on device" in err
    assert "Traceback" not in err and _status_threads() == []


def test_starting_status_puts_back_the_previous_status_when_setup_fails(tmp_path):
    run = RunDir(tmp_path)
    with pytest.raises(gankit.ConfigError), starting_status(run, 100, step=0):
        assert read_status(tmp_path)["state"] == "starting"
        raise gankit.ConfigError("refused")
    assert not run.status_path.exists()  # there was none: Trainer.start removes the folder

    run.status_path.write_text('{"state": "paused", "step": 7}\n')
    with pytest.raises(KeyboardInterrupt), starting_status(run):
        raise KeyboardInterrupt
    assert run.status_path.read_text() == '{"state": "paused", "step": 7}\n'


def test_a_session_keeps_the_start_time_of_its_setup(tmp_path):
    run = RunDir(tmp_path)
    with starting_status(run, 10, step=0):
        starting = read_status(tmp_path)
    trainer = SimpleNamespace(
        run=run, step=0, config=SimpleNamespace(train=SimpleNamespace(steps=10)), stop_signal=None
    )
    status_file = StatusFile(heartbeat=60)
    status_file.on_fit_start(trainer)
    training = read_status(tmp_path)
    trainer.step = 10
    status_file.on_fit_end(trainer, "completed")
    assert training["state"] == "training" and training["steps_per_s"] is None
    assert training["started_at"] == starting["started_at"]
    done = read_status(tmp_path)
    assert (done["state"], done["step"], done["started_at"]) == (
        "completed",
        10,
        starting["started_at"],
    )
    assert _status_threads() == []


def test_a_reader_keeping_its_byte_offset_reads_every_record_once_across_a_resume(tmp_path, status):
    """A session crashes at step 15 after the checkpoint of step 10 and in the middle of a
    line; the resumed run appends. The reader applies the resume marker to what it had."""
    overrides = {**TINY, "train.steps": 20, "checkpoint.every": 10, "log.every": 2}
    straight = gankit.train("ring-2d", overrides, run_dir=tmp_path / "straight", progress=False)

    class Crash(gankit.Callback):
        def on_step_end(self, trainer, step):
            if step == 15:
                raise RuntimeError("power cut")

    run_dir = tmp_path / "run"
    with pytest.raises(RuntimeError, match="power cut"):
        gankit.train(
            "ring-2d",
            overrides,
            run_dir=run_dir,
            progress=False,
            callbacks=[Crash()],
        )
    assert read_status(run_dir)["state"] == "failed"
    assert read_status(run_dir)["message"] == "power cut"
    metrics = run_dir / "metrics.jsonl"
    with open(metrics, "a") as handle:
        handle.write('{"kind": "train", "step": 16, "d_lo')  # killed mid-write

    seen, offset = read_metrics_from(metrics)  # a dashboard polling the file
    assert [r["step"] for r in seen] == [2, 4, 6, 8, 10, 12, 14]
    before = metrics.read_bytes()
    resumed = gankit.resume(run_dir, progress=False)
    assert metrics.read_bytes().startswith(before)  # appended to, never rewritten
    more, offset = read_metrics_from(metrics, offset)
    assert offset == metrics.stat().st_size and read_metrics_from(metrics, offset)[0] == []
    assert more[0] == {**more[0], "kind": "event", "event": "resume", "step": 10}
    seen += more
    assert len(seen) == len(read_metrics_from(metrics)[0])  # each record read once

    def without_timing(records):
        return [{k: v for k, v in r.items() if k != "steps_per_s"} for r in records]

    train = [r for r in apply_markers(seen) if r["kind"] == "train"]
    assert [r["step"] for r in train] == list(range(2, 21, 2))
    assert without_timing(train) == without_timing(straight.metrics(["train"]))
    assert without_timing(resumed.metrics()) == without_timing(straight.metrics())


def test_read_metrics_applies_markers_keeps_kinds_and_reads_schema_1(tmp_path):
    run = RunDir(tmp_path)
    lines = [
        '{"step": 5, "d_loss": 1.0}',  # schema 1: no kind
        '{"step": 5, "eval/fid": 9.0}',
        '{"step": 10, "d_loss": 2.0}',
        '{"kind": "event", "event": "resume", "step": 5, "schema": 2}',
        '{"kind": "train", "step": 10, "d_loss": 3.0, "schema": 2}',
        '{"kind": "train", "step": 15, "d_lo',  # cut short, then ended by the next session
        '{"kind": "event", "event": "resume", "step": 10, "schema": 2}',
        "[1, 2]",
        '{"kind": "eval", "step": 15, "eval/fid": 4.0, "schema": 2}',
    ]
    run.metrics_path.write_text("\n".join(lines) + "\n" + '{"kind": "train", "st')
    records = run.read_metrics()
    assert [(r["kind"], r["step"]) for r in records] == [
        ("train", 5), ("eval", 5), ("train", 10), ("eval", 15)
    ]  # fmt: skip
    assert records[2]["d_loss"] == 3.0
    assert [r["step"] for r in run.read_metrics(["event"])] == [5, 10]
    raw = run.read_metrics(("train", "eval", "event"), raw=True)
    assert len(raw) == 7 and "kind" not in raw[0]
    _, offset = read_metrics_from(run.metrics_path)
    assert offset == run.metrics_path.stat().st_size - len('{"kind": "train", "st')


def test_a_schema_1_run_resumes_by_appending(tmp_path):
    run_dir = Path(shutil.copytree(FIXTURES / "ring-2d-format1", tmp_path / "run"))
    old = (run_dir / "metrics.jsonl").read_bytes()
    resumed = gankit.resume(run_dir, progress=False)
    assert (run_dir / "metrics.jsonl").read_bytes().startswith(old)
    assert [(r["kind"], r["step"]) for r in resumed.metrics()] == [
        ("train", 5), ("train", 10), ("train", 15), ("train", 20)
    ]  # fmt: skip
    assert [r["step"] for r in resumed.metrics(["event"])] == [10]


def test_describe_status_for_live_stale_and_finished_runs():
    now = datetime.now().astimezone()
    live = {
        "state": "training",
        "step": 120,
        "total_steps": 1000,
        "steps_per_s": 35.24,
        "eta_seconds": 24.97,
        "pid": os.getpid(),
        "host": "elsewhere",
        "heartbeat_at": (now - timedelta(seconds=2)).isoformat(),
    }
    assert describe_status(live, now) == (
        f"training at step 120/1000, 35.2 steps/s, ETA 25 s, heartbeat 2 s ago "
        f"(pid {os.getpid()} on elsewhere)"
    )
    silent = {**live, "heartbeat_at": (now - timedelta(minutes=2)).isoformat()}
    assert stale_reason(silent, now=now) == "no heartbeat for 2 min 0 s"
    assert describe_status(silent, now).endswith(" — stale: no heartbeat for 2 min 0 s")
    assert stale_reason({**live, "heartbeat_at": "yesterday"}) is not None
    finished = {**silent, "state": "interrupted", "signal": "SIGTERM", "eta_seconds": None}
    assert describe_status(finished, now) == (
        "interrupted at step 120/1000 (SIGTERM) (updated 2 min 0 s ago)"
    )
    assert not is_stale(finished, now=now)
    assert describe_status({"state": "starting"}) == "starting (pid ? on ?)"
