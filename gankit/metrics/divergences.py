"""Exact divergences between known distributions: the references that trained
discriminators and generators are checked against.

* f-divergences D_f(P‖Q) = ∫ q f(p/q) between 1-D or 2-D densities, by the trapezoid rule
  on a fine grid from log-densities, so that ratios of tiny densities stay finite;
* :func:`exact_divergence`: JS, KL both ways, squared Hellinger, χ² both ways, TV and (1-D)
  W1 between two Gaussian mixtures, e.g. the toy data sources; χ² is infinite when one
  mixture's tails are too heavy for the other's (:func:`chi2_tail_rate`);
* the Wasserstein-1 distance in 1-D from the CDFs, W1 = ∫ |F_P − F_Q| dx (the quantile
  formula ∫₀¹ |F_P⁻¹(u) − F_Q⁻¹(u)| du is the same area, measured along u), and between two
  equal-size sample sets in any dimension by exact optimal transport: between uniform
  measures on n points each, an optimal plan is a permutation (Birkhoff), so SciPy's
  ``linear_sum_assignment`` on the distance matrix solves it exactly in O(n³).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import integrate, optimize, spatial, special
from torch import Tensor

from gankit.data.toy import GaussianMixture

DEFAULT_GRID = np.linspace(-12.0, 12.0, 48_001)
_NEGLIGIBLE_LOG_DENSITY = -230.0  # densities below 1e-100 on both sides add nothing
EXACT_DIVERGENCES = ("js", "kl", "reverse_kl", "hellinger", "pearson", "neyman", "tv", "w1")
_TAIL_STDS = 10.0  # mixture grids reach 10σ beyond the outermost means
_POINTS_PER_STD_1D = 40
_MAX_POINTS_1D = 400_001
_MAX_POINTS_PER_AXIS_2D = 2_001
_CHI2_TAIL_LOG = 46.0  # χ² grids reach where log(p²/q) has fallen by 46 (e^−46 ≈ 1e−20)


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


def exact_divergence(p: GaussianMixture, q: GaussianMixture, divergence: str) -> float:
    """D(P‖Q) between two Gaussian mixtures in 1-D or 2-D.

    ``divergence`` is one of :data:`EXACT_DIVERGENCES`:

    * ``js``: JS(P‖Q) = ½KL(P‖M) + ½KL(Q‖M), M = (P + Q)/2, in nats, so 0 ≤ JS ≤ log 2;
    * ``kl``, ``reverse_kl``: KL(P‖Q) and KL(Q‖P);
    * ``hellinger``: the squared Hellinger distance ∫ (√p − √q)² (≤ 2, no ½ in front);
    * ``pearson``, ``neyman``: χ²(P‖Q) = ∫ (p − q)²/q and ∫ (p − q)²/p, inf where the tails
      make them diverge (:func:`chi2_tail_rate` ≤ 0);
    * ``tv``: ½∫ |p − q| (≤ 1);
    * ``w1``: the Wasserstein-1 distance, 1-D only: ∫ |F_P − F_Q| dx from the mixture CDFs.

    Each integrand is written from log p and log q (never the ratio p/q, which overflows
    where q underflows) and integrated by the trapezoid rule on a grid reaching 10σ past
    the outermost means, with a spacing of at most σ_min/40 in 1-D (at most 2,001 points
    per axis in 2-D), and for χ² far enough that p²/q (q²/p) has fallen below e^−46 of its
    peak. The rule is then accurate to far below 1e-6 for smooth integrands, and to about
    1e-5 for TV, whose integrand ½|p − q| has a kink where p = q.
    """
    if divergence not in EXACT_DIVERGENCES:
        raise ValueError(
            f"unknown divergence '{divergence}'; choose one of: {', '.join(EXACT_DIVERGENCES)}"
        )
    if p.shape != q.shape or p.shape[0] not in (1, 2):
        raise ValueError(
            f"exact divergences need two 1-D or two 2-D mixtures, got dimensions "
            f"{p.shape[0]} and {q.shape[0]}"
        )
    reach = 0.0
    if divergence in ("pearson", "neyman"):
        rate = chi2_tail_rate(p, q) if divergence == "pearson" else chi2_tail_rate(q, p)
        if rate <= 0:
            return math.inf
        reach = math.sqrt(_CHI2_TAIL_LOG / rate)
    axes = _mixture_axes(p, q, reach)
    if divergence == "w1":
        if len(axes) != 1:
            raise ValueError(
                "W1 has no closed form between 2-D mixtures; use wasserstein1_empirical on samples"
            )
        return wasserstein1_1d(_mixture_cdf(p, axes[0]), _mixture_cdf(q, axes[0]), axes[0])
    if len(axes) == 1:
        points = torch.from_numpy(axes[0][:, None])
        log_p, log_q = _log_prob(p, points), _log_prob(q, points)
    else:
        xs, ys = axes
        grid = torch.from_numpy(np.stack(np.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2))
        shape = (len(xs), len(ys))
        log_p, log_q = _log_prob(p, grid).reshape(shape), _log_prob(q, grid).reshape(shape)
    with np.errstate(over="ignore", invalid="ignore"):
        integrand = _INTEGRANDS[divergence](log_p, log_q)
    for axis in reversed(axes):  # innermost axis first
        integrand = integrate.trapezoid(integrand, axis, axis=-1)
    value = float(integrand)
    return value if math.isfinite(value) else math.inf


def _js_integrand(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """½[p log(p/m) + q log(q/m)], m = (p + q)/2, from logs: finite where either density
    underflows, so disjoint supports give exactly log 2."""
    log_m = np.logaddexp(log_p, log_q) - math.log(2.0)
    return 0.5 * (np.exp(log_p) * (log_p - log_m) + np.exp(log_q) * (log_q - log_m))


_INTEGRANDS = {
    # Each q·f(p/q) written from the log-densities, so that no ratio p/q is formed: it
    # overflows where q underflows although the integrand stays finite there.
    "js": _js_integrand,
    "kl": lambda log_p, log_q: np.exp(log_p) * (log_p - log_q),
    "reverse_kl": lambda log_p, log_q: np.exp(log_q) * (log_q - log_p),
    "pearson": lambda log_p, log_q: np.exp(2 * log_p - log_q) - 2 * np.exp(log_p) + np.exp(log_q),
    "neyman": lambda log_p, log_q: np.exp(2 * log_q - log_p) - 2 * np.exp(log_q) + np.exp(log_p),
    "tv": lambda log_p, log_q: 0.5 * np.abs(np.exp(log_p) - np.exp(log_q)),
    "hellinger": lambda log_p, log_q: (np.exp(log_p / 2) - np.exp(log_q / 2)) ** 2,
}


def exact_reference(p: object, q: object, divergence: str) -> float | None:
    """:func:`exact_divergence` when both ``p`` and ``q`` are 1-D or 2-D Gaussian mixtures
    (``w1``: 1-D) and ``divergence`` has an exact form here; None otherwise."""
    if not (isinstance(p, GaussianMixture) and isinstance(q, GaussianMixture)):
        return None
    if divergence not in EXACT_DIVERGENCES or p.shape != q.shape or p.shape[0] > 2:
        return None
    if divergence == "w1" and p.shape[0] != 1:
        return None
    return exact_divergence(p, q, divergence)


def chi2_tail_rate(p: GaussianMixture, q: GaussianMixture) -> float:
    """c such that log(p²/q) falls like −c·t² along the slowest ray x = t·u, t → ∞:
    c = min over unit u of [a_P(u) − a_Q(u)/2], a(u) = min over components of Σᵢ uᵢ²/σᵢ²
    (the slowest-falling component dominates a mixture's tail). ∫ p²/q, so Pearson χ²(P‖Q),
    is finite when c > 0 and infinite when c < 0 (c = 0: the quadratic terms cancel and the
    linear ones diverge on one side); in 1-D c > 0 ⇔ σ_P,max² < 2σ_Q,max². 2-D directions
    are taken every 0.05°; a c within rounding error of 0 is 0."""
    inv_p = 1.0 / p.component_stds.numpy() ** 2  # (K, d)
    inv_q = 1.0 / q.component_stds.numpy() ** 2
    if inv_p.shape[1] == 1:
        directions = np.ones((1, 1))
    else:
        angles = np.linspace(0.0, math.pi, 3_601)
        directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    squared = directions**2  # (U, d)
    a_p = (squared @ inv_p.T).min(axis=1)
    a_q = (squared @ inv_q.T).min(axis=1)
    rate = float((a_p - a_q / 2).min())
    return 0.0 if abs(rate) <= 1e-12 * float(inv_p.max() + inv_q.max()) else rate


def _mixture_axes(p: GaussianMixture, q: GaussianMixture, reach: float = 0.0) -> list[np.ndarray]:
    """One grid per dimension covering both mixtures to 10σ (and to ``reach`` beyond the
    outermost means), fine enough for the narrowest component."""
    means = torch.cat([p.modes, q.modes]).numpy()
    stds = torch.cat([p.component_stds, q.component_stds]).numpy()
    dims = means.shape[1]
    axes = []
    for axis in range(dims):
        lo = float((means[:, axis] - _TAIL_STDS * stds[:, axis]).min())
        hi = float((means[:, axis] + _TAIL_STDS * stds[:, axis]).max())
        lo = min(lo, float(means[:, axis].min()) - reach)
        hi = max(hi, float(means[:, axis].max()) + reach)
        wanted = int(math.ceil((hi - lo) / float(stds[:, axis].min()) * _POINTS_PER_STD_1D)) + 1
        limit = _MAX_POINTS_1D if dims == 1 else _MAX_POINTS_PER_AXIS_2D
        axes.append(np.linspace(lo, hi, min(max(wanted, 2_001), limit)))
    return axes


def _log_prob(source: GaussianMixture, points: Tensor, chunk: int = 1 << 18) -> np.ndarray:
    """log p at float64 ``points`` (n, d), in chunks to bound memory."""
    with torch.no_grad():
        parts = [source.log_prob(points[i : i + chunk]) for i in range(0, len(points), chunk)]
    return torch.cat(parts).numpy()


def _mixture_cdf(source: GaussianMixture, grid: np.ndarray) -> np.ndarray:
    """F(x) = Σ_k w_k Φ((x − μ_k)/σ_k) of a 1-D mixture on ``grid``."""
    weights = source.weights.numpy()
    means = source.modes.numpy()[:, 0]
    stds = source.component_stds.numpy()[:, 0]
    return special.ndtr((grid[:, None] - means) / stds) @ weights
