"""Accuracy and cost of ``gankit.estimate`` against exact divergences.

Four pairs with known answers, 1-D and 2-D: a unit Gaussian against its translate by 1.5;
the bimodal mixture 0.7·N(−1.5, 0.35²) + 0.3·N(2, 0.5²) against N(0, 1.5²); the 8-Gaussian
ring (σ = 0.1) against its translate by (0.6, 0.3); N(0, I₂) against N((1, 1), I₂). JS and
the f-divergences are exact by quadrature; W1 is exact for translations (the length of
the shift) and in 1-D from the CDFs. Prints, per pair and divergence, the exact value and
mean ± std over seeds of the held-out estimate, its relative error, the interval's
half-width and how often it covers the exact value, and the seconds per estimate.

    python benchmarks/estimate_accuracy.py --seeds 3 --threads 1
    python benchmarks/estimate_accuracy.py --divergences js,w1,kl --samples 40000 --holdout 0.5
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from gankit.data.toy import GaussianMixture
from gankit.estimate import DIVERGENCES, estimate
from gankit.metrics.divergences import exact_reference


def _ring(shift: tuple[float, float]) -> GaussianMixture:
    angles = [2 * math.pi * k / 8 for k in range(8)]
    means = [[math.cos(a) + shift[0], math.sin(a) + shift[1]] for a in angles]
    return GaussianMixture([1.0] * 8, means, [0.1] * 8)


def pairs() -> dict[str, tuple[GaussianMixture, GaussianMixture, float | None]]:
    """name → (P, Q, W1 when it is known beyond the 1-D CDF formula)."""
    return {
        "N(0,1) vs N(1.5,1)": (
            GaussianMixture([1.0], [[0.0]], [1.0]),
            GaussianMixture([1.0], [[1.5]], [1.0]),
            None,
        ),
        "bimodal vs N(0,1.5²)": (
            GaussianMixture([0.7, 0.3], [[-1.5], [2.0]], [0.35, 0.5]),
            GaussianMixture([1.0], [[0.0]], [1.5]),
            None,
        ),
        "ring vs ring+(0.6,0.3)": (_ring((0.0, 0.0)), _ring((0.6, 0.3)), math.hypot(0.6, 0.3)),
        "N(0,I₂) vs N((1,1),I₂)": (
            GaussianMixture([1.0], [[0.0, 0.0]], [1.0]),
            GaussianMixture([1.0], [[1.0, 1.0]], [1.0]),
            math.sqrt(2.0),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--divergences", default="js,w1")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=40_000)
    parser.add_argument("--holdout", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=2_000)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    divergences = args.divergences.split(",")
    unknown = set(divergences) - set(DIVERGENCES)
    if unknown:
        parser.error(f"unknown divergences {sorted(unknown)}; choose from {DIVERGENCES}")
    print(
        f"{args.samples} samples per side, {args.holdout:.0%} held out, {args.steps} steps, "
        f"{args.seeds} seeds, {torch.get_num_threads()} thread(s)"
    )
    print(
        "| P vs Q | divergence | exact | estimate (mean ± std) | relative error | "
        "CI half-width | CI covers exact | s per estimate |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (p, q, w1) in pairs().items():
        for divergence in divergences:
            exact = (
                w1 if divergence == "w1" and w1 is not None else exact_reference(p, q, divergence)
            )
            if exact is None:
                continue
            values, widths, covered, seconds = [], [], 0, []
            for seed in range(args.seeds):
                start = time.perf_counter()
                result = estimate(
                    p,
                    q,
                    divergence,
                    samples=args.samples,
                    holdout=args.holdout,
                    steps=args.steps,
                    seed=seed,
                    device="cpu",
                )
                seconds.append(time.perf_counter() - start)
                values.append(result.value)
                widths.append((result.ci[1] - result.ci[0]) / 2)
                covered += result.ci[0] <= exact <= result.ci[1]
            mean = statistics.fmean(values)
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            errors = [abs(v - exact) / exact for v in values]
            print(
                f"| {name} | {divergence} | {exact:.4f} | {mean:.4f} ± {spread:.4f} | "
                f"{statistics.fmean(errors):.1%} (max {max(errors):.1%}) | "
                f"{statistics.fmean(widths):.4f} | {covered}/{len(values)} | "
                f"{statistics.fmean(seconds):.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
