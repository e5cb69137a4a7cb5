"""Sample quality against wall-clock time: the main job as shipped against a plain DCGAN.

Each arm trains on MNIST-5k for at most ``--budget`` seconds of training (``train.max_seconds``;
the main job ends earlier if its steps run out); a checkpoint is written as the training
clock passes each of ``--at`` seconds, and afterwards every checkpoint is scored by
:func:`gankit.evaluate.evaluate` (digits-FID and class coverage on 1,000 generated digits,
z seed 0, against the shipped classifier's 1,000 held-out digits). Evaluation and checkpoint
scoring happen after training, outside the clock. Prints one table per arm, mean ± std over
seeds, and with ``--plot`` draws the FID curves.

    python benchmarks/time_to_quality.py --seeds 3 --threads 2 --plot time_to_quality.png
    python benchmarks/time_to_quality.py --arms main --ablation --steps 4000 --threads 1

Arms (``--arms``, comma-separated; ``--ablation`` adds the ablation arms):

- ``main``: the main job (``gankit train``), as shipped;
- ``dcgan``: a plain DCGAN (Radford et al. 2016) on the same data: DCGAN nets with batch
  norm, the non-saturating loss, Adam(2e-4, 0.5), no augmentation, no regulariser, no EMA;
- ``no-ema``, ``no-lr-decay``, ``narrow-g`` (G of width 32), ``lr-2e-4``: the main job with one
  part taken away; ``diffaugment`` (translation and cutout, Zhao et al. 2020) and
  ``residual-nets`` (SNGAN-style residual G and D of width 32): the main job with a part added
  or swapped in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import gankit
from gankit.evaluate import evaluate
from gankit.train.callbacks import Callback

MAIN = "dcgan-mnist"
LONG = 10**6
"""Steps for the arms bounded by time alone."""

ARMS: dict[str, dict[str, Any]] = {
    "main": {},
    "dcgan": {
        "generator": {"name": "dcgan", "width": 32},
        "discriminator": {"name": "dcgan", "width": 32},
        "objective": {"name": "nonsaturating"},
        "regularisers": {},
        "augment": None,
        "train.ema": None,
        "train.lr_decay": None,
        "train.batch_size": 64,
        "train.g_optimizer": {"name": "adam", "lr": 2e-4, "betas": [0.5, 0.999]},
        "train.d_optimizer": {"name": "adam", "lr": 2e-4, "betas": [0.5, 0.999]},
        "train.steps": LONG,
    },
    "no-ema": {"train.ema": None},
    "no-lr-decay": {"train.lr_decay": None},
    "narrow-g": {"generator.width": 32},
    "lr-2e-4": {"train.g_optimizer.lr": 2e-4, "train.d_optimizer.lr": 2e-4},
    "diffaugment": {"augment": {"name": "diffaugment", "policy": ["translation", "cutout"]}},
    "residual-nets": {
        "generator": {"name": "residual", "width": 32},
        "discriminator": {"name": "residual", "width": 32},
    },
}
ABLATION = ("no-ema", "no-lr-decay", "narrow-g", "lr-2e-4", "diffaugment", "residual-nets")


class CheckpointAtSeconds(Callback):
    """Writes a checkpoint as the session's training clock passes each of ``seconds``."""

    def __init__(self, seconds: list[float]) -> None:
        self.pending = sorted(seconds)
        self.written: dict[float, Path] = {}
        self._start = 0.0

    def on_fit_start(self, trainer) -> None:
        self._start = time.perf_counter() - trainer.elapsed

    def on_step_end(self, trainer, step: int) -> None:
        now = time.perf_counter() - self._start
        while self.pending and now >= self.pending[0]:
            self.written[self.pending.pop(0)] = trainer.save_checkpoint()


