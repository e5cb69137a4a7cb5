"""Training under torchrun: DDP with gloo on the CPU, two processes of one thread each.

Each test launches real processes (``torchrun … tests/train/ddp_worker.py JOB``) and reads
the run directory they leave: gradients averaged over ranks equal one process's gradient
at the same global batch; checkpoints resume bit for bit at the same world size and at
another one; a signal to one rank stops every rank with one checkpoint; rank 0 alone
writes; two "machines" (two torchrun launches on 127.0.0.1) train one run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gankit.train.checkpoint import latest_loadable, list_checkpoints, load_checkpoint
from gankit.train.distributed import DistributedError, Ranks, launched_by_torchrun
from tests.train.test_translation_tasks import CYCLEGAN as TRANSLATION_CYCLEGAN

WORKER = Path(__file__).with_name("ddp_worker.py")
TORCHRUN = Path(sys.executable).with_name("torchrun")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
TIMEOUT = 240

RING = {
    "generator.width": 16,
    "discriminator.width": 16,
    "train.batch_size": 64,
    "log.every": 5,
    "samples.every": 0,
    "checkpoint.every": 0,
    "log.tensorboard": False,
    "device": "cpu",
}
DCGAN = {
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 8,
    "train.lr_decay": None,
    "eval": None,
    "log.every": 2,
    "samples.every": 0,
    "checkpoint.every": 3,
    "log.tensorboard": False,
    "device": "cpu",
}
CYCLEGAN = {  # the translation tests' tiny CycleGAN, at a batch of 2 per process
    **TRANSLATION_CYCLEGAN,
    "train.batch_size": 4,
    "train.lr_decay": None,
    "log.every": 2,
    "checkpoint.every": 3,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(job: dict, processes: int = 2, check: bool = True) -> subprocess.CompletedProcess:
    """Run the worker on ``processes`` ranks of one machine."""
    command = [
        str(TORCHRUN),
        f"--nproc_per_node={processes}",
        "--master-addr=127.0.0.1",
        f"--master-port={free_port()}",
        str(WORKER),
        json.dumps(job),
    ]
    out = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=TIMEOUT)
    if check:
        assert out.returncode == 0, out.stderr[-3000:]
    return out


def alone(job: dict) -> subprocess.CompletedProcess:
    """The worker as one plain process (no process group)."""
    out = subprocess.run(
        [sys.executable, str(WORKER), json.dumps(job)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    checkpoint, _ = latest_loadable(run_dir / "checkpoints")
    assert checkpoint is not None
    return checkpoint.models


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# -- without processes ---------------------------------------------------------------------


def test_a_plain_process_is_a_world_of_one():
    ranks = Ranks.current()
    assert (ranks.rank, ranks.world_size, ranks.is_main, ranks.distributed) == (0, 1, True, False)
    assert ranks.local_batch(64) == 64 and ranks.stream_name("data") == "data"
    values = torch.tensor([1.0, 2.0])
    assert ranks.mean(values) is values and ranks.gather("x") == ["x"]


def test_the_global_batch_splits_over_ranks_or_is_refused():
    assert Ranks(rank=1, world_size=4).local_batch(64) == 16
    assert Ranks(rank=1, world_size=4).stream_name("noise") == "noise/rank1"
    with pytest.raises(DistributedError, match=r"batch_size=30 does not divide over 4 .*of 4"):
        Ranks(rank=0, world_size=4).local_batch(30)


def test_torchrun_is_recognised_by_its_environment():
    variables = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "h"}
    assert not launched_by_torchrun(variables)
    assert launched_by_torchrun({**variables, "MASTER_PORT": "1"})


# -- with processes ------------------------------------------------------------------------


def test_two_processes_take_the_step_of_one_at_the_same_global_batch(tmp_path):
    """MLP on the ring with the gradient penalty: 2 ranks × 32 = 1 process × 64 samples."""
    overrides = {
        **RING,
        "objective": {"name": "wasserstein"},
        "regularisers": {"gradient_penalty": {"weight": 10.0}},
        "train.steps": 20,
    }
    job = {"preset": "ring-2d", "overrides": overrides, "same_samples": True}
    torchrun({**job, "run_dir": str(tmp_path / "two")})
    alone({**job, "run_dir": str(tmp_path / "one")})
    two, one = weights(tmp_path / "two"), weights(tmp_path / "one")
    assert two.keys() == one.keys()
    for key in one:
        torch.testing.assert_close(two[key], one[key], atol=1e-5, rtol=0)
    # the statistics are means over ranks: the same records, to float precision
    records = [json.loads(line) for line in (tmp_path / "two/metrics.jsonl").open()]
    single = [json.loads(line) for line in (tmp_path / "one/metrics.jsonl").open()]
    assert len(records) == len(single) == 4
    for a, b in zip(records, single, strict=True):
        for key in ("d_loss", "g_loss", "penalty/gradient_penalty"):
            assert a[key] == pytest.approx(b[key], abs=1e-5), key


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preset", "overrides"),
    [("dcgan-mnist", DCGAN), ("dcgan-mnist", CYCLEGAN)],
    ids=["dcgan", "cyclegan"],
)
def test_a_two_process_run_resumes_bit_for_bit(tmp_path, preset, overrides):
    straight, halves = tmp_path / "straight", tmp_path / "halves"
    torchrun(
        {"preset": preset, "overrides": {**overrides, "train.steps": 6}, "run_dir": str(straight)}
    )
    torchrun(
        {"preset": preset, "overrides": {**overrides, "train.steps": 3}, "run_dir": str(halves)}
    )
    torchrun({"resume": True, "overrides": {"train.steps": 6}, "run_dir": str(halves)})
    assert_same(weights(straight), weights(halves))
    saved = load_checkpoint(list_checkpoints(straight / "checkpoints")[-1])
    assert saved.world_size == 2
    assert any(key.startswith("rank1/rng.") for key in saved.training)


@pytest.mark.slow
def test_a_checkpoint_resumes_on_another_number_of_processes(tmp_path):
    overrides = {**DCGAN, "train.steps": 3}
    two_then_one, one_then_two = tmp_path / "two-then-one", tmp_path / "one-then-two"
    torchrun({"preset": "dcgan-mnist", "overrides": overrides, "run_dir": str(two_then_one)})
    out = alone({"resume": True, "overrides": {"train.steps": 5}, "run_dir": str(two_then_one)})
    assert "written by 2 process(es) and resumes on 1" in out.stderr
    alone({"preset": "dcgan-mnist", "overrides": overrides, "run_dir": str(one_then_two)})
    out = torchrun({"resume": True, "overrides": {"train.steps": 5}, "run_dir": str(one_then_two)})
    assert "written by 1 process(es) and resumes on 2" in out.stderr
    for run, world in ((two_then_one, 1), (one_then_two, 2)):
        checkpoint, _ = latest_loadable(run / "checkpoints")
        assert checkpoint.step == 5 and checkpoint.world_size == world
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["step"] == 5


@pytest.mark.slow
def test_every_rank_ends_with_the_same_weights_buffers_and_average(tmp_path):
    """Weights, spectral norm's power-iteration vectors and G's EMA, with lazy R1 through
    DDP and ADA: identical on both ranks after training. BatchNorm's running statistics
    are rank 0's at the start of every forward (DDP broadcasts buffers) and each rank's
    own after its last one; rank 0's are the ones checkpointed."""
    overrides = {
        **DCGAN,
        "discriminator.spectral_norm": True,
        "discriminator.norm": "none",
        "regularisers": {"r1": {"gamma": 1.0, "every": 2}},
        "augment": {"name": "ada", "interval": 1},
        "train.ema": {"half_life_images": 100, "rampup": None},
        "train.steps": 4,
    }
    report = tmp_path / "fingerprint"
    job = {"preset": "dcgan-mnist", "overrides": overrides, "run_dir": str(tmp_path / "run")}
    torchrun({**job, "fingerprint": str(report)})
    ranks = [json.loads(Path(f"{report}.rank{rank}.json").read_text()) for rank in (0, 1)]
    assert len(ranks[0]) > 20 and any("_u" in key for key in ranks[0])
    shared = [
        {k: v for k, v in digests.items() if "running_" not in k and "num_batches" not in k}
        for digests in ranks
    ]
    assert shared[0] == shared[1]
    assert any(k.startswith("EMA.") for k in shared[0])


