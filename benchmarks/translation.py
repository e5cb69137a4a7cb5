"""Conditional generation and image-to-image translation on the embedded digits: train the
default presets over several seeds and evaluate each with :func:`gankit.evaluate.evaluate`.

* ``cgan-mnist``: conditional accuracy (the MNIST-5k classifier reads the requested digit;
  goal ≥ 95 %) and the mean per-class digits-FID, on 1,000 generated digits (100 per class);
* ``pix2pix-edges2digits``: classifier accuracy of the digits drawn from the 1,000 held-out
  edge maps (goal ≥ 95 %), SSIM and PSNR against the held-out digits;
* ``cyclegan-digits``: label preservation MNIST → 8×8 and 8×8 → MNIST (goal ≥ 90 %) beside
  its baseline without translation (the target domain's classifier reading the inputs as
  they are), and the cycle-reconstruction L1 of each domain, on the held-out digits.

Prints a Markdown table of mean ± std over seeds with the training wall-clock.

    python benchmarks/translation.py --seeds 3
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

REPORTS = {
    "cgan-mnist": {
        "metrics": ["cacc", "cfid"],
        "samples": 1000,
        "columns": {
            "conditional accuracy": "conditional_accuracy",
            "per-class FID": "class_fid_mean",
        },
    },
    "pix2pix-edges2digits": {
        "metrics": ["labels", "ssim", "psnr"],
        "samples": None,
        "columns": {"classifier accuracy": "label_accuracy", "SSIM": "ssim", "PSNR dB": "psnr"},
    },
    "cyclegan-digits": {
        "metrics": ["labels", "cycle"],
        "samples": None,
        "columns": {
            "labels kept MNIST→8×8": "label_accuracy_ab",
            "labels kept 8×8→MNIST": "label_accuracy_ba",
            "untranslated MNIST read as 8×8": "label_accuracy_ab_unchanged",
            "untranslated 8×8 read as MNIST": "label_accuracy_ba_unchanged",
            "cycle L1 MNIST": "cycle_a",
            "cycle L1 8×8": "cycle_b",
        },
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default=",".join(REPORTS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, help="override each preset's train.steps")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
    parser.add_argument("--keep", help="keep the run directories under this folder")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{args.seeds} seed(s), {torch.get_num_threads()} thread(s), torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or scratch
        for preset in args.presets.split(","):
            report = REPORTS[preset]
            rows: dict[str, list[float]] = {name: [] for name in report["columns"]}
            seconds = []
            for seed in range(args.seeds):
                overrides: dict[str, object] = {"seed": seed, "device": "cpu"}
                if args.steps:
                    overrides["train.steps"] = args.steps
                start = time.perf_counter()
                run = gankit.train(
                    preset, overrides, run_dir=Path(root) / f"{preset}-{seed}", progress=False
                )
                seconds.append(time.perf_counter() - start)
                metrics = evaluate(run, report["metrics"], samples=report["samples"])["metrics"]
                for name, key in report["columns"].items():
                    rows[name].append(metrics[key]["mean"])
            print(f"\n{preset} ({run.step} steps, training {_spread(seconds, 0)} s per seed)")
            print("| " + " | ".join(rows) + " |")
            print("|---" * len(rows) + "|")
            print(
                "| " + " | ".join(_spread(values, 3) for values in rows.values()) + " |", flush=True
            )


def _spread(values: list[float], digits: int) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {std:.{digits}f}"


if __name__ == "__main__":
    main()
