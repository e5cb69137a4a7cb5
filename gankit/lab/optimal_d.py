"""optimal-d: a trained discriminator approaches D*(x) = p_data(x)/(p_data(x) + p_g(x)).

For a fixed G, V(D) = E_data[log D(x)] + E_g[log(1 − D(x))] is maximised pointwise by
D*(x) = p_data(x)/(p_data(x) + p_g(x)), where V(D*) = 2·JS(P_data‖P_g) − log 4
(Goodfellow et al. 2014, Prop. 1 and Thm. 1). Here P_data is the lopsided bimodal mixture
0.7·N(−1.5, 0.35²) + 0.3·N(2, 0.5²), P_g = N(0, 1) stands in for a generator, and a D
trained on samples by :func:`gankit.estimate.estimate` is compared with D* on a grid.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from gankit.data.toy import GaussianMixture
from gankit.estimate import estimate
from gankit.lab.base import LabResult, experiment, finish, single_thread
from gankit.metrics.divergences import exact_divergence
from gankit.viz import new_figure

DATA = GaussianMixture([0.7, 0.3], [[-1.5], [2.0]], [0.35, 0.5])
MODEL = GaussianMixture([1.0], [[0.0]], [1.0])
_LOG4 = math.log(4.0)


def optimal_discriminator(
    x: np.ndarray, data: GaussianMixture, model: GaussianMixture
) -> np.ndarray:
    """D*(x) = p_data/(p_data + p_g) = σ(log p_data − log p_g), at points ``x`` (n, d)."""
    points = torch.as_tensor(x, dtype=torch.float64)
    return torch.sigmoid(data.log_prob(points) - model.log_prob(points)).numpy()


def mixture_density(x: np.ndarray, data: GaussianMixture, model: GaussianMixture) -> np.ndarray:
    """(p_data + p_g)/2 at points ``x`` (n, d): where the samples come from."""
    points = torch.as_tensor(x, dtype=torch.float64)
    return ((data.log_prob(points).exp() + model.log_prob(points).exp()) / 2).numpy()


@experiment("optimal-d", "a trained D approaches D* = p_data/(p_data + p_g); max V → 2·JS − log 4")
def optimal_d(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    samples: int = 50_000,
    steps: int = 3_000,
    width: int = 128,
    depth: int = 2,
    density_floor: float = 0.05,
) -> LabResult:
    """Train D on ``samples`` draws of each distribution and compare it with D* where the
    sampling density (p_data + p_g)/2 exceeds ``density_floor`` (D is unconstrained
    elsewhere: it never sees samples there)."""
    with single_thread():
        result = estimate(
            DATA,
            MODEL,
            "js",
            samples=samples,
            steps=steps,
            width=width,
            depth=depth,
            eval_every=max(steps // 30, 1),
            seed=seed,
            device="cpu",
            progress=progress,
        )
        grid = np.linspace(-4.0, 4.5, 1_701)[:, None]
        with torch.no_grad():
            trained = torch.sigmoid(result.critic(torch.as_tensor(grid, dtype=torch.float32)))
    trained = trained.double().numpy()
    best = optimal_discriminator(grid, DATA, MODEL)
    covered = mixture_density(grid, DATA, MODEL) > density_floor
    error = np.abs(trained - best)
    js = exact_divergence(DATA, MODEL, "js")
    value_best = 2 * js - _LOG4
    value_trained = 2 * result.value - _LOG4
    numbers = {
        "js_exact": js,
        "value_optimal": value_best,
        "value_trained_holdout": value_trained,
        "value_ci": [2 * c - _LOG4 for c in result.ci],
        "value_trained_train": 2 * result.train_value - _LOG4,
        "max_error": float(error[covered].max()),
        "mean_error": float(error[covered].mean()),
        "covered_interval": [float(grid[covered].min()), float(grid[covered].max())],
        "density_floor": density_floor,
        "curve": [
            {"step": c["step"], "holdout_value": 2 * c["holdout"] - _LOG4} for c in result.curve
        ],
        "samples": samples,
        "steps": steps,
    }
    low, high = numbers["covered_interval"]
    lines = [
        f"max |D(x) − D*(x)| = {numbers['max_error']:.4f}, mean {numbers['mean_error']:.4f}, "
        f"on x ∈ [{low:.2f}, {high:.2f}] where (p_data + p_g)/2 > {density_floor}",
        f"V(D) on held-out samples = {value_trained:.4f} "
        f"(95% CI {numbers['value_ci'][0]:.4f} to {numbers['value_ci'][1]:.4f}); "
        f"max V = 2·JS − log 4 = {value_best:.4f} (JS = {js:.4f} by quadrature)",
        f"gap {value_best - value_trained:.4f} nats after {steps} steps on {samples} samples "
        "of each",
    ]
    figure = _draw(grid[:, 0], trained, best, covered, numbers)
    return finish("optimal-d", numbers, lines, figure, out_dir)


def _draw(grid, trained, best, covered, numbers):
    figure = new_figure(11, 4)
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    points = torch.as_tensor(grid[:, None], dtype=torch.float64)
    left.fill_between(grid, DATA.log_prob(points).exp(), alpha=0.3, label="p_data")
    left.fill_between(grid, MODEL.log_prob(points).exp(), alpha=0.3, label="p_g")
    left.plot(grid, best, color="black", label="D* = p_data/(p_data + p_g)")
    left.plot(grid, np.where(covered, trained, np.nan), "--", color="tab:red", label="trained D")
    left.set_title(f"max |D − D*| = {numbers['max_error']:.3f} where samples are")
    left.set_xlabel("x")
    left.legend(fontsize="small")
    steps = [c["step"] for c in numbers["curve"]]
    right.plot(steps, [c["holdout_value"] for c in numbers["curve"]], label="V(D), held-out")
    right.axhline(numbers["value_optimal"], color="black", ls=":", label="2·JS − log 4")
    right.set_xlabel("discriminator step")
    right.set_ylabel("V(D)")
    right.set_title("the value approaches 2·JS − log 4")
    right.legend(fontsize="small")
    return figure
