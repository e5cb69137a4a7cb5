"""Why a generator at all: when the future has two outcomes, L2 regression predicts neither.

The video-prediction example of the GAN story, with one number for the next frame. Each input
x ~ N(0, I_d) has the target y = s, with s = ±1 a fair coin independent of x: the car in
the next frame turns left or right, never straight on. Any prediction ŷ(x) has expected
squared error E[(y − ŷ)²] = 1 + ŷ², least at ŷ = E[y | x] = 0, so a regression network f
trained with the L2 (mean squared) loss learns the conditional mean: the blurred average of
the two futures, which is neither of them.

A conditional GAN (Mirza & Osindero 2014) learns the conditional distribution instead:
G(x, z) takes the noise z ~ N(0, I_k) concatenated to x, and D(x, y) judges the pair, x
concatenated with y, real (y from the data) or fake (y = G(x, z)); here with the
non-saturating loss (Goodfellow et al. 2014, §3). Every draw of z gives one plausible
future, and the draws for one x come out +1 or −1 about half the time each, whatever x.
By the L2 measure G is worse (its error is about 2: an independent guess of ±1 misses by 2
half the time), which is the point: the L2 loss rewards the blur.

Both models are MLPs of the same size (``MLPGenerator`` for f and G, ``MLPDiscriminator``
for D), trained for the same number of Adam steps on fresh batches of the task. They are
scored on fresh test inputs, one output per input for f and ``draws`` outputs (one per z)
per input for G: the share within 0.2 of 0 and within 0.2 of ±1, and G's share near each
sign. The noise has k = 4 dimensions by default: with k = 1 a few seeds in twenty let G
collapse onto one outcome. Training runs on one torch thread (the previous setting is
restored).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from tqdm import tqdm

from gankit.lab.base import LabError, LabResult, experiment, finish, single_thread
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.objectives.gan import minimax_d_loss, nonsaturating_g_loss
from gankit.viz import new_figure

NAME = "why-generate"
TOLERANCE = 0.2
"""An output counts as near a value when it lies within this distance of it."""
VIEW = (-1.5, 1.5)
"""The range of outputs drawn; outputs outside are counted in the outer bins."""
BINS = 120
# Seeds of the separate random streams, offset from 1000·seed
_REGRESSION_DATA, _CGAN_DATA, _TEST_DATA, _INIT = range(4)


def _stream(seed: int, offset: int) -> torch.Generator:
    """The random stream ``offset`` of ``seed``: changing one part's budget leaves the
    others' draws alone."""
    return torch.Generator().manual_seed(1000 * seed + offset)


