"""Steps per second of the main job under ``train.precision`` and ``train.compile``.

Trains the preset (default ``dcgan-mnist``) for ``--steps`` steps once per arm — each
precision with compilation off and on — and prints one table row per arm:

    total steps/s    steps over the whole session's training time (compilation included)
    steady steps/s   the median of the log windows after the first (compiled code, warm)
    first window s   seconds of the first log window (where the compiler runs)

Nothing but the final grid and checkpoint is written (samples and checkpoints every 0
steps, no TensorBoard); runs go to a temporary folder. Run it from the repository root::

    python benchmarks/precision.py                            # 200 steps, fp32 and bf16
    python benchmarks/precision.py --precisions fp16 --steps 50
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import warnings
from pathlib import Path

import torch

import gankit

ARM_SETTINGS = {
    "device": "cpu",
    "samples.every": 0,
    "checkpoint.every": 0,
    "log.tensorboard": False,
}


def train_arm(
    preset: str, precision: str, compile: bool, steps: int, window: int, root: Path
) -> dict[str, float]:
    """One run of ``steps`` steps; its total and steady-state rates."""
    overrides = {
        **ARM_SETTINGS,
        "train.steps": steps,
        "log.every": window,
        "train.precision": precision,
        "train.compile": compile,
    }
    name = f"{precision}-{'compiled' if compile else 'eager'}"
    torch.compiler.reset()  # each arm compiles afresh, within the recompile limit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. an lr_decay that a short run never reaches
        run = gankit.train(preset, overrides, run_dir=root / name, progress=False)
    records = run.metrics()
    seconds = json.loads(run.dir.summary_path.read_text())["wall_seconds"]
    later = [r["steps_per_s"] for r in records[1:]] or [records[0]["steps_per_s"]]
    return {
        "total": steps / seconds,
        "steady": statistics.median(later),
        "first_window": window / records[0]["steps_per_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="dcgan-mnist")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--window", type=int, default=25, help="steps per log window")
    parser.add_argument("--precisions", default="fp32,bf16", help="comma-separated")
    args = parser.parse_args()
    print(
        f"{args.preset}, {args.steps} steps, device cpu, {torch.get_num_threads()} thread(s), "
        f"torch {torch.__version__}"
    )
    print(f"{'precision':<10}{'compile':<9}{'total steps/s':>15}{'steady steps/s':>16}"
          f"{'first window s':>16}")  # fmt: skip
    with tempfile.TemporaryDirectory() as root:
        for precision in args.precisions.split(","):
            for compile in (False, True):
                rates = train_arm(
                    args.preset, precision, compile, args.steps, args.window, Path(root)
                )
                print(
                    f"{precision:<10}{str(compile).lower():<9}{rates['total']:>15.1f}"
                    f"{rates['steady']:>16.1f}{rates['first_window']:>16.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
