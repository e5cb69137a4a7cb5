"""Training throughput against processes, threads, precision and compilation.

Each arm is a real ``gankit train`` of the main job (``dcgan-mnist``, global batch 64)
for ``--steps`` steps, launched as a user would: plain ``python -m gankit`` for one process,
``torchrun --nproc_per_node=N -m gankit`` for N. It reads the run's metrics.jsonl and
reports steps/s (the mean of the records' ``steps_per_s`` after the first ``--warmup``
steps, which hold start-up and compilation) and samples/s (real samples consumed:
global batch × d_steps × steps/s). Prints one table, in one run:

- on the CPU: 1 and 2 processes × 1 and 2 threads per process (fp32), then one process
  of ``--threads`` threads with bf16 and with ``train.compile``;
- on CUDA (when there is one, or with ``--device cuda``): one process with fp32, bf16 and
  fp16, compile off and on, and N = all GPUs with nccl when there are several.

The figures depend on everything else the machine does: run it on an idle machine.

    python benchmarks/scaling.py                       # CPU arms (and CUDA ones if present)
    python benchmarks/scaling.py --steps 300 --json scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import yaml

PRESET = "dcgan-mnist"


@dataclass(frozen=True)
class Arm:
    device: str
    processes: int
    threads: int
    precision: str = "fp32"
    compile: bool = False

    @property
    def label(self) -> str:
        compiled = ", compiled" if self.compile else ""
        return (
            f"{self.device} × {self.processes} process(es), {self.threads} thread(s) each, "
            f"{self.precision}{compiled}"
        )


def cpu_arms(threads: int) -> list[Arm]:
    arms = [Arm("cpu", p, t) for p in (1, 2) for t in (1, 2)]
    arms += [Arm("cpu", 1, threads, "bf16"), Arm("cpu", 1, threads, compile=True)]
    return arms


def cuda_arms() -> list[Arm]:
    arms = [
        Arm("cuda", 1, 1, precision, compiled)
        for precision in ("fp32", "bf16", "fp16")
        for compiled in (False, True)
    ]
    if torch.cuda.device_count() > 1:
        arms += [Arm("cuda", torch.cuda.device_count(), 1, "bf16")]
    return arms


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(arm: Arm, steps: int, run_dir: Path) -> list[str]:
    launcher = [sys.executable, "-m", "gankit"]
    if arm.processes > 1:
        torchrun = str(Path(sys.executable).with_name("torchrun"))
        launcher = [
            torchrun,
            f"--nproc_per_node={arm.processes}",
            "--master-addr=127.0.0.1",
            f"--master-port={free_port()}",
            "-m",
            "gankit",
        ]
    settings = {
        "device": arm.device,
        "train.steps": steps,
        "train.precision": arm.precision,
        "train.compile": str(arm.compile).lower(),
        "log.every": 10,
        "log.tensorboard": "false",
        "samples.every": 0,
        "checkpoint.every": 0,
        "eval": "null",
    }
    overrides = [f"{key}={value}" for key, value in settings.items()]
    return [
        *launcher,
        "train",
        PRESET,
        "--run-dir",
        str(run_dir),
        "--threads",
        str(arm.threads),
        "--no-progress",
        *(item for override in overrides for item in ("--set", override)),
    ]


def measure(arm: Arm, steps: int, warmup: int) -> dict:
    """Train one arm; its steady steps/s and samples/s from metrics.jsonl."""
    with tempfile.TemporaryDirectory() as root:
        run_dir = Path(root) / "run"
        env = {**os.environ, "OMP_NUM_THREADS": str(arm.threads)}
        out = subprocess.run(command(arm, steps, run_dir), env=env, capture_output=True, text=True)
        if out.returncode != 0:
            return {**asdict(arm), "error": out.stderr.strip().splitlines()[-1]}
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
        config = yaml.safe_load((run_dir / "config.yaml").read_text())
    steady = [r["steps_per_s"] for r in records if r.get("kind") == "train" and r["step"] > warmup]
    steps_per_s = sum(steady) / len(steady)
    batch, d_steps = config["train"]["batch_size"], config["train"]["d_steps"]
    return {
        **asdict(arm),
        "steps_per_s": steps_per_s,
        "samples_per_s": batch * d_steps * steps_per_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps per arm")
    parser.add_argument("--warmup", type=int, default=50, help="steps left out of the rate")
    parser.add_argument("--threads", type=int, default=2, help="threads of the bf16/compile arms")
    parser.add_argument("--device", choices=("all", "cpu", "cuda"), default="all")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    arms = cpu_arms(args.threads) if args.device in ("all", "cpu") else []
    if args.device == "cuda" or (args.device == "all" and torch.cuda.is_available()):
        arms += cuda_arms()
    cpu = _cpu_model()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    print(f"torch {torch.__version__}; CPU: {cpu}, {os.cpu_count()} logical CPUs; GPU: {gpu}")
    print(f"{PRESET}, global batch 64, {args.steps} steps per arm, rate after step {args.warmup}")
    print("\n| arm | steps/s | samples/s |\n|---|---|---|")
    results = []
    for arm in arms:
        result = measure(arm, args.steps, args.warmup)
        results.append(result)
        if "error" in result:
            print(f"| {arm.label} | failed: {result['error']} | |", flush=True)
        else:
            rates = f"{result['steps_per_s']:.1f} | {result['samples_per_s']:.0f}"
            print(f"| {arm.label} | {rates} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu, "gpu": gpu, "arms": results}, indent=1))


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "?")


if __name__ == "__main__":
    main()