def draw_task(n: int, x_dim: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` pairs of the task: x ~ N(0, I_d) of shape (n, d) and y = ±1, a fair coin
    independent of x, of shape (n, 1)."""
    x = torch.randn(n, x_dim, generator=generator)
    y = 2 * torch.randint(0, 2, (n, 1), generator=generator).float() - 1
    return x, y


def near_shares(outputs: np.ndarray, tolerance: float = TOLERANCE) -> dict[str, float]:
    """Shares of ``outputs`` within ``tolerance`` of 0, of +1, of −1 and of either ±1."""
    plus = np.abs(outputs - 1) < tolerance
    minus = np.abs(outputs + 1) < tolerance
    return {
        "near_zero": float(np.mean(np.abs(outputs) < tolerance)),
        "near_targets": float(np.mean(plus | minus)),
        "near_plus": float(np.mean(plus)),
        "near_minus": float(np.mean(minus)),
    }


def _summary(outputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """The near-shares of the outputs, their mean and std, and their squared error against
    the targets drawn for the same inputs."""
    return {
        **near_shares(outputs),
        "mean": float(outputs.mean()),
        "std": float(outputs.std()),
        "mse": float(np.mean((outputs - targets) ** 2)),
        "outputs": int(outputs.size),
    }


def train_regression(
    f: MLPGenerator,
    *,
    x_dim: int,
    steps: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
    progress: bool,
) -> list[float]:
    """Fit f(x) to y with the L2 loss E[(f(x) − y)²] by Adam on fresh batches; the losses."""
    optimiser = torch.optim.Adam(f.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(steps), desc=f"{NAME}: L2", disable=not progress, leave=False):
        x, y = draw_task(batch_size, x_dim, generator)  # (B, d), (B, 1)
        loss = F.mse_loss(f(x), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def generate(
    g: MLPGenerator, x: torch.Tensor, z_dim: int, generator: torch.Generator
) -> torch.Tensor:
    """G(x, z) with a fresh z ~ N(0, I_k) per row of x, joined to x by concatenation."""
    z = torch.randn(x.shape[0], z_dim, generator=generator)  # (B, k)
    return g(torch.cat([x, z], dim=1))  # (B, d + k) → (B, 1)


def train_cgan(
    g: MLPGenerator,
    d: MLPDiscriminator,
    *,
    x_dim: int,
    z_dim: int,
    steps: int,
    batch_size: int,
    lr: float,
    generator: torch.Generator,
    progress: bool,
) -> dict[str, list[float]]:
    """Train the conditional GAN: per step one D update on real pairs (x, y) against fake
    pairs (x, G(x, z)), then one G update with the non-saturating loss; the losses."""
    # β₁ = 0.5 as in DCGAN (Radford et al. 2016)
    g_optimiser = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    d_optimiser = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
    losses: dict[str, list[float]] = {"d": [], "g": []}
    for _ in tqdm(range(steps), desc=f"{NAME}: cGAN", disable=not progress, leave=False):
        x, y = draw_task(batch_size, x_dim, generator)  # (B, d), (B, 1)
        with torch.no_grad():
            fake = generate(g, x, z_dim, generator)  # (B, 1)
        real_logits = d(torch.cat([x, y], dim=1))  # (B, d + 1) → (B,)
        fake_logits = d(torch.cat([x, fake], dim=1))
        d_loss = minimax_d_loss(real_logits, fake_logits)
        d_optimiser.zero_grad(set_to_none=True)
        d_loss.backward()
        d_optimiser.step()

        x, _ = draw_task(batch_size, x_dim, generator)
        g_loss = nonsaturating_g_loss(d(torch.cat([x, generate(g, x, z_dim, generator)], dim=1)))
        g_optimiser.zero_grad(set_to_none=True)
        g_loss.backward()
        g_optimiser.step()
        losses["d"].append(d_loss.item())
        losses["g"].append(g_loss.item())
    return losses


@experiment(NAME, "two equally likely futures: L2 regression predicts their blur, a cGAN picks one")
def why_generate(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 1e-3,
    width: int = 64,
    depth: int = 2,
    x_dim: int = 2,
    z_dim: int = 4,
    samples: int = 1000,
    draws: int = 8,
) -> LabResult:
    """Train an L2 regression net f(x) and a conditional GAN G(x, z) for ``steps`` Adam
    steps each on the two-outcome task in R^``x_dim``, and score them on ``samples`` fresh
    inputs (``draws`` noise draws per input for G)."""
    if (
        steps < 1
        or batch_size < 1
        or lr <= 0
        or width < 1
        or depth < 1
        or x_dim < 1
        or z_dim < 1
        or samples < 100
        or draws < 2
    ):
        raise LabError(
            f"{NAME}: needs steps, batch_size, width, depth, x_dim and z_dim ≥ 1, lr > 0, "
            f"samples ≥ 100 and draws ≥ 2; got steps={steps}, batch_size={batch_size}, "
            f"lr={lr}, width={width}, depth={depth}, x_dim={x_dim}, z_dim={z_dim}, "
            f"samples={samples}, draws={draws}"
        )
    wall, cpu = time.perf_counter(), time.process_time()
    with single_thread():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1000 * seed + _INIT)
            f = MLPGenerator(x_dim, (1,), width=width, depth=depth)
            g = MLPGenerator(x_dim + z_dim, (1,), width=width, depth=depth)
            d = MLPDiscriminator((x_dim + 1,), width=width, depth=depth)
        l2_losses = train_regression(
            f,
            x_dim=x_dim,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            generator=_stream(seed, _REGRESSION_DATA),
            progress=progress,
        )
        gan_losses = train_cgan(
            g,
            d,
            x_dim=x_dim,
            z_dim=z_dim,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            generator=_stream(seed, _CGAN_DATA),
            progress=progress,
        )
        test = _stream(seed, _TEST_DATA)
        x, y = draw_task(samples, x_dim, test)  # (N, d), (N, 1)
        with torch.no_grad():
            regression = f(x)[:, 0].double().numpy()  # (N,)
            repeated = x.repeat_interleave(draws, dim=0)  # (N·draws, d), input i in rows i·draws…
            generated = generate(g, repeated, z_dim, test)[:, 0].double().numpy()  # (N·draws,)
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu

    targets = y[:, 0].double().numpy()
    x_first = x[:, 0].double().numpy()
    per_input = generated.reshape(samples, draws)
    positive = per_input > 0
    left = x_first < 0
    numbers = {
        "settings": {
            "seed": seed,
            "steps": steps,
            "batch_size": batch_size,
            "lr": lr,
            "width": width,
            "depth": depth,
            "x_dim": x_dim,
            "z_dim": z_dim,
            "samples": samples,
            "draws": draws,
            "tolerance": TOLERANCE,
        },
        "regression": {
            **_summary(regression, targets),
            "final_loss": float(np.mean(l2_losses[-100:])),
        },
        "cgan": {
            **_summary(generated, np.repeat(targets, draws)),
            "positive_share_x1_negative": float(positive[left].mean()),
            "positive_share_x1_positive": float(positive[~left].mean()),
            "both_signs": float(np.mean(positive.any(axis=1) & ~positive.all(axis=1))),
            "both_signs_truth": 1 - 2 * 0.5**draws,
            "final_d_loss": float(np.mean(gan_losses["d"][-100:])),
            "final_g_loss": float(np.mean(gan_losses["g"][-100:])),
        },
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }
    lines = report(numbers)
    figure = draw(numbers, x_first, regression, generated)
    return finish(NAME, numbers, lines, figure, out_dir)


def report(numbers: dict[str, Any]) -> list[str]:
    """One line per finding, with its numbers."""
    settings, l2, gan = numbers["settings"], numbers["regression"], numbers["cgan"]
    near = f"within {settings['tolerance']:g} of"
    return [
        f"task: x ~ N(0, I_{settings['x_dim']}), y = ±1 with probability ½ each, independent of "
        f"x: E[y | x] = 0, and a prediction ŷ has squared error 1 + ŷ², least at ŷ = 0",
        f"both models: {settings['width']}×{settings['depth']} MLPs, {settings['steps']} Adam "
        f"steps of batch {settings['batch_size']} (lr {settings['lr']:g}, seed "
        f"{settings['seed']}), {numbers['seconds']:.1f} s (CPU {numbers['cpu_seconds']:.1f} s)",
        f"L2 regression f(x), {l2['outputs']} test inputs: {l2['near_zero']:.1%} {near} 0, "
        f"{l2['near_targets']:.1%} {near} ±1 (mean {l2['mean']:+.3f}, std {l2['std']:.3f}): "
        f"the blurred average, neither outcome",
        f"cGAN G(x, z), {gan['outputs']} outputs ({settings['draws']} z per input): "
        f"{gan['near_targets']:.1%} {near} ±1 (+1: {gan['near_plus']:.1%}, −1: "
        f"{gan['near_minus']:.1%}), {gan['near_zero']:.1%} {near} 0: one outcome or the other",
        f"squared error on the test targets: L2 {l2['mse']:.3f} (the best possible is 1), "
        f"cGAN {gan['mse']:.3f} (an independent ±1 guess scores 2): L2 rewards the blur",
        f"G follows the coin, not x: share of positive outputs "
        f"{gan['positive_share_x1_negative']:.3f} for x₁ < 0 and "
        f"{gan['positive_share_x1_positive']:.3f} for x₁ ≥ 0 (truth 0.5); "
        f"{gan['both_signs']:.1%} of inputs get both signs in their {settings['draws']} draws "
        f"(a fair coin: {gan['both_signs_truth']:.1%})",
    ]


def draw(
    numbers: dict[str, Any], x_first: np.ndarray, regression: np.ndarray, generated: np.ndarray
) -> Figure:
    """Histograms of f(x) and of G(x, z) against the targets ±1 (½ each), and both models'
    outputs against x₁."""
    figure = new_figure(15, 4.5)
    edges = np.linspace(*VIEW, BINS + 1)
    l2, gan = numbers["regression"], numbers["cgan"]
    panels = (
        (regression, "tab:blue", "L2 regression f(x)", f"{l2['near_zero']:.0%} near 0"),
        (generated, "tab:orange", "cGAN G(x, z)", f"{gan['near_targets']:.0%} near ±1"),
    )
    for i, (values, colour, label, finding) in enumerate(panels):
        axes = figure.add_subplot(1, 3, i + 1)
        axes.axvspan(-TOLERANCE, TOLERANCE, color="0.88", zorder=0, label=f"0 ± {TOLERANCE:g}")
        for target in (-1.0, 1.0):
            axes.axvspan(
                target - TOLERANCE,
                target + TOLERANCE,
                color="honeydew",
                zorder=0,
                label=f"±1 ± {TOLERANCE:g}" if target > 0 else None,
            )
        axes.stairs(
            _histogram(values, edges),
            edges,
            fill=True,
            color=colour,
            alpha=0.8,
            label=label,
            zorder=3,
        )
        axes.vlines([-1.0, 1.0], 0, 0.5, color="k", lw=2, label="targets y = ±1, ½ each")
        axes.plot([-1.0, 1.0], [0.5, 0.5], "ko")
        axes.set(
            xlim=VIEW,
            ylim=(0, 1.02),
            xlabel="output",
            ylabel=f"share of outputs per bin of {np.diff(edges)[0]:.3g}",
            title=f"{label}: {finding}",
        )
        axes.legend(fontsize=8, loc="upper right")

    scatter = figure.add_subplot(1, 3, 3)
    draws = numbers["settings"]["draws"]
    scatter.scatter(
        np.repeat(x_first, draws), generated, s=3, alpha=0.3, color="tab:orange", label="G(x, z)"
    )
    scatter.scatter(x_first, regression, s=3, color="tab:blue", label="f(x), L2")
    scatter.axhline(1.0, color="k", lw=1, ls="--", label="targets ±1")
    scatter.axhline(-1.0, color="k", lw=1, ls="--")
    scatter.set(ylim=VIEW, xlabel="x₁", ylabel="output", title="outputs against x₁")
    scatter.legend(fontsize=8, loc="center right", markerscale=3)
    return figure


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of ``values`` in each bin of ``edges``, the values outside counted in the
    outer bins (so that every output shows)."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return counts / len(values)
