"""d-memorises: a flexible discriminator separates 256 samples from 256 others perfectly
even when the two distributions nearly coincide; held-out samples tell the truth.

P = N(0, I_d) and Q = N(δ·e₁, I_d) overlap heavily: no classifier beats the Bayes accuracy
Φ(δ/2) (half the samples of each side lie past the midpoint plane), and JS(P‖Q) equals the
1-D JS between N(0, 1) and N(δ, 1), since the other coordinates are shared. A wide MLP
trained on 256 + 256 samples still reaches ~100 % training accuracy and a JS "estimate"
near log 2 on them: it has memorised the points (Arora et al. 2017 on what finite-sample
discriminators can and cannot certify). Scored on 256 + 256 fresh samples, the same D is
no better than chance. With many samples and a modest D the held-out estimate recovers JS.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from gankit.data.toy import GaussianMixture
from gankit.estimate import Estimate, estimate
from gankit.lab.base import LabResult, experiment, finish, single_thread
from gankit.metrics.divergences import exact_divergence
from gankit.viz import new_figure

_LOG2 = math.log(2.0)


def shifted_gaussians_js(shift: float) -> float:
    """JS(N(0, I)‖N(δe₁, I)) = JS(N(0, 1)‖N(δ, 1)), by quadrature."""
    return exact_divergence(
        GaussianMixture([1.0], [[0.0]], [1.0]), GaussianMixture([1.0], [[shift]], [1.0]), "js"
    )


def bayes_accuracy(shift: float) -> float:
    """Best balanced accuracy between N(0, I) and N(δe₁, I): Φ(δ/2)."""
    return float(stats.norm.cdf(shift / 2))


@experiment(
    "d-memorises",
    "256 vs 256 samples: D reaches ~100 % training accuracy; held-out tells the truth",
)
def d_memorises(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    dim: int = 8,
    shift: float = 0.5,
    samples: int = 256,
    width: int = 256,
    depth: int = 3,
    steps: int = 1_500,
    honest_samples: int = 10_000,
) -> LabResult:
    """Train a ``width`` × ``depth`` MLP on ``samples`` points of each distribution in
    R^``dim`` (full batches, ``steps`` steps) and score it on as many fresh points; then the
    same estimate with ``honest_samples`` points each and the default 128 × 2 MLP (1,000
    steps)."""
    generator = torch.Generator().manual_seed(seed)
    mean = torch.zeros(dim)
    mean[0] = shift

    def draw(n: int, centre: torch.Tensor) -> torch.Tensor:
        return centre + torch.randn(n, dim, generator=generator)

    with single_thread():
        memorising = estimate(
            draw(2 * samples, torch.zeros(dim)),
            draw(2 * samples, mean),
            "js",
            holdout=0.5,
            steps=steps,
            batch_size=samples,
            width=width,
            depth=depth,
            eval_every=max(steps // 40, 1),
            seed=seed,
            device="cpu",
            progress=progress,
        )
        honest = estimate(
            draw(honest_samples, torch.zeros(dim)),
            draw(honest_samples, mean),
            "js",
            steps=1_000,
            seed=seed,
            device="cpu",
            progress=progress,
        )
    js = shifted_gaussians_js(shift)
    bayes = bayes_accuracy(shift)
    numbers = {
        "js_exact": js,
        "bayes_accuracy": bayes,
        "memorising": _summary(memorising),
        "honest": _summary(honest),
        "dim": dim,
        "shift": shift,
        "samples": samples,
    }
    m, h = numbers["memorising"], numbers["honest"]
    lines = [
        f"P = N(0, I_{dim}), Q = N({shift}·e₁, I_{dim}): JS = {js:.4f} (log 2 = {_LOG2:.4f}); "
        f"no classifier beats {bayes:.1%} accuracy",
        f"{width}×{depth} MLP on {samples} + {samples} samples: training accuracy "
        f"{m['train_accuracy']:.1%}, JS on its training samples {m['train_value']:.4f}",
        f"the same D on {samples} + {samples} fresh samples: accuracy "
        f"{m['holdout_accuracy']:.1%}, JS bound {m['value']:.4f} (95% CI {m['ci'][0]:.4f} to "
        f"{m['ci'][1]:.4f})",
        f"with {honest_samples} samples each and a 128×2 MLP: held-out JS {h['value']:.4f} "
        f"(95% CI {h['ci'][0]:.4f} to {h['ci'][1]:.4f}), accuracy {h['holdout_accuracy']:.1%}",
    ]
    figure = _draw(memorising, js, bayes)
    return finish("d-memorises", numbers, lines, figure, out_dir)


def _summary(result: Estimate) -> dict:
    return {
        key: value
        for key, value in result.to_dict().items()
        if key in ("value", "ci", "train_value", "train_accuracy", "holdout_accuracy", "curve")
    }


def _draw(result: Estimate, js: float, bayes: float):
    figure = new_figure(11, 4)
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    steps = np.array([c["step"] for c in result.curve])
    left.plot(steps, [c["train_accuracy"] for c in result.curve], label="training samples")
    left.plot(steps, [c["holdout_accuracy"] for c in result.curve], label="held-out samples")
    left.axhline(bayes, color="black", ls=":", label=f"Bayes accuracy {bayes:.1%}")
    left.set_ylim(0.4, 1.02)
    left.set_xlabel("discriminator step")
    left.set_ylabel("accuracy")
    left.set_title("D's accuracy")
    left.legend(fontsize="small")
    right.plot(steps, [c["train"] for c in result.curve], label="on training samples")
    right.plot(steps, [c["holdout"] for c in result.curve], label="on held-out samples")
    right.axhline(js, color="black", ls=":", label=f"true JS {js:.3f}")
    right.axhline(_LOG2, color="grey", ls="--", lw=1, label="log 2")
    right.set_ylim(max(-1.0, min(c["holdout"] for c in result.curve) - 0.05), 0.75)
    right.set_xlabel("discriminator step")
    right.set_ylabel("JS estimate (V + log 4)/2")
    right.set_title("the JS bound D certifies")
    right.legend(fontsize="small")
    return figure
