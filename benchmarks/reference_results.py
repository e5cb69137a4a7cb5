"""gankit's reference results on MNIST-5k: train presets over several seeds, then evaluate.

Each (preset, seed) trains for ``--steps`` generator steps on the CPU and is scored by
:func:`gankit.evaluate.evaluate` on 1,000 generated digits (z seed 0) against the MNIST-5k
classifier's 1,000 held-out digits. Prints mean ± std over seeds of digits-FID, KID,
precision, recall, coverage, classes covered and the wall-clock seconds of training.

    python benchmarks/reference_results.py --presets dcgan-mnist,lsgan,hinge --seeds 3 --steps 1000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

import gankit
from gankit.evaluate import evaluate

COLUMNS = ("fid", "kid", "precision", "recall", "coverage", "classes_covered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="dcgan-mnist,lsgan,hinge")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{args.steps} steps, {args.seeds} seeds, {torch.get_num_threads()} thread(s)")
    print("| preset | " + " | ".join(COLUMNS) + " | training s |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    with tempfile.TemporaryDirectory() as root:
        for preset in args.presets.split(","):
            rows: dict[str, list[float]] = {column: [] for column in (*COLUMNS, "seconds")}
            for seed in range(args.seeds):
                start = time.perf_counter()
                run = gankit.train(
                    preset,
                    {"train.steps": args.steps, "seed": seed, "device": "cpu"},
                    run_dir=Path(root) / f"{preset}-{seed}",
                    progress=False,
                )
                rows["seconds"].append(time.perf_counter() - start)
                metrics = evaluate(run, ["fid", "kid", "pr", "dc", "classes"])["metrics"]
                for column in COLUMNS:
                    rows[column].append(metrics[column]["mean"])
            cells = [
                f"{statistics.fmean(v):.3f} ± {statistics.stdev(v) if len(v) > 1 else 0:.3f}"
                for v in rows.values()
            ]
            print(f"| {preset} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