def worker_pids(launcher: subprocess.Popen) -> dict[int, int]:
    """rank → pid of the worker processes under a torchrun launcher."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        parent = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
        )
        if parent != launcher.pid:
            continue
        variables = dict(item.split(b"=", 1) for item in environ if b"=" in item)
        if b"RANK" in variables:
            found[int(variables[b"RANK"])] = int(entry.name)
    return found


@pytest.mark.slow
def test_sigterm_to_one_rank_stops_both_with_one_checkpoint(tmp_path):
    run = tmp_path / "run"
    overrides = {**RING, "train.steps": 100000, "log.every": 10}
    job = {"preset": "ring-2d", "overrides": overrides, "run_dir": str(run)}
    command = [
        str(TORCHRUN),
        "--nproc_per_node=2",
        "--master-addr=127.0.0.1",
        f"--master-port={free_port()}",
        str(WORKER),
        json.dumps(job),
    ]
    log = (tmp_path / "launcher.log").open("w")  # a file, not a pipe nobody reads until the end
    launcher = subprocess.Popen(command, env=ENV, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            metrics = run / "metrics.jsonl"
            if metrics.exists() and metrics.read_text().count("\n") >= 3:
                break
            time.sleep(0.2)
        pids = worker_pids(launcher)
        assert sorted(pids) == [0, 1]
        os.kill(pids[1], signal.SIGTERM)
        launcher.wait(timeout=120)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    saved = list_checkpoints(run / "checkpoints")
    assert len(saved) == 1
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    checkpoint = load_checkpoint(saved[0])
    assert checkpoint.step == summary["step"] > 0 and checkpoint.world_size == 2


@pytest.mark.slow
def test_rank_0_alone_writes_the_run_directory(tmp_path):
    run, report = tmp_path / "run", tmp_path / "audit"
    overrides = {**DCGAN, "train.steps": 4, "samples.every": 2}
    torchrun(
        {"preset": "dcgan-mnist", "overrides": overrides, "run_dir": str(run), "audit": str(report)}
    )
    by_rank = {rank: json.loads(Path(f"{report}.rank{rank}.json").read_text()) for rank in (0, 1)}
    assert by_rank[1] == []
    written = {part for _, path in by_rank[0] for part in Path(path).relative_to(run).parts[:1]}
    assert {"config.yaml", "metrics.jsonl", "status.json", "summary.json", "samples"} <= written


@pytest.mark.slow
def test_two_machines_on_one_host_train_one_run(tmp_path):
    """Two torchrun launches, ``--nnodes 2`` of one process each, meeting through c10d."""
    run = tmp_path / "run"
    port = free_port()
    job = {"preset": "ring-2d", "overrides": {**RING, "train.steps": 10}, "run_dir": str(run)}
    paths = [tmp_path / f"machine{index}.log" for index in range(2)]
    logs = [path.open("w") for path in paths]
    machines = [
        subprocess.Popen(
            [
                str(TORCHRUN),
                "--nnodes=2",
                "--nproc_per_node=1",
                "--rdzv-backend=c10d",
                f"--rdzv-endpoint=127.0.0.1:{port}",
                "--rdzv-id=gankit-test",
                str(WORKER),
                json.dumps(job),
            ],
            env=ENV,
            cwd=tmp_path,
            stdout=log,  # files, not pipes: a full pipe would stall one machine and both with it
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        for machine in machines:
            machine.wait(timeout=TIMEOUT)
    finally:
        for machine in machines:
            machine.kill()
    for machine, path in zip(machines, paths, strict=True):
        assert machine.returncode == 0, path.read_text()[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 10
    assert load_checkpoint(list_checkpoints(run / "checkpoints")[-1]).world_size == 2
