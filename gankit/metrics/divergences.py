"""Exact f-divergences between known 1-D densities, by quadrature.

D_f(P‖Q) = ∫ q(x) f(p(x)/q(x)) dx, integrated with the trapezoid rule on a fine grid from
log-densities, so that ratios of tiny densities stay finite. These are the references that
trained discriminators and generators are checked against.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import integrate, optimize
from torch import Tensor

DEFAULT_GRID = np.linspace(-12.0, 12.0, 48_001)
_NEGLIGIBLE_LOG_DENSITY = -230.0  # densities below 1e-100 on both sides add nothing


def gaussian_log_density(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """log N(x; μ, σ²)."""
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std * math.sqrt(2 * math.pi))


def f_divergence_1d(
    f: Callable[[Tensor], Tensor],
    log_p: np.ndarray,
    log_q: np.ndarray,
    grid: np.ndarray = DEFAULT_GRID,
) -> float:
    """D_f(P‖Q) = ∫ q f(p/q) dx from log p and log q on ``grid`` (inf where it diverges).

    Points where both densities are below 1e-100 are left out: there q·f(p/q) is of the
    order of p or q for every f in :data:`gankit.objectives.fgan.F_DIVERGENCES`."""
    mass = np.maximum(log_p, log_q) > _NEGLIGIBLE_LOG_DENSITY
    integrand = np.zeros_like(grid)
    with np.errstate(over="ignore", invalid="ignore"):  # p/q = inf: the integral diverges
        ratio = torch.from_numpy(np.exp(log_p[mass] - log_q[mass]))
        integrand[mass] = np.exp(log_q[mass]) * f(ratio).numpy()
    value = float(integrate.trapezoid(integrand, grid))
    return value if math.isfinite(value) else math.inf


def closest_gaussian(
    f: Callable[[Tensor], Tensor],
    log_p: np.ndarray,
    mean: float,
    std: float,
    grid: np.ndarray = DEFAULT_GRID,
) -> tuple[float, float, float]:
    """The local minimum (μ*, σ*, D_f) of D_f(P‖N(μ, σ²)) reached by Nelder–Mead from
    (``mean``, ``std``); σ is searched as log σ so that it stays positive."""

    def objective(theta: np.ndarray) -> float:
        log_q = gaussian_log_density(grid, theta[0], math.exp(theta[1]))
        return f_divergence_1d(f, log_p, log_q, grid)

    result = optimize.minimize(
        objective,
        x0=[mean, math.log(std)],
        method="Nelder-Mead",
        options={"xatol": 1e-5, "fatol": 1e-9, "maxiter": 2000},
    )
    return float(result.x[0]), math.exp(result.x[1]), float(result.fun)
