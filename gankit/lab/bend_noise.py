"""The first picture of the GAN story: a generator bends N(0, 1) noise into two bumps.

P_data is the lopsided mixture 0.7·N(−1.5, 0.35²) + 0.3·N(2, 0.5²) (the ``bimodal1d``
source). A 1-D MLP generator G (the ``bimodal-1d`` preset: 2 × 64 units, non-saturating
loss, Adam 1e-3, β₁ = 0.5, batch 256; here 4,000 steps with both learning rates decayed
linearly to 0 over the second half, which settles G where a constant rate keeps it
wandering) pushes z ~ N(0, 1) forward. G has to send 70 % of the z-line to the left bump
and 30 % to the right one, so the map z ↦ G(z) rises gently across each bump and steeply
where it jumps the gap between them. The monotone map that does this exactly is the
optimal transport map T(z) = F⁻¹(Φ(z)) (or its mirror F⁻¹(1 − Φ(z))), which jumps at
z = Φ⁻¹(0.7) (or Φ⁻¹(0.3)).

The experiment trains once and captures G on a fixed z of ``samples`` points at several
fractions of training. For each snapshot it measures the share of samples right of the
density's valley between the modes (the truth is 0.3), the mean and std, and W1 between
the samples and P_data itself: W1 = ∫ |F_n(x) − F(x)| dx with F_n the samples' empirical
CDF and F the mixture's exact CDF, integrated on a grid of spacing 10⁻³
(:func:`gankit.metrics.divergences.wasserstein1_1d`). Samples of P_data of the same size
set the noise floor of that figure (their mean W1 over 5 draws). Training runs on one
torch thread (the previous setting is restored).
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
from scipy import special

from gankit.api import train
from gankit.config import resolve
from gankit.data import build_source
from gankit.data.toy import GaussianMixture
from gankit.lab.base import LabError, LabResult, experiment, finish, single_thread
from gankit.metrics.divergences import wasserstein1_1d
from gankit.nets.modes import evaluating
from gankit.train.callbacks import Callback
from gankit.viz import new_figure

NAME = "bend-noise"
SNAPSHOTS = (0.0, 0.1, 0.3, 0.6, 1.0)
"""Fractions of training at which G's samples are drawn."""
CURVE_POINTS = 60
"""Points of the right-share and W1 curves over training."""
FLOOR_REPEATS = 5
"""Samples of P_data whose W1 to P_data is averaged into the noise floor."""
GRID_STEP = 1e-3
"""Spacing of the grid on which CDFs are integrated; its error on W1 is below this."""


