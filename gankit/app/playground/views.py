"""What a playground frame shows of a Trainer: samples, D's surface, G's gradients, G's
manifold, the 1-D densities, and the measures the charts plot.

Everything is computed in eval mode (no dropout mask drawn, BatchNorm on its running
statistics, spectral norm without a power-iteration step) from inputs drawn once per
session from a generator of its own (seeded from the run's seed, stream
``playground_view``): the real samples shown, the z of the generated samples, the grids.
A frame therefore consumes none of the training's random streams and changes no weight or
buffer, so a session stepped with whole iterations has exactly ``gankit train``'s weights.

The picture of a frame, for data in R^d:

* ``real``, ``fake``: :data:`SHOWN` real samples and G on as many fixed z;
* ``arrows``: −∇ₓ of G's loss at each generated point, each point's own term (the batch
  loss times the number of D's outputs), where a generator step moves that point;
* 2-D ``surface``: D on the centres of a :data:`SURFACE_CELLS`² grid of the view, in one
  batched pass: σ(logit) when the objective's logits are probabilities, else the critic's
  raw value; value ``j·nx + i`` belongs to the cell (i, j) counted from (xmin, ymin);
* 2-D ``manifold`` (z ∈ R² only): G on a :data:`MANIFOLD_NODES`² grid of z whose cells
  carry equal prior mass (nodes at the prior's quantiles), so a warped cell's density is
  that mass over its area; node ``j·nx + i`` is G(z₁ᵢ, z₂ⱼ), cell ``j·(nx−1) + i`` the
  quadrilateral of nodes (i, j), (i+1, j), (i+1, j+1), (i, j+1);
* 1-D ``curves1d``: on :data:`CURVE_POINTS` points of the view, p_data (exact), p_G (a
  Gaussian kernel density estimate from :data:`MEASURE_SAMPLES` generated samples), D and
  D* = p_data/(p_data + p_G).

With packing (PacGAN) a single point is scored as a pack of copies of itself; with
minibatch discrimination as a member of a batch of generated samples of the training
batch size (and the shown samples are scored in batches of that size).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.app.playground.measures import References
from gankit.metrics.modes import PROTOCOL_SAMPLES
from gankit.nets.minibatch import MinibatchDiscrimination
from gankit.nets.modes import evaluating
from gankit.seeding import derive_seed

SHOWN = 480
"""Real and generated samples shown (a multiple of every pack size up to 6, and of 8)."""
SURFACE_CELLS = 64
MANIFOLD_NODES = 16
CURVE_POINTS = 200
MEASURE_SAMPLES = PROTOCOL_SAMPLES
"""Generated samples behind p_G in 1-D, the binned divergences and mode coverage (the
PacGAN protocol's 2,500)."""
DECIMALS = 4
"""Decimals of the coordinates and values sent (JSON stays small and quick to encode)."""
ARROW_DIGITS = 4
"""Significant digits of the largest arrow: G's gradients can be tiny (a saturated loss),
so arrows are rounded relative to their size."""
VIEW_MARGIN = 0.25
"""The view box reaches this fraction of the data's extent beyond it on each side."""
QUANTILE_MASS = 0.98
"""The share of a normal prior's mass inside the manifold's grid (each axis)."""
STREAM = "playground_view"


def view_bounds(samples: Tensor) -> list[float]:
    """[xmin, xmax, ymin, ymax] around ``samples`` (n, d): the central 99.8 % of each axis,
    widened by :data:`VIEW_MARGIN` on each side; square in 2-D (the larger extent on both
    axes); 1-D has ymin, ymax = 0, 1."""
    points = samples.double()
    low = torch.quantile(points, 0.001, dim=0)
    high = torch.quantile(points, 0.999, dim=0)
    centre = (low + high) / 2
    half = ((high - low) / 2 * (1 + 2 * VIEW_MARGIN)).clamp(min=0.5)
    if points.shape[1] == 2:
        half = half.max().expand(2)
    box = torch.stack([centre - half, centre + half], dim=1).reshape(-1).tolist()
    box = [round(value, 3) for value in box]
    return box if points.shape[1] == 2 else [*box, 0.0, 1.0]


class Views:
    """The fixed inputs of one session's frames, and the frames' computation."""

    def __init__(self, trainer: Any, data_name: str, bounds: list[float] | None = None) -> None:
        source, prior = trainer.source, trainer.prior
        generator = torch.Generator().manual_seed(derive_seed(trainer.config.seed, STREAM))
        self.dim = source.shape[0]
        self.pack = getattr(trainer.config.discriminator, "pack", 1)
        shown = SHOWN - SHOWN % self.pack
        self.real = source.sample(shown, generator).cpu()  # (n, d)
        self.z = prior.sample(shown, generator)  # (n, z_dim)
        self.z_measure = prior.sample(MEASURE_SAMPLES, generator)
        wide = source.sample(MEASURE_SAMPLES, generator).cpu()
        self.bounds = bounds if bounds is not None else view_bounds(wide)
        self.references = References(source, data_name, self.bounds)
        xmin, xmax, ymin, ymax = self.bounds
        if self.dim == 2:
            xs = _centres(xmin, xmax, SURFACE_CELLS)
            ys = _centres(ymin, ymax, SURFACE_CELLS)
            rows, columns = torch.meshgrid(ys, xs, indexing="ij")
            self.surface_points = torch.stack([columns, rows], -1).reshape(-1, 2)
        self.curve_x = torch.linspace(xmin, xmax, CURVE_POINTS)
        self.z_nodes, self.cell_mass = _manifold_grid(prior.distribution, prior.dim)
        self.density = (
            source.log_prob(self.curve_x[:, None].double()).exp().float()
            if self.dim == 1 and source.has_density
            else None
        )

    def render(self, trainer: Any, measure: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """The picture of ``trainer`` now, and (with ``measure``) the divergence estimate,
        its reference value and the mode scores at this moment."""
        G, D, objective = trainer.generator, trainer.discriminator, trainer.objective
        batch = trainer.batch_size
        with evaluating(G, D):
            with torch.no_grad():
                fake = G(self.z).float()
                real_logits = _in_batches(D, self.real, batch)
            with torch.enable_grad():
                x = fake.detach().requires_grad_(True)
                fake_logits = _in_batches(D, x, batch)
                real_for_g = real_logits if objective.g_loss_needs_real else None
                loss = objective.g_loss(fake_logits, real_for_g) * fake_logits.numel()
                (gradient,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                picture = {
                    "dim": self.dim,
                    "bounds": self.bounds,
                    "real": _values(self.real),
                    "fake": _values(fake),
                    "arrows": _values(-gradient, _decimals_for(gradient)),
                    "surface": None,
                    "manifold": None,
                    "curves1d": None,
                }
                probability = objective.logits_are_probabilities
                if self.dim == 2:
                    values = _scores(D, self.surface_points, fake[:batch], probability)
                    picture["surface"] = {
                        "nx": SURFACE_CELLS,
                        "ny": SURFACE_CELLS,
                        "values": _values(values),
                        "kind": "probability" if probability else "critic",
                    }
                    if self.z_nodes is not None:
                        picture["manifold"] = self._manifold(G)
                measured = G(self.z_measure).float() if measure or self.dim == 1 else None
                if self.dim == 1:
                    assert measured is not None
                    picture["curves1d"] = self._curves(D, fake[:batch], measured, probability)
                measures = {}
                if measure:
                    assert measured is not None
                    measures = self._measures(objective, real_logits, fake_logits, fake, measured)
        return picture, measures

    def _manifold(self, G: nn.Module) -> dict[str, Any]:
        nodes = G(self.z_nodes).float()  # (N², 2)
        grid = nodes.reshape(MANIFOLD_NODES, MANIFOLD_NODES, 2)  # [j, i]
        a, b = grid[:-1, :-1], grid[:-1, 1:]
        c, d = grid[1:, 1:], grid[1:, :-1]
        area = 0.5 * (_cross(a, b) + _cross(b, c) + _cross(c, d) + _cross(d, a)).abs()
        density = (self.cell_mass / area.clamp(min=1e-12)).clamp(max=1e6)
        return {
            "nx": MANIFOLD_NODES,
            "ny": MANIFOLD_NODES,
            "points": _values(nodes),
            "density": _values(density.reshape(-1)),
        }

    def _curves(
        self, D: nn.Module, fake: Tensor, measured: Tensor, probability: bool
    ) -> dict[str, Any]:
        x = self.curve_x
        p_g = _kde(measured[:, 0].double(), x.double(), self.bounds).float()
        p_data = self.density if self.density is not None else torch.zeros_like(x)
        d = _scores(D, x[:, None], fake, probability)
        d_star = torch.where(p_data + p_g > 0, p_data / (p_data + p_g), torch.full_like(x, 0.5))
        return {
            "x": _values(x),
            "p_data": _values(p_data),
            "p_g": _values(p_g),
            "d": _values(d),
            "d_star": _values(d_star),
            "kind": "probability" if probability else "critic",
        }

    def _measures(
        self,
        objective: Any,
        real_logits: Tensor,
        fake_logits: Tensor,
        fake: Tensor,
        measured: Tensor,
    ) -> dict[str, Any]:
        divergence = objective.divergence or "js"
        estimate = None
        if objective.divergence_estimate is not None:
            estimate = float(objective.divergence_estimate(real_logits, fake_logits.detach()))
        exact, modes = None, None
        if torch.isfinite(measured).all() and torch.isfinite(fake).all():  # not diverged
            exact = self.references.divergence(divergence, self.real, fake, measured)
            modes = self.references.modes(measured[:PROTOCOL_SAMPLES])
        return {
            "divergence": divergence,
            "estimate": estimate,
            "exact": exact,
            "coverage": None if modes is None else modes[0],
            "high_quality": None if modes is None else modes[1],
        }


def _in_batches(D: nn.Module, x: Tensor, batch: int) -> Tensor:
    """D's logits on ``x``; with minibatch discrimination in chunks of the training batch
    size, so that each sample is compared with as many others as in training."""
    if not isinstance(getattr(D, "minibatch", None), MinibatchDiscrimination):
        return D(x).float()
    return torch.cat([D(chunk) for chunk in x.split(batch)]).float()


def _scores(D: nn.Module, x: Tensor, batch: Tensor, probability: bool) -> Tensor:
    """D's verdict at each point of ``x`` (n, d) on its own: σ(logit) or the critic's value.
    A packing D scores a pack of copies of the point; with minibatch discrimination the
    point is scored as one more member of ``batch``."""
    pack = getattr(D, "pack", 1)
    inputs = x.repeat_interleave(pack, 0) if pack > 1 else x
    minibatch = getattr(D, "minibatch", None)
    if isinstance(minibatch, MinibatchDiscrimination):
        h, others = D.features(inputs), D.features(batch)
        closeness = _closeness(minibatch, h, others) + 1  # + c(x, x) = 1 for each kernel
        logits = D.head(torch.cat([h, closeness], dim=1))
    else:
        logits = D(inputs)
    logits = logits.float()
    return torch.sigmoid(logits) if probability else logits


def _closeness(layer: MinibatchDiscrimination, h: Tensor, others: Tensor) -> Tensor:
    """o(x)_b = Σ_j exp(−‖M_b(x) − M_b(x_j)‖₁) over the rows x_j of ``others`` (Salimans et
    al. 2016, §3.2), for each row of ``h``: (n, kernels)."""
    shape = (layer.kernels, layer.kernel_dim)
    m = (h @ layer.T.flatten(1)).unflatten(1, shape)  # (n, B, C)
    m_others = (others @ layer.T.flatten(1)).unflatten(1, shape)  # (N, B, C)
    l1 = sum(
        (m[:, None, :, c] - m_others[None, :, :, c]).abs() for c in range(layer.kernel_dim)
    )  # (n, N, B)
    return torch.exp(-l1).sum(dim=1)


def _kde(samples: Tensor, x: Tensor, bounds: list[float]) -> Tensor:
    """A Gaussian kernel density estimate at ``x`` with Silverman's bandwidth
    0.9·min(σ, IQR/1.34)·n^(−1/5), at least 1/200 of the view's width."""
    n = len(samples)
    quartiles = torch.quantile(samples, torch.tensor([0.25, 0.75], dtype=samples.dtype))
    spread = min(float(samples.std()), float(quartiles[1] - quartiles[0]) / 1.34)
    floor = (bounds[1] - bounds[0]) / 200
    bandwidth = max(0.9 * spread * n ** (-0.2), floor) if math.isfinite(spread) else floor
    u = (x[:, None] - samples[None, :]) / bandwidth
    return torch.exp(-0.5 * u * u).sum(dim=1) / (n * bandwidth * math.sqrt(2 * math.pi))


def _manifold_grid(distribution: str, dim: int) -> tuple[Tensor | None, float]:
    """The manifold's z nodes (N², 2), row j of z₂ after row j − 1, and the prior mass of
    each of its cells; (None, 0) unless z ∈ R²."""
    if dim != 2:
        return None, 0.0
    if distribution == "normal":
        tail = (1 - QUANTILE_MASS) / 2
        axis = torch.special.ndtri(torch.linspace(tail, 1 - tail, MANIFOLD_NODES).double())
        mass = (QUANTILE_MASS / (MANIFOLD_NODES - 1)) ** 2
    else:
        axis = torch.linspace(-1, 1, MANIFOLD_NODES).double()
        mass = (1 / (MANIFOLD_NODES - 1)) ** 2
    z2, z1 = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([z1, z2], -1).reshape(-1, 2).float(), mass


def _centres(low: float, high: float, cells: int) -> Tensor:
    step = (high - low) / cells
    return low + step * (torch.arange(cells, dtype=torch.float32) + 0.5)


def _cross(a: Tensor, b: Tensor) -> Tensor:
    """The z-component of a × b for 2-D vectors (shoelace terms)."""
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _decimals_for(t: Tensor) -> int:
    """Decimals that keep :data:`ARROW_DIGITS` significant digits of the largest |value|."""
    largest = float(t.detach().abs().max()) if t.numel() else 0.0
    if not math.isfinite(largest) or largest == 0:
        return DECIMALS
    return min(12, max(DECIMALS, ARROW_DIGITS - 1 - math.floor(math.log10(largest))))


def _values(t: Tensor, decimals: int = DECIMALS) -> list[Any]:
    """A tensor as nested lists rounded to ``decimals`` (1-D data: a flat list of
    coordinates); NaN and infinities as None."""
    array = t.detach().double().numpy()
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    rounded = np.round(array, decimals)
    if np.isfinite(rounded).all():
        return rounded.tolist()
    return np.where(np.isfinite(rounded), rounded, None).tolist()
