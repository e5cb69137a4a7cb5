"""Mode collapse on the 8-Gaussian ring, and three fixes measured with the PacGAN protocol.

A plain (non-saturating) GAN whose generator learns 10× faster than its discriminator
(Adam 1e-3 against 1e-4, β₁ = 0.5) chases whatever region D currently favours: its samples
gather in one tight clump near one or two modes instead of spreading over the ring. The
same networks (MLPs of 3 × 128 units, z ∈ R², batch 128), trained for the same number of
generator steps, then get one fix each:

* minibatch discrimination (Salimans et al. 2016, §3.2): D sees how close each sample lies
  to the rest of its batch, so a clump is easy to reject; 8 kernels of dimension 3 by
  default, not the paper's 100 × 5, whose n²·B·C cost would take the whole time budget;
* WGAN-GP (Gulrajani et al. 2017): the Wasserstein critic with the gradient penalty
  λ = 10, n_critic = 5 and the paper's optimiser, Adam(1e-4, β = (0.5, 0.9)), as in the
  ``wgan-gp`` preset;
* packing (PacGAN, Lin et al. 2018): D scores m samples jointly (``discriminator.pack``).

Each run is scored on 2,500 samples with :func:`gankit.metrics.mode_coverage` (Lin et al.
2018, §5): a sample is high quality within 3σ of its nearest mode, a mode is captured by
one high-quality sample, and the reverse KL compares the modes' histogram with the uniform
one. The mixture is PacGAN's ring (8 modes, radius 1) with σ = 0.02 instead of 0.01 by
default, a less severe 3σ = 0.06 target for runs of 1,000 generator steps; the option
``std`` sets it back. Training runs on one torch thread (the previous setting is
restored): small MLPs gain nothing from a second thread and lose much when the cores are
shared.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from gankit.api import train
from gankit.lab.base import LabError, LabResult, experiment, finish, single_thread
from gankit.metrics import PROTOCOL_SAMPLES, PROTOCOL_THRESHOLD, mode_coverage
from gankit.viz import new_figure

NAME = "mode-collapse"
NEAREST_SHARE = 0.01
"""A mode is occupied when it is the nearest mode of at least this share of the samples."""
# The wgan-gp preset's penalty weight λ, n_critic and optimiser (Gulrajani et al. 2017)
WGAN_GP_WEIGHT = 10.0
WGAN_GP_D_STEPS = 5
WGAN_GP_ADAM = {"name": "adam", "lr": 1e-4, "betas": [0.5, 0.9]}
LOW_QUALITY = 0.1
"""Below this high-quality share a variant's verdict says that its samples are mostly off
the modes."""
LABELS = {"plain": "plain GAN", "minibatch": "minibatch discrimination", "wgan-gp": "WGAN-GP"}


def variant_names(packs: Sequence[int]) -> list[str]:
    """The variants in the order they are trained and drawn: plain first."""
    return ["plain", "minibatch", "wgan-gp", *(f"pack{m}" for m in packs)]


def label(variant: str) -> str:
    if variant.startswith("pack"):
        return f"PacGAN{variant[4:]} (pack {variant[4:]})"
    return LABELS[variant]


def variant_config(
    variant: str,
    *,
    seed: int,
    steps: int,
    batch_size: int,
    width: int,
    depth: int,
    std: float,
    g_lr: float,
    d_lr: float,
    kernels: int,
    kernel_dim: int,
) -> dict[str, Any]:
    """The full config dict of one variant: the plain GAN, or the plain GAN and one fix."""
    adam = {"name": "adam", "betas": [0.5, 0.999]}
    config: dict[str, Any] = {
        "preset": f"{NAME}-{variant}",
        "seed": seed,
        "device": "cpu",
        "data": {"name": "ring", "modes": 8, "radius": 1.0, "std": std},
        "noise": {"dim": 2},
        "generator": {"name": "mlp", "width": width, "depth": depth},
        "discriminator": {"name": "mlp", "width": width, "depth": depth},
        "objective": {"name": "nonsaturating"},
        "train": {
            "steps": steps,
            "batch_size": batch_size,
            "g_optimizer": {**adam, "lr": g_lr},
            "d_optimizer": {**adam, "lr": d_lr},
        },
        "log": {"every": max(1, min(100, steps)), "tensorboard": False},
        "samples": {"every": 0, "count": 512},
        "checkpoint": {"every": 0, "keep": 1},
    }
    if variant == "minibatch":
        config["discriminator"]["minibatch_discrimination"] = {
            "kernels": kernels,
            "kernel_dim": kernel_dim,
        }
    elif variant == "wgan-gp":
        config["objective"] = {"name": "wasserstein"}
        config["regularisers"] = {"gradient_penalty": {"weight": WGAN_GP_WEIGHT}}
        config["train"].update(
            d_steps=WGAN_GP_D_STEPS, g_optimizer=dict(WGAN_GP_ADAM), d_optimizer=dict(WGAN_GP_ADAM)
        )
    elif variant.startswith("pack"):
        config["discriminator"]["pack"] = int(variant[4:])
    elif variant != "plain":
        raise LabError(f"{NAME}: unknown variant '{variant}'")
    return config


def train_and_score(config: dict[str, Any], run_dir: Path, progress: bool) -> dict[str, Any]:
    """Train one variant into ``run_dir`` (replacing an earlier run there) and score 2,500
    samples; the samples (float32 array) come back under ``"samples"``."""
    shutil.rmtree(run_dir, ignore_errors=True)
    wall, cpu = time.perf_counter(), time.process_time()
    run = train(config, run_dir=run_dir, progress=progress)
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    source = run.source
    samples = run.sample(PROTOCOL_SAMPLES, seed=config["seed"])
    score = mode_coverage(samples, source.modes, source.component_stds[:, 0])
    nearest, _ = source.nearest_mode(samples)
    nearest_shares = torch.bincount(nearest, minlength=len(source.modes)).double() / len(samples)
    return {
        "modes": score.modes_captured,
        "modes_total": score.modes_total,
        "high_quality": score.high_quality,
        "reverse_kl": score.reverse_kl,
        "mode_shares": score.mode_shares,
        "modes_occupied": int((nearest_shares >= NEAREST_SHARE).sum()),
        "largest_nearest_share": float(nearest_shares.max()),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "run_dir": str(run_dir),
        "samples": samples.numpy(),
    }


@experiment(NAME, "a plain GAN collapses on the ring; minibatch discrimination, WGAN-GP, packing")
def mode_collapse(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    steps: int = 1000,
    batch_size: int = 128,
    width: int = 128,
    depth: int = 3,
    std: float = 0.02,
    g_lr: float = 1e-3,
    d_lr: float = 1e-4,
    kernels: int = 8,
    kernel_dim: int = 3,
    packs: Sequence[int] = (4,),
    variants: Sequence[str] | None = None,
) -> LabResult:
    """Train the plain GAN and each fix for ``steps`` generator steps on the ring and score
    them with the PacGAN protocol. ``variants`` picks a subset of plain, minibatch,
    wgan-gp, pack<m> (default: all, with m in ``packs``)."""
    packs = [int(m) for m in packs]
    if (
        steps < 1
        or batch_size < 1
        or width < 1
        or depth < 1
        or std <= 0
        or g_lr <= 0
        or d_lr <= 0
        or kernels < 1
        or kernel_dim < 1
        or any(m < 2 for m in packs)
    ):
        raise LabError(
            f"{NAME}: needs steps, batch_size, width, depth, kernels, kernel_dim ≥ 1, std, "
            f"g_lr, d_lr > 0 and every pack ≥ 2; got steps={steps}, batch_size={batch_size}, "
            f"width={width}, depth={depth}, std={std}, g_lr={g_lr}, d_lr={d_lr}, "
            f"kernels={kernels}, kernel_dim={kernel_dim}, packs={packs}"
        )
    bad_packs = [m for m in packs if batch_size % m]
    if bad_packs:
        raise LabError(f"{NAME}: batch_size={batch_size} is not a multiple of pack(s) {bad_packs}")
    known = variant_names(packs)
    chosen = known if variants is None else [str(v) for v in variants]
    unknown = [v for v in chosen if v not in known]
    if unknown or not chosen:
        raise LabError(
            f"{NAME}: unknown variant(s) {unknown or '(none chosen)'}; choose from "
            f"{', '.join(known)}"
        )
    settings = dict(
        seed=seed,
        steps=steps,
        batch_size=batch_size,
        width=width,
        depth=depth,
        std=std,
        g_lr=g_lr,
        d_lr=d_lr,
        kernels=kernels,
        kernel_dim=kernel_dim,
    )
    results: dict[str, dict[str, Any]] = {}
    samples: dict[str, np.ndarray] = {}
    with single_thread():
        for variant in chosen:
            config = variant_config(variant, **settings)
            run_dir = Path(out_dir) / "runs" / f"{NAME}-{variant}-seed{seed}"
            result = train_and_score(config, run_dir, progress)
            samples[variant] = result.pop("samples")
            results[variant] = result
    numbers = {
        "settings": {
            **settings,
            "packs": packs,
            "samples": PROTOCOL_SAMPLES,
            "threshold_stds": PROTOCOL_THRESHOLD,
        },
        "variants": results,
    }
    lines = report(results, settings)
    figure = draw(results, samples, std)
    return finish(NAME, numbers, lines, figure, out_dir)


def _score_text(result: dict[str, Any]) -> str:
    kl = result["reverse_kl"]
    kl_text = "n.a. (no high-quality sample)" if math.isnan(kl) else f"{kl:.3f}"
    return (
        f"{result['modes']}/{result['modes_total']} modes captured, "
        f"{result['high_quality']:.1%} high quality, reverse KL {kl_text}"
    )


def report(results: dict[str, dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    """One line per variant, then how each fix compares with the plain GAN."""
    lines = [
        f"ring of 8 Gaussians (radius 1, σ = {settings['std']:g}), seed {settings['seed']}, "
        f"{settings['steps']} generator steps, batch {settings['batch_size']}, MLPs "
        f"{settings['depth']} × {settings['width']}, G Adam {settings['g_lr']:g} / D Adam "
        f"{settings['d_lr']:g} (WGAN-GP: λ = {WGAN_GP_WEIGHT:g}, Adam {WGAN_GP_ADAM['lr']:g}, "
        f"β = (0.5, 0.9), n_critic {WGAN_GP_D_STEPS}); {PROTOCOL_SAMPLES:,} samples scored"
    ]
    for variant, result in results.items():
        occupied = result["modes_occupied"]
        lines.append(
            f"{label(variant)}: {_score_text(result)}; nearest mode of ≥ 1 % of the samples: "
            f"{occupied} mode{'s' * (occupied != 1)} (largest share "
            f"{result['largest_nearest_share']:.0%}); {result['seconds']:.1f} s "
            f"(CPU {result['cpu_seconds']:.1f} s)"
        )
    if "plain" in results:
        plain = results["plain"]
        for variant, result in results.items():
            if variant == "plain":
                continue
            gain = result["modes"] - plain["modes"]
            verdict = (
                f"helps: {gain:+d} modes captured"
                if gain > 0
                else "does not help here: no more modes captured than the plain GAN"
            )
            if result["high_quality"] < LOW_QUALITY:
                verdict += (
                    f"; only {result['high_quality']:.1%} of its samples lie within "
                    f"{PROTOCOL_THRESHOLD:g}σ of a mode after {settings['steps']} steps"
                )
            lines.append(f"{label(variant)} vs plain GAN: {verdict}")
        fixes = {v: r for v, r in results.items() if v != "plain"}
        if fixes:
            best = max(fixes, key=lambda v: (fixes[v]["modes"], fixes[v]["high_quality"]))
            lines.append(
                f"best fix: {label(best)} with {fixes[best]['modes']}/{plain['modes_total']} "
                f"modes against the plain GAN's {plain['modes']}/{plain['modes_total']}"
            )
    return lines


def draw(results: dict[str, dict[str, Any]], samples: dict[str, np.ndarray], std: float) -> Figure:
    """One scatter panel per variant over the modes and their 3σ circles."""
    columns = len(results)
    figure = new_figure(3.3 * columns, 3.8)
    angles = np.arange(8) * 2 * math.pi / 8
    modes = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    limit = 1.6
    for i, (variant, result) in enumerate(results.items()):
        axes = figure.add_subplot(1, columns, i + 1)
        points = samples[variant]
        inside = (np.abs(points) <= limit).all(axis=1)
        axes.scatter(*points[inside].T, s=2, alpha=0.35, color="tab:blue", linewidths=0)
        axes.scatter(*modes.T, s=12, color="tab:red", marker="x", label="modes")
        for mode in modes:
            radius = PROTOCOL_THRESHOLD * std
            axes.add_patch(Circle(tuple(mode), radius, fill=False, color="tab:red", lw=0.6))
        kl = result["reverse_kl"]
        kl_text = "n.a." if math.isnan(kl) else f"{kl:.2f}"
        axes.set_title(
            f"{label(variant)}\n{result['modes']}/{result['modes_total']} modes, "
            f"{result['high_quality']:.0%} HQ, rev. KL {kl_text}, {result['seconds']:.0f} s",
            fontsize=9,
        )
        axes.set_xlim(-limit, limit)
        axes.set_ylim(-limit, limit)
        axes.set_aspect("equal")
        outside = int((~inside).sum())
        if outside:
            axes.set_xlabel(f"{outside} of {len(points)} samples outside the view", fontsize=8)
    return figure