class Mixture1d:
    """The exact 1-D mixture of a ``bimodal1d`` source: CDF, moments, valley, quantiles."""

    def __init__(self, source: GaussianMixture) -> None:
        self.source = source
        self.weights = source.weights.numpy()
        self.means = source.modes[:, 0].numpy()
        self.stds = source.component_stds[:, 0].numpy()

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """F(x) = Σ_k w_k Φ((x − μ_k)/σ_k)."""
        z = (np.asarray(x, dtype=np.float64)[..., None] - self.means) / self.stds
        return (self.weights * special.ndtr(z)).sum(axis=-1)

    def density(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            log_p = self.source.log_prob(torch.as_tensor(x, dtype=torch.float64)[:, None])
        return log_p.exp().numpy()

    @property
    def mean(self) -> float:
        return float((self.weights * self.means).sum())

    @property
    def std(self) -> float:
        second = (self.weights * (self.stds**2 + self.means**2)).sum()
        return float(math.sqrt(second - self.mean**2))

    def valley(self) -> float:
        """The density's minimum between the two means: the border of the two modes."""
        grid = np.linspace(self.means.min(), self.means.max(), 20_001)
        return float(grid[np.argmin(self.density(grid))])

    def support(self) -> tuple[float, float]:
        """μ ± 10σ over the components: the mass outside is below 1e-22."""
        return float((self.means - 10 * self.stds).min()), float(
            (self.means + 10 * self.stds).max()
        )

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """F⁻¹(u) by interpolating F on a fine grid."""
        grid = np.linspace(*self.support(), 200_001)
        return np.interp(u, self.cdf(grid), grid)

    def w1(self, samples: np.ndarray) -> float:
        """W1 between the empirical distribution of ``samples`` and the mixture:
        ∫ |F_n − F| dx on a grid of spacing ≤ GRID_STEP covering both."""
        values = np.sort(np.asarray(samples, dtype=np.float64).ravel())
        low, high = self.support()
        low, high = min(low, float(values[0])), max(high, float(values[-1]))
        grid = np.linspace(low, high, int(math.ceil((high - low) / GRID_STEP)) + 1)
        empirical = np.searchsorted(values, grid, side="right") / len(values)
        return wasserstein1_1d(empirical, self.cdf(grid), grid)


class Snapshots(Callback):
    """Captures the sampler's G(z) on a fixed z at chosen steps (step 0 included, at the
    start of training), and the right share and W1 at other chosen steps."""

    def __init__(
        self,
        z: torch.Tensor,
        steps: Sequence[int],
        curve_steps: Sequence[int],
        mixture: Mixture1d,
        threshold: float,
    ) -> None:
        self.z, self.steps, self.curve_steps = z, set(steps), set(curve_steps)
        self.mixture, self.threshold = mixture, threshold
        self.samples: dict[int, np.ndarray] = {}
        self.curve: dict[str, list[float]] = {"step": [], "right_share": [], "w1": []}

    @torch.no_grad()
    def _capture(self, trainer: Any, step: int) -> None:
        if step not in self.steps and step not in self.curve_steps:
            return
        sampler = trainer.sampler
        with evaluating(sampler):
            x = sampler(self.z.to(trainer.device))[:, 0].double().cpu().numpy()
        if step in self.steps:
            self.samples[step] = x
        if step in self.curve_steps:
            self.curve["step"].append(step)
            self.curve["right_share"].append(float((x > self.threshold).mean()))
            self.curve["w1"].append(self.mixture.w1(x))

    def on_fit_start(self, trainer: Any) -> None:
        if trainer.step == 0:
            self._capture(trainer, 0)

    def on_step_end(self, trainer: Any, step: int) -> None:
        self._capture(trainer, step)


def noise_floor(mixture: Mixture1d, samples: int, seed: int, repeats: int = FLOOR_REPEATS) -> float:
    """Mean W1 between ``samples`` draws of P_data and P_data itself, over ``repeats`` draws:
    what a perfect generator would score."""
    values = []
    for i in range(repeats):
        draw = mixture.source.sample(samples, torch.Generator().manual_seed(1000 * seed + i))
        values.append(mixture.w1(draw[:, 0].double().numpy()))
    return float(np.mean(values))


def summary(x: np.ndarray, mixture: Mixture1d, threshold: float) -> dict[str, float]:
    return {
        "right_share": float((x > threshold).mean()),
        "w1": mixture.w1(x),
        "mean": float(x.mean()),
        "std": float(x.std()),
    }


@experiment(NAME, "a 1-D generator bends N(0, 1) into the lopsided two-bump mixture")
def bend_noise(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    steps: int = 4000,
    batch_size: int = 256,
    lr: float = 1e-3,
    decay_from: float = 0.5,
    width: int = 64,
    depth: int = 2,
    samples: int = 20_000,
) -> LabResult:
    """Train the ``bimodal-1d`` GAN for ``steps`` steps (learning rates decayed linearly
    to 0 from ``decay_from`` · steps; 1 keeps them constant) and capture G at 0, 10, 30, 60
    and 100 % of training on ``samples`` fixed z."""
    if (
        steps < 10
        or batch_size < 1
        or lr <= 0
        or width < 1
        or depth < 1
        or samples < 100
        or not 0 <= decay_from <= 1
    ):
        raise LabError(
            f"{NAME}: needs steps ≥ 10, batch_size ≥ 1, lr > 0, width ≥ 1, depth ≥ 1, "
            f"samples ≥ 100 and 0 ≤ decay_from ≤ 1; got steps={steps}, "
            f"batch_size={batch_size}, lr={lr}, width={width}, depth={depth}, "
            f"samples={samples}, decay_from={decay_from}"
        )
    adam = {"name": "adam", "lr": lr, "betas": [0.5, 0.999]}
    overrides = {
        "seed": seed,
        "device": "cpu",
        "generator.width": width,
        "generator.depth": depth,
        "discriminator.width": width,
        "discriminator.depth": depth,
        "train.steps": steps,
        "train.batch_size": batch_size,
        "train.g_optimizer": adam,
        "train.d_optimizer": dict(adam),
        "train.lr_decay": None if decay_from >= 1 else {"start": round(decay_from * steps)},
        "log.every": max(1, min(100, steps)),
        "log.tensorboard": False,
        "samples.every": 0,
        "samples.count": 1024,
        "checkpoint.every": 0,
        "checkpoint.keep": 1,
    }
    snapshot_steps = [round(f * steps) for f in SNAPSHOTS]
    curve_steps = sorted({round(i * steps / CURVE_POINTS) for i in range(CURVE_POINTS + 1)})
    run_dir = Path(out_dir) / "runs" / f"{NAME}-seed{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)

    config = resolve("bimodal-1d", overrides)
    mixture = Mixture1d(build_source(config.data))
    threshold = mixture.valley()
    z = torch.randn(samples, config.noise.dim, generator=torch.Generator().manual_seed(seed + 1))
    snapshots = Snapshots(z, snapshot_steps, curve_steps, mixture, threshold)
    wall, cpu = time.perf_counter(), time.process_time()
    with single_thread():
        run = train(config, run_dir=run_dir, progress=progress, callbacks=[snapshots])
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        final = snapshots.samples[steps]
        bend = _bend(run, mixture, threshold)

    floor = noise_floor(mixture, samples, seed)
    truth_right = float(1 - mixture.cdf(np.array([threshold]))[0])
    table = [
        {"step": step, "fraction": fraction, **summary(snapshots.samples[step], mixture, threshold)}
        for fraction, step in zip(SNAPSHOTS, snapshot_steps, strict=True)
    ]
    numbers = {
        "settings": {
            "seed": seed,
            "steps": steps,
            "batch_size": batch_size,
            "lr": lr,
            "decay_from": decay_from,
            "width": width,
            "depth": depth,
            "samples": samples,
            "objective": config.objective.name,
        },
        "data": {
            "weights": mixture.weights.tolist(),
            "means": mixture.means.tolist(),
            "stds": mixture.stds.tolist(),
            "mean": mixture.mean,
            "std": mixture.std,
            "threshold": threshold,
            "right_share": truth_right,
            "w1_noise_floor": floor,
        },
        "snapshots": table,
        "final": table[-1],
        "bend": {k: v for k, v in bend.items() if k not in ("z", "g", "d_x", "d")},
        "curve": snapshots.curve,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "run_dir": str(run_dir),
    }
    lines = report(numbers)
    figure = draw(numbers, snapshots.samples, snapshot_steps, bend, mixture, final)
    return finish(NAME, numbers, lines, figure, out_dir)


@torch.no_grad()
def _bend(run: Any, mixture: Mixture1d, threshold: float) -> dict[str, Any]:
    """G on a grid of z, where it is steepest, and D(x) on a grid of x, at the end."""
    z = torch.linspace(-3.5, 3.5, 1401, dtype=torch.float32)[:, None]
    sampler = run.sampler.eval()
    g = sampler(z)[:, 0].double().numpy()
    zs = z[:, 0].double().numpy()
    slope = np.gradient(g, zs)
    steepest = int(np.argmax(np.abs(slope)))
    increasing = float(np.mean(slope > 0))
    x = torch.linspace(*(float(v) for v in _view(mixture)), 801, dtype=torch.float32)[:, None]
    discriminator = run.discriminator.eval()
    d = torch.sigmoid(discriminator(x)).double().numpy()
    expected_jump = float(special.ndtri(mixture.weights[0]))  # Φ⁻¹(0.7) for the increasing map
    return {
        "z": zs,
        "g": g,
        "d_x": x[:, 0].double().numpy(),
        "d": d,
        "steepest_z": float(zs[steepest]),
        "steepest_slope": float(slope[steepest]),
        "steepest_g": float(g[steepest]),
        "increasing_share": increasing,
        "jump_z_increasing_map": expected_jump,
        "jump_z_decreasing_map": -expected_jump,
        "d_at_modes": [
            float(torch.sigmoid(discriminator(torch.tensor([[m]], dtype=torch.float32))))
            for m in mixture.means
        ],
        "d_at_threshold": float(
            torch.sigmoid(discriminator(torch.tensor([[threshold]], dtype=torch.float32)))
        ),
    }


def _view(mixture: Mixture1d) -> tuple[float, float]:
    return float((mixture.means - 4 * mixture.stds).min()) - 0.5, float(
        (mixture.means + 4 * mixture.stds).max()
    ) + 0.5


def report(numbers: dict[str, Any]) -> list[str]:
    data, final, bend = numbers["data"], numbers["final"], numbers["bend"]
    settings = numbers["settings"]
    decay = (
        "constant"
        if settings["decay_from"] >= 1
        else f"decayed linearly to 0 from step {round(settings['decay_from'] * settings['steps'])}"
    )
    lines = [
        f"P_data = {data['weights'][0]:g}·N({data['means'][0]:g}, {data['stds'][0]:g}²) + "
        f"{data['weights'][1]:g}·N({data['means'][1]:g}, {data['stds'][1]:g}²): mean "
        f"{data['mean']:.3f}, std {data['std']:.3f}; the valley between the modes is at x = "
        f"{data['threshold']:.3f}, with {data['right_share']:.4f} of the mass to its right",
        f"trained {settings['steps']} steps (seed {settings['seed']}, batch "
        f"{settings['batch_size']}, Adam {settings['lr']:g} {decay}, {settings['objective']}) in "
        f"{numbers['seconds']:.1f} s (CPU {numbers['cpu_seconds']:.1f} s); "
        f"{settings['samples']:,} fixed z per snapshot",
    ]
    for row in numbers["snapshots"]:
        lines.append(
            f"step {row['step']:>5} ({row['fraction']:.0%}): right-mode share "
            f"{row['right_share']:.3f} (truth {data['right_share']:.3f}), W1 to P_data "
            f"{row['w1']:.4f}, mean {row['mean']:+.3f}, std {row['std']:.3f}"
        )
    lines.append(
        f"final: mean {final['mean']:+.3f} vs {data['mean']:+.3f}, std {final['std']:.3f} vs "
        f"{data['std']:.3f}, W1 {final['w1']:.4f} (samples of P_data of the same size: "
        f"{data['w1_noise_floor']:.4f} on average)"
    )
    direction = "increasing" if bend["steepest_slope"] > 0 else "decreasing"
    expected = bend[f"jump_z_{direction}_map"]
    lines.append(
        f"the bend: G is steepest at z = {bend['steepest_z']:+.2f} (slope "
        f"{bend['steepest_slope']:+.1f}, G = {bend['steepest_g']:+.2f}); the {direction} "
        f"transport map jumps at z = {expected:+.3f}; G rises on "
        f"{bend['increasing_share']:.0%} of z ∈ [−3.5, 3.5]"
    )
    lines.append(
        f"D at the end: D(x) = {bend['d_at_modes'][0]:.3f} and {bend['d_at_modes'][1]:.3f} at "
        f"the two modes, {bend['d_at_threshold']:.3f} in the valley (1/2 where G matches P_data)"
    )
    return lines


def draw(
    numbers: dict[str, Any],
    samples: dict[int, np.ndarray],
    steps: Sequence[int],
    bend: dict[str, Any],
    mixture: Mixture1d,
    final: np.ndarray,
) -> Figure:
    """Row 1–2: a histogram of G(z) over the true density per snapshot; then the map
    z ↦ G(z) with the transport maps, D(x) at the end, and the right share and W1 over
    training."""
    figure = new_figure(16, 7.5)
    low, high = _view(mixture)
    x = np.linspace(low, high, 801)
    density = mixture.density(x)
    edges = np.linspace(low, high, 121)
    threshold = numbers["data"]["threshold"]
    for i, (row, step) in enumerate(zip(numbers["snapshots"], steps, strict=True)):
        axes = figure.add_subplot(2, 4, i + 1)
        values = samples[step]
        axes.stairs(
            _density(values, edges), edges, fill=True, color="tab:orange", alpha=0.6, label="G(z)"
        )
        axes.plot(x, density, color="tab:blue", label="P_data")
        axes.axvline(threshold, color="0.5", lw=0.8, ls=":")
        axes.set_xlim(low, high)
        axes.set_title(
            f"step {step} ({row['fraction']:.0%}): right {row['right_share']:.3f}, "
            f"W1 {row['w1']:.3f}",
            fontsize=9,
        )
        if i == 0:
            axes.legend(fontsize=8, loc="upper right")

    bend_axes = figure.add_subplot(2, 4, 6)
    u = special.ndtr(bend["z"])
    bend_axes.plot(
        bend["z"], mixture.quantile(u), color="tab:blue", lw=1, ls="--", label="F⁻¹(Φ(z))"
    )
    bend_axes.plot(
        bend["z"], mixture.quantile(1 - u), color="tab:blue", lw=1, ls=":", label="F⁻¹(1 − Φ(z))"
    )
    bend_axes.plot(bend["z"], bend["g"], color="tab:orange", lw=2, label="G(z), end")
    bend_axes.axhline(threshold, color="0.5", lw=0.8, ls=":")
    bend_axes.set(
        xlabel="z",
        ylabel="x = G(z)",
        ylim=(low, high),
        title=f"the bend: steepest at z = {bend['steepest_z']:+.2f}",
    )
    bend_axes.legend(fontsize=8)

    d_axes = figure.add_subplot(2, 4, 7)
    d_axes.plot(bend["d_x"], bend["d"], color="tab:red", label="D(x), end")
    d_axes.axhline(0.5, color="0.5", lw=0.8, ls="--")
    d_axes.set(
        xlabel="x",
        ylabel="D(x)",
        ylim=(0, 1),
        xlim=(low, high),
        title="the discriminator at the end",
    )
    twin = d_axes.twinx()
    twin.plot(x, density, color="tab:blue", lw=0.8)
    twin.stairs(_density(final, edges), edges, fill=True, color="tab:orange", alpha=0.3)
    twin.set_yticks([])
    d_axes.legend(fontsize=8, loc="upper left")

    curve_axes = figure.add_subplot(2, 4, 8)
    curve = numbers["curve"]
    curve_axes.plot(
        curve["step"], curve["right_share"], color="tab:orange", label="right-mode share"
    )
    curve_axes.axhline(numbers["data"]["right_share"], color="tab:orange", lw=0.8, ls="--")
    curve_axes.set(xlabel="step", ylabel="right-mode share", ylim=(0, 1), title="over training")
    w1_axes = curve_axes.twinx()
    w1_axes.semilogy(curve["step"], curve["w1"], color="tab:green", label="W1 to P_data")
    w1_axes.axhline(numbers["data"]["w1_noise_floor"], color="tab:green", lw=0.8, ls=":")
    w1_axes.set_ylabel("W1")
    handles = curve_axes.get_legend_handles_labels()
    twin_handles = w1_axes.get_legend_handles_labels()
    curve_axes.legend(handles[0] + twin_handles[0], handles[1] + twin_handles[1], fontsize=8)
    return figure


def _density(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram density of ``values`` over ``edges``, the values outside counted in the
    outer bins (so that every sample shows)."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return counts / (len(values) * np.diff(edges))
