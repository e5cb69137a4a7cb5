"""Gradient play on the bilinear game min_x max_y v(x, y) = x·y: who cycles, who spirals.

The only equilibrium is (0, 0). With ∂v/∂x = y (x descends) and ∂v/∂y = x (y ascends) the
continuous-time flow rotates about it at constant radius, and each discretisation bends
that circle its own way:

* simultaneous steps spiral outwards by √(1 + η²) per step;
* alternating steps stay on the ellipse x² + y² − ηxy = const (for η < 2) and, at η = 1,
  return to the start after exactly six steps;
* extragradient (Korpelevich 1976) and optimistic gradient descent ascent (Daskalakis et
  al. 2018) spiral inwards to the equilibrium.

Every method returns its trajectory as an array of shape ``(steps + 1, 2)`` whose first row
is the start, computed in float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from gankit.lab.base import LabError, LabResult, experiment, finish
from gankit.viz import new_figure

START = (2.0, 3.0)
HEXAGON_ETA = 1.0
HEXAGON_PERIOD = 6


def _start(start: Sequence[float], steps: int) -> np.ndarray:
    """An empty trajectory of ``steps + 1`` rows whose first row is ``start``."""
    if steps < 0:
        raise LabError(f"bilinear game: steps must be ≥ 0, got {steps}")
    points = np.empty((steps + 1, 2), dtype=np.float64)
    points[0] = np.asarray(start, dtype=np.float64)
    return points


def simultaneous(start: Sequence[float], eta: float, steps: int) -> np.ndarray:
    """Simultaneous gradient descent ascent: x' = x − ηy, y' = y + ηx.

    The step is the matrix [[1, −η], [η, 1]] = √(1 + η²)·(a rotation), so the radius grows
    by exactly √(1 + η²) per step for every η ≠ 0."""
    points = _start(start, steps)
    for t in range(steps):
        x, y = points[t]
        points[t + 1] = (x - eta * y, y + eta * x)
    return points


def alternating(start: Sequence[float], eta: float, steps: int) -> np.ndarray:
    """Alternating gradient descent ascent: x' = x − ηy, then y' = y + ηx'.

    It conserves x² + y² − ηxy: with y' = y + ηx', y'² − ηx'y' = y'·y = y² + ηx'y, and with
    x' = x − ηy, x'² + ηx'y = x'·x = x² − ηxy, so x'² + y'² − ηx'y' = x² + y² − ηxy. The step
    has determinant 1 and trace 2 − η², so for 0 < η < 2 it is conjugate to a rotation by
    arccos(1 − η²/2); at η = 1 that angle is π/3 and every orbit closes after six steps."""
    points = _start(start, steps)
    for t in range(steps):
        x, y = points[t]
        x = x - eta * y
        points[t + 1] = (x, y + eta * x)
    return points


def alternating_invariant(points: np.ndarray, eta: float) -> np.ndarray:
    """The quantity x² + y² − ηxy that alternating steps conserve, one value per row."""
    points = np.asarray(points, dtype=np.float64)
    x, y = points[..., 0], points[..., 1]
    return x * x + y * y - eta * x * y


def extragradient(start: Sequence[float], eta: float, steps: int) -> np.ndarray:
    """Extragradient (Korpelevich 1976): step with the gradient taken at a look-ahead point.

    Look-ahead x̃ = x − ηy, ỹ = y + ηx; then x' = x − ηỹ = (1 − η²)x − ηy and
    y' = y + ηx̃ = ηx + (1 − η²)y. That is the matrix [[1 − η², −η], [η, 1 − η²]], a rotation
    scaled by √((1 − η²)² + η²) = √(1 − η² + η⁴), so the radius shrinks by exactly that factor
    per step, which is below 1 for 0 < η < 1."""
    points = _start(start, steps)
    for t in range(steps):
        x, y = points[t]
        x_look, y_look = x - eta * y, y + eta * x
        points[t + 1] = (x - eta * y_look, y + eta * x_look)
    return points


def optimistic(start: Sequence[float], eta: float, steps: int) -> np.ndarray:
    """Optimistic gradient descent ascent (Daskalakis et al. 2018).

    x_{t+1} = x_t − 2η y_t + η y_{t−1}, y_{t+1} = y_t + 2η x_t − η x_{t−1}: the gradient
    extrapolated from the last two. The first step takes (x_{−1}, y_{−1}) = (x_0, y_0), which
    makes it a plain simultaneous step. For small η the spiral contracts towards (0, 0) by
    about 1 − η²/2 per step."""
    points = _start(start, steps)
    previous = points[0].copy()
    for t in range(steps):
        x, y = points[t]
        x_old, y_old = previous
        points[t + 1] = (x - 2 * eta * y + eta * y_old, y + 2 * eta * x - eta * x_old)
        previous = points[t]
    return points


def radius(points: np.ndarray) -> np.ndarray:
    """Distance ‖(x, y)‖₂ of each row from the equilibrium (0, 0)."""
    return np.hypot(points[..., 0], points[..., 1])


def _relative_drift(values: np.ndarray) -> float:
    """max_t |c_t − c_0| / |c_0|."""
    return float(np.max(np.abs(values - values[0])) / abs(values[0]))


@experiment("bilinear-game", "gradient play on min_x max_y x·y: cycles, spirals out, spirals in")
def bilinear_game(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    eta: float = 0.2,
    steps: int = 300,
) -> LabResult:
    """Run the four methods on v(x, y) = x·y from (2, 3) and measure how each bends the orbit.

    ``seed`` and ``progress`` are accepted for a uniform interface; every number here is
    deterministic and takes milliseconds."""
    del seed, progress
    if not 0 < eta < 1:
        raise LabError(
            f"bilinear-game: eta must lie in (0, 1) for the contracting methods, got {eta}"
        )
    if steps < 1:
        raise LabError(f"bilinear-game: steps must be ≥ 1, got {steps}")
    paths = {
        "simultaneous": simultaneous(START, eta, steps),
        "alternating": alternating(START, eta, steps),
        "extragradient": extragradient(START, eta, steps),
        "optimistic": optimistic(START, eta, steps),
    }
    hexagon = alternating(START, HEXAGON_ETA, HEXAGON_PERIOD)
    numbers, lines = _measure(paths, hexagon, eta, steps)
    figure = _draw(paths, hexagon, eta)
    return finish("bilinear-game", numbers, lines, figure, out_dir)


def _measure(
    paths: dict[str, np.ndarray], hexagon: np.ndarray, eta: float, steps: int
) -> tuple[dict, list[str]]:
    """The numbers behind each claim and one report line per claim."""
    start_radius = math.hypot(*START)
    hexagon_error = float(np.max(np.abs(hexagon[-1] - hexagon[0])))
    hexagon_first_return = min(float(np.max(np.abs(point - hexagon[0]))) for point in hexagon[1:-1])
    drift = _relative_drift(alternating_invariant(paths["alternating"], eta))
    ratios = np.diff(np.log(radius(paths["simultaneous"])))
    growth, growth_spread = float(np.exp(ratios.mean())), float(np.ptp(np.exp(ratios)))
    eg_ratios = np.exp(np.diff(np.log(radius(paths["extragradient"]))))
    finals = {name: float(radius(path[-1])) for name, path in paths.items()}
    numbers = {
        "eta": eta,
        "steps": steps,
        "start": list(START),
        "start_radius": start_radius,
        "alternating_eta1_return_error": hexagon_error,
        "alternating_eta1_closest_earlier_distance": hexagon_first_return,
        "alternating_invariant_relative_drift": drift,
        "simultaneous_radius_ratio": growth,
        "simultaneous_radius_ratio_spread": growth_spread,
        "simultaneous_radius_ratio_theory": math.sqrt(1 + eta**2),
        "extragradient_radius_ratio": float(eg_ratios.mean()),
        "extragradient_radius_ratio_theory": math.sqrt(1 - eta**2 + eta**4),
        "final_radius": finals,
    }
    lines = [
        f"alternating, η = 1: back at {START} after {HEXAGON_PERIOD} steps "
        f"(max |error| {hexagon_error:.1e}); steps 1–5 stay ≥ {hexagon_first_return:.2f} away",
        f"alternating, η = {eta}: x² + y² − ηxy drifts by at most {drift:.1e} (relative) "
        f"over {steps} steps",
        f"simultaneous, η = {eta}: radius × {growth:.12f} per step (√(1 + η²) = "
        f"{math.sqrt(1 + eta**2):.12f}), {start_radius:.2f} → {finals['simultaneous']:.3g}",
        f"extragradient, η = {eta}: radius × {eg_ratios.mean():.12f} per step "
        f"(√(1 − η² + η⁴) = {math.sqrt(1 - eta**2 + eta**4):.12f}), "
        f"{start_radius:.2f} → {finals['extragradient']:.3g}",
        f"optimistic, η = {eta}: radius {start_radius:.2f} → {finals['optimistic']:.3g} "
        f"after {steps} steps",
    ]
    return numbers, lines


def _draw(paths: dict[str, np.ndarray], hexagon: np.ndarray, eta: float) -> Figure:
    """Left: trajectories in the (x, y) plane; right: distance to (0, 0) against step."""
    figure = new_figure(11, 4.8)
    plane, radii = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    colours = {
        "simultaneous": "tab:red",
        "alternating": "tab:blue",
        "extragradient": "tab:green",
        "optimistic": "tab:purple",
    }
    for name, path in paths.items():
        plane.plot(path[:, 0], path[:, 1], lw=1, color=colours[name], label=f"{name}, η = {eta}")
        radii.semilogy(radius(path), color=colours[name], label=name)
    closed = np.vstack([hexagon, hexagon[:1]])
    plane.plot(
        closed[:, 0], closed[:, 1], "o--", ms=4, color="tab:orange", label="alternating, η = 1"
    )
    plane.plot(*START, "k*", ms=12, label=f"start {START}")
    plane.plot(0, 0, "kx", ms=10, mew=2, label="equilibrium (0, 0)")
    limit = 2.2 * math.hypot(*START)
    plane.set(
        xlim=(-limit, limit),
        ylim=(-limit, limit),
        xlabel="x (descends)",
        ylabel="y (ascends)",
        title="min_x max_y x·y",
    )
    plane.set_aspect("equal")
    plane.legend(fontsize=7, loc="lower left")
    radii.set(xlabel="step", ylabel="‖(x, y)‖", title="distance to the equilibrium")
    radii.legend(fontsize=8)
    return figure
