"""Exact divergences between known distributions: the references that trained
discriminators and generators are checked against.

* f-divergences D_f(P‖Q) = ∫ q f(p/q) between 1-D or 2-D densities, by the trapezoid rule
  on a fine grid from log-densities, so that ratios of tiny densities stay finite;
* the Wasserstein-1 distance in 1-D from the CDFs, W1 = ∫ |F_P − F_Q| dx, and between two
  equal-size sample sets in any dimension by exact optimal transport: between uniform
  measures on n points each, an optimal plan is a permutation (Birkhoff), so SciPy's
  ``linear_sum_assignment`` on the distance matrix solves it exactly in O(n³).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import integrate, optimize, spatial
from torch import Tensor

DEFAULT_GRID = np.linspace(-12.0, 12.0, 48_001)
_NEGLIGIBLE_LOG_DENSITY = -230.0  # densities below 1e-100 on both sides add nothing


def gaussian_log_density(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """log N(x; μ, σ²)."""
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std * math.sqrt(2 * math.pi))


def _integrand(f: Callable[[Tensor], Tensor], log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """q·f(p/q) pointwise; 0 where both densities are below 1e-100, inf where p/q overflows
    (the integral then diverges)."""
    mass = np.maximum(log_p, log_q) > _NEGLIGIBLE_LOG_DENSITY
    integrand = np.zeros_like(log_p)
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = torch.from_numpy(np.exp(log_p[mass] - log_q[mass]))
        integrand[mass] = np.exp(log_q[mass]) * f(ratio).numpy()
    return integrand


def f_divergence_1d(
    f: Callable[[Tensor], Tensor],
    log_p: np.ndarray,
    log_q: np.ndarray,
    grid: np.ndarray = DEFAULT_GRID,
) -> float:
    """D_f(P‖Q) = ∫ q f(p/q) dx from log p and log q on ``grid`` (inf where it diverges).

    Points where both densities are below 1e-100 are left out: there q·f(p/q) is of the
    order of p or q for every f in :data:`gankit.objectives.fgan.F_DIVERGENCES`."""
    value = float(integrate.trapezoid(_integrand(f, log_p, log_q), grid))
    return value if math.isfinite(value) else math.inf


def f_divergence_2d(
    f: Callable[[Tensor], Tensor],
    log_p: np.ndarray,
    log_q: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
) -> float:
    """D_f(P‖Q) = ∬ q f(p/q) dx dy from log-densities of shape (len(xs), len(ys)), evaluated
    on the grid ``xs`` × ``ys`` (``indexing="ij"``)."""
    integrand = _integrand(f, log_p, log_q)
    value = float(integrate.trapezoid(integrate.trapezoid(integrand, ys, axis=1), xs))
    return value if math.isfinite(value) else math.inf


def wasserstein1_1d(cdf_p: np.ndarray, cdf_q: np.ndarray, grid: np.ndarray) -> float:
    """W1(P, Q) = ∫ |F_P(x) − F_Q(x)| dx for CDFs evaluated on ``grid``."""
    return float(integrate.trapezoid(np.abs(cdf_p - cdf_q), grid))


def wasserstein1_empirical(a: np.ndarray, b: np.ndarray) -> float:
    """Exact W1 between the empirical measures of two equal-size sets of points (n, d):
    min over permutations π of (1/n) Σᵢ ‖aᵢ − b_π(i)‖₂."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if a.shape != b.shape:
        raise ValueError(
            f"wasserstein1_empirical needs two sets of the same size and dimension, got "
            f"{a.shape} and {b.shape}"
        )
    cost = spatial.distance.cdist(a, b)  # (n, n) Euclidean distances
    rows, cols = optimize.linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


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
