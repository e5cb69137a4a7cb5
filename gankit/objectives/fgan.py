"""f-GAN (Nowozin, Cseke & Tomioka 2016): GAN training for any f-divergence.

With P the data, Q the model and a convex f with f(1) = 0, the f-divergence is
    D_f(P‖Q) = ∫ q(x) f(p(x)/q(x)) dx.
Fenchel duality, f(u) = sup_t [t·u − f*(t)], gives for any critic T the lower bound
    D_f(P‖Q) ≥ F(T) = E_P[T(x)] − E_Q[f*(T(x))],
tight at T*(x) = f′(p(x)/q(x)). The network outputs an unconstrained V (the "logit") and
T = g_f(V), where the output activation g_f maps ℝ into the domain of f* (eq. 6). Each
:class:`FDivergence` below is one row of the paper's Table 2, with f*(g_f(v)) in a closed
form that never rounds g_f(v) onto the edge of f*'s domain (where, e.g., −log(2 − eᵗ) is
inf). All losses average over every element.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

_LOG2 = math.log(2.0)


@dataclass(frozen=True)
class FDivergence:
    """One f-divergence with everything f-GAN needs (Nowozin et al. 2016, Tables 1–2).

    ``f`` is the generator on u > 0, ``conjugate`` its Fenchel conjugate
    f*(t) = sup_u [u·t − f(u)] for t in ``domain`` (open interval, ±inf for unbounded),
    ``activation`` the output activation g_f, ``conjugate_of_activation`` f*(g_f(v)) and
    ``derivative`` f′, so that the optimal critic is T*(x) = f′(p(x)/q(x)).
    """

    name: str
    f: Callable[[Tensor], Tensor]
    conjugate: Callable[[Tensor], Tensor]
    activation: Callable[[Tensor], Tensor]
    conjugate_of_activation: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    domain: tuple[float, float]


F_DIVERGENCES: dict[str, FDivergence] = {
    d.name: d
    for d in (
        # KL(P‖Q): f = u log u.
        FDivergence(
            name="kl",
            f=lambda u: torch.xlogy(u, u),
            conjugate=lambda t: torch.exp(t - 1),
            activation=lambda v: v,
            conjugate_of_activation=lambda v: torch.exp(v - 1),
            derivative=lambda u: 1 + torch.log(u),
            domain=(-math.inf, math.inf),
        ),
        # KL(Q‖P): f = −log u; f*(t) = −1 − log(−t), so f*(−e^{−v}) = v − 1.
        FDivergence(
            name="reverse_kl",
            f=lambda u: -torch.log(u),
            conjugate=lambda t: -1 - torch.log(-t),
            activation=lambda v: -torch.exp(-v),
            conjugate_of_activation=lambda v: v - 1,
            derivative=lambda u: -1 / u,
            domain=(-math.inf, 0.0),
        ),
        # Pearson χ²(P‖Q) = ∫ (p − q)²/q: f = (u − 1)². Table 2's f*(t) = t²/4 + t is the
        # conjugate of (u − 1)² over all real u; over u > 0 it agrees for t ≥ −2 and is
        # larger below (there the true conjugate is −1), so F(T) stays a lower bound.
        FDivergence(
            name="pearson",
            f=lambda u: (u - 1) ** 2,
            conjugate=lambda t: t**2 / 4 + t,
            activation=lambda v: v,
            conjugate_of_activation=lambda v: v**2 / 4 + v,
            derivative=lambda u: 2 * (u - 1),
            domain=(-math.inf, math.inf),
        ),
        # Neyman χ²(P‖Q) = ∫ (p − q)²/p: f = (1 − u)²/u; f*(t) = 2 − 2√(1 − t).
        FDivergence(
            name="neyman",
            f=lambda u: (1 - u) ** 2 / u,
            conjugate=lambda t: 2 - 2 * torch.sqrt(1 - t),
            activation=lambda v: -torch.expm1(-v),
            conjugate_of_activation=lambda v: 2 - 2 * torch.exp(-v / 2),
            derivative=lambda u: 1 - u ** (-2),
            domain=(-math.inf, 1.0),
        ),
        # Squared Hellinger ∫ (√p − √q)²: f = (√u − 1)²; f*(t) = t/(1 − t).
        FDivergence(
            name="hellinger",
            f=lambda u: (torch.sqrt(u) - 1) ** 2,
            conjugate=lambda t: t / (1 - t),
            activation=lambda v: -torch.expm1(-v),
            conjugate_of_activation=torch.expm1,
            derivative=lambda u: 1 - torch.rsqrt(u),
            domain=(-math.inf, 1.0),
        ),
        # Table 1's Jensen–Shannon generator f = u log u − (u + 1) log((1 + u)/2). Its
        # D_f is 2·JS(P‖Q) (at most log 4): the ½ printed in front of Table 1's integral
        # does not match this f. f*(t) = −log(2 − eᵗ); f*(log 2 − softplus(−v)) =
        # softplus(v) − log 2.
        FDivergence(
            name="js",
            f=lambda u: torch.xlogy(u, u) - (u + 1) * torch.log((u + 1) / 2),
            conjugate=lambda t: -_LOG2 - torch.log1p(-torch.exp(t - _LOG2)),
            activation=lambda v: _LOG2 - F.softplus(-v),
            conjugate_of_activation=lambda v: F.softplus(v) - _LOG2,
            derivative=lambda u: torch.log(2 * u / (1 + u)),
            domain=(-math.inf, _LOG2),
        ),
        # The original GAN: f = u log u − (u + 1) log(u + 1), D_f = 2·JS(P‖Q) − log 4.
        # g_f = log σ(v) = −softplus(−v) and f*(t) = −log(1 − eᵗ), so f*(g_f(v)) =
        # softplus(v) and −F is exactly the minimax discriminator loss.
        FDivergence(
            name="gan",
            f=lambda u: torch.xlogy(u, u) - (u + 1) * torch.log1p(u),
            conjugate=lambda t: -torch.log(-torch.expm1(t)),
            activation=lambda v: -F.softplus(-v),
            conjugate_of_activation=F.softplus,
            derivative=lambda u: torch.log(u / (u + 1)),
            domain=(-math.inf, 0.0),
        ),
        # Total variation ½∫|p − q|: f = ½|u − 1|; f*(t) = t on |t| ≤ ½.
        FDivergence(
            name="tv",
            f=lambda u: (u - 1).abs() / 2,
            conjugate=lambda t: t,
            activation=lambda v: torch.tanh(v) / 2,
            conjugate_of_activation=lambda v: torch.tanh(v) / 2,
            derivative=lambda u: torch.sign(u - 1) / 2,
            domain=(-0.5, 0.5),
        ),
    )
}


def fgan_bound(divergence: FDivergence, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """F(T) = E_P[g_f(V(x))] − E_Q[f*(g_f(V(G(z))))] ≤ D_f(P‖Q) (Nowozin et al. 2016, eq. 6)."""
    return (
        divergence.activation(real_logits).mean()
        - divergence.conjugate_of_activation(fake_logits).mean()
    )


def fgan_estimate(divergence: FDivergence, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The bound F as an estimate of the divergence that :func:`estimated_divergence` names.

    F itself for most rows; the "js" and "gan" rows bound 2·JS and 2·JS − log 4, so they
    report JS ≥ F/2 and JS ≥ (F + log 4)/2, comparable with the minimax GAN's estimate."""
    bound = fgan_bound(divergence, real_logits, fake_logits)
    if divergence.name == "js":
        return bound / 2
    if divergence.name == "gan":
        return (bound + 2 * _LOG2) / 2
    return bound


def estimated_divergence(divergence: FDivergence) -> str:
    """Name of the divergence :func:`fgan_estimate` reports."""
    return "js" if divergence.name in ("js", "gan") else divergence.name


def fgan_d_loss(divergence: FDivergence, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The critic maximises the bound: loss −F(T)."""
    return -fgan_bound(divergence, real_logits, fake_logits)


def fgan_saturating_g_loss(divergence: FDivergence, fake_logits: Tensor) -> Tensor:
    """G minimises F(T), of which only −E_Q[f*(g_f(V(G(z))))] depends on G."""
    return -divergence.conjugate_of_activation(fake_logits).mean()


def fgan_nonsaturating_g_loss(divergence: FDivergence, fake_logits: Tensor) -> Tensor:
    """G maximises E_Q[g_f(V(G(z)))] instead (Nowozin et al. 2016, §3.2): loss −E_Q[g_f(V)].

    For "gan" this is the non-saturating −E[log D(G(z))]. It is not a descent direction of
    D_f: at the optimal critic T* = f′(p/q), the saturating loss weights ∇T*(G(z)) by p/q
    and this one does not, so for kl G ascends E_Q[log p/q], i.e. descends KL(Q‖P)."""
    return -divergence.activation(fake_logits).mean()