def train_arm(
    arm: str, seed: int, budget: float, at: list[float], root: Path, steps: int | None = None
) -> list[dict]:
    """Train one arm with one seed; the scores at each time in ``at`` (and at the end).
    With ``steps``, the arm trains exactly that many steps instead, without a time budget."""
    overrides = {
        **ARMS[arm],
        "seed": seed,
        "device": "cpu",
        "checkpoint.every": 0,  # only the timed ones and the last
        "checkpoint.keep": len(at) + 1,
        "log.tensorboard": False,
    }
    if steps is None:
        overrides["train.max_seconds"] = budget
    else:
        overrides["train.steps"] = steps
        at = []
    clock = CheckpointAtSeconds([t for t in at if t < budget])
    run = gankit.train(
        MAIN, overrides, run_dir=root / f"{arm}-{seed}", callbacks=[clock], progress=False
    )
    points = [(t, path) for t, path in clock.written.items()]
    elapsed = json.loads((run.path / "summary.json").read_text())["wall_seconds"]
    points.append((elapsed, run.checkpoint))
    scores = []
    for seconds, checkpoint in points:
        snapshot = gankit.load(run.path, checkpoint=checkpoint)
        metrics = evaluate(snapshot, ["fid", "classes"])["metrics"]
        scores.append(
            {
                "seconds": seconds,
                "step": snapshot.step,
                "fid": metrics["fid"]["mean"],
                "classes": metrics["classes_covered"]["mean"],
            }
        )
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", default="main,dcgan")
    parser.add_argument("--ablation", action="store_true", help="add " + ", ".join(ABLATION))
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds F..F+N−1")
    parser.add_argument("--json", help="also write every seed's scores to this file")
    parser.add_argument("--budget", type=float, default=300.0, help="training seconds")
    parser.add_argument("--at", default="60,120,180", help="earlier times to score")
    parser.add_argument(
        "--steps", type=int, help="train every arm this many steps instead of for --budget"
    )
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
    parser.add_argument("--plot", help="write the FID curves to this image")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    arms = args.arms.split(",") + (list(ABLATION) if args.ablation else [])
    at = [float(t) for t in args.at.split(",")]
    length = f"{args.steps} steps" if args.steps else f"budget {args.budget:.0f} s"
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"{length}, seeds {list(seeds)}, {torch.get_num_threads()} thread(s)")
    results: dict[str, list[list[dict]]] = {}
    with tempfile.TemporaryDirectory() as root:
        for arm in arms:
            results[arm] = [
                train_arm(arm, seed, args.budget, at, Path(root), args.steps)
                for seed in seeds
            ]
            report(arm, results[arm])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.plot:
        plot(results, args.plot)


def report(arm: str, per_seed: list[list[dict]]) -> None:
    """One table row per scoring time: mean ± std over seeds of each value."""
    print(f"\n{arm}\n| s | steps | digits-FID | classes covered |\n|---|---|---|---|")
    for index in range(len(per_seed[0])):
        rows = [scores[index] for scores in per_seed]
        cells = []
        for key in ("step", "fid", "classes"):
            values = [row[key] for row in rows]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.fmean(values):.1f} ± {spread:.1f}")
        seconds = statistics.fmean(row["seconds"] for row in rows)
        print(f"| {seconds:.0f} | " + " | ".join(cells) + " |", flush=True)


def plot(results: dict[str, list[list[dict]]], path: str) -> None:
    """FID against training seconds, mean over seeds with the spread shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axis = plt.subplots(figsize=(5, 3.4), dpi=120)
    for arm, per_seed in results.items():
        seconds = np.array([[row["seconds"] for row in scores] for scores in per_seed])
        fid = np.array([[row["fid"] for row in scores] for scores in per_seed])
        mean, spread = fid.mean(0), fid.std(0)
        axis.plot(seconds.mean(0), mean, marker="o", label=arm)
        axis.fill_between(seconds.mean(0), mean - spread, mean + spread, alpha=0.2)
    axis.set_xlabel("training seconds (2 CPU cores)")
    axis.set_ylabel("digits-FID (lower is better)")
    axis.set_yscale("log")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
