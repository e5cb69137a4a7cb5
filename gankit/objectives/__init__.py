"""Objectives: what D and G minimise, as pure functions of D's outputs.

An :class:`Objective` bundles ``d_loss(real, fake)``, ``g_loss(fake, real)`` and the
divergence its discriminator estimates. Each objective registers here with its options
model; the config's ``objective:`` section is built from this registry, and regularisers
add ``weight · penalty`` terms on top in the Trainer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import Tensor

from gankit.objectives.fgan import (
    F_DIVERGENCES,
    FDivergence,
    estimated_divergence,
    fgan_bound,
    fgan_d_loss,
    fgan_estimate,
    fgan_nonsaturating_g_loss,
    fgan_saturating_g_loss,
)
from gankit.objectives.gan import (
    js_estimate,
    minimax_d_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
)
from gankit.objectives.hinge import hinge_d_loss, hinge_g_loss, tv_estimate
from gankit.objectives.least_squares import (
    least_squares_d_loss,
    least_squares_g_loss,
    triangular_estimate,
)
from gankit.objectives.relativistic import (
    rasgan_d_loss,
    rasgan_g_loss,
    rsgan_d_loss,
    rsgan_g_loss,
)
from gankit.objectives.wasserstein import w1_estimate, wasserstein_d_loss, wasserstein_g_loss
from gankit.registry import Registry

__all__ = [
    "F_DIVERGENCES",
    "OBJECTIVES",
    "FDivergence",
    "Objective",
    "ObjectiveOptions",
    "build_objective",
    "fgan_bound",
    "estimated_divergence",
    "fgan_d_loss",
    "fgan_estimate",
    "fgan_nonsaturating_g_loss",
    "fgan_saturating_g_loss",
    "hinge_d_loss",
    "hinge_g_loss",
    "js_estimate",
    "least_squares_d_loss",
    "least_squares_g_loss",
    "minimax_d_loss",
    "minimax_g_loss",
    "nonsaturating_g_loss",
    "rasgan_d_loss",
    "rasgan_g_loss",
    "rsgan_d_loss",
    "rsgan_g_loss",
    "triangular_estimate",
    "tv_estimate",
    "w1_estimate",
    "wasserstein_d_loss",
    "wasserstein_g_loss",
]


@dataclass(frozen=True)
class Objective:
    """The losses of one GAN game and the divergence its discriminator estimates.

    Every loss is a scalar to minimise and averages over every element of its inputs, so
    a PatchGAN map (B, 1, h, w) works like a vector (B,)."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    """``d_loss(real_logits, fake_logits)``."""
    g_loss: Callable[[Tensor, Tensor | None], Tensor]
    """``g_loss(fake_logits, real_logits)``; ``real_logits`` is None unless
    ``g_loss_needs_real``."""
    divergence_estimate: Callable[[Tensor, Tensor], Tensor] | None
    """``(real_logits, fake_logits)`` → scalar estimate of ``divergence``; None when the
    objective implies no divergence."""
    divergence: str | None
    """Name of the divergence estimated, e.g. "js", "kl", "w1", "tv", "triangular"."""
    logits_are_probabilities: bool = True
    """True when σ(logit) is D's probability that the input is real (D(x) and accuracy
    are then meaningful); False for critics such as WGAN's."""
    g_loss_needs_real: bool = False
    """True when ``g_loss`` needs D's outputs on real data (relativistic GANs)."""


def _fake_only(loss: Callable[[Tensor], Tensor]) -> Callable[[Tensor, Tensor | None], Tensor]:
    """Fit a loss of the fake logits alone into the ``g_loss(fake, real)`` slot."""

    def g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return loss(fake_logits)

    return g_loss


OBJECTIVES: Registry = Registry("objective")


class ObjectiveOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_LABEL_SMOOTHING = Field(
    0.0,
    ge=0,
    lt=0.5,
    description="One-sided label smoothing α: D's target for real samples is 1 − α "
    "(Salimans et al. 2016); fakes keep target 0.",
)


class MinimaxOptions(ObjectiveOptions):
    name: Literal["minimax"] = Field("minimax", description="The original saturating game.")
    label_smoothing: float = _LABEL_SMOOTHING


class NonSaturatingOptions(ObjectiveOptions):
    name: Literal["nonsaturating"] = Field(
        "nonsaturating", description="Minimax D loss with the −log D(G(z)) generator loss."
    )
    label_smoothing: float = _LABEL_SMOOTHING


FDivergenceName = Literal["kl", "reverse_kl", "js", "pearson", "neyman", "hellinger", "tv", "gan"]


class FGANOptions(ObjectiveOptions):
    name: Literal["fgan"] = Field(
        "fgan", description="f-GAN: D maximises a variational lower bound on an f-divergence."
    )
    divergence: FDivergenceName = Field(
        "js",
        description="The f-divergence D_f(P_data‖P_G): kl, reverse_kl, js (its f gives 2·JS), "
        "pearson χ², neyman χ², hellinger (squared), tv, gan (2·JS − log 4); js and gan "
        "report their estimate as JS.",
    )
    generator_loss: Literal["saturating", "nonsaturating"] = Field(
        "saturating",
        description="saturating: G minimises the bound, −E[f*(g_f(V(G(z))))], and so D_f; "
        "nonsaturating: G maximises E[g_f(V(G(z)))] (f-GAN §3.2), stronger early gradients "
        "but a different fixed point (for kl it descends the reverse KL).",
    )


class WassersteinOptions(ObjectiveOptions):
    name: Literal["wasserstein"] = Field(
        "wasserstein",
        description="WGAN: a critic without sigmoid estimates W1 (keep it Lipschitz with a "
        "regulariser).",
    )


class LeastSquaresOptions(ObjectiveOptions):
    name: Literal["least_squares"] = Field(
        "least_squares", description="LSGAN: D regresses its outputs onto target values."
    )
    a: float = Field(0.0, description="D's target for fake samples.")
    b: float = Field(1.0, description="D's target for real samples (must differ from a).")
    c: float = Field(1.0, description="The value G wants D to output for fake samples.")

    @model_validator(mode="after")
    def _targets_differ(self) -> LeastSquaresOptions:
        if self.a == self.b:
            raise ValueError(f"least_squares needs b ≠ a (both are {self.a})")
        return self


class HingeOptions(ObjectiveOptions):
    name: Literal["hinge"] = Field(
        "hinge", description="Hinge loss on D's raw outputs (as in SAGAN, BigGAN, SN-GAN)."
    )


class RelativisticOptions(ObjectiveOptions):
    name: Literal["relativistic"] = Field(
        "relativistic", description="Relativistic GAN: D judges real relative to fake."
    )
    average: bool = Field(
        True,
        description="true: RaSGAN (compare with the other batch's mean); false: RSGAN "
        "(compare real and fake samples pairwise).",
    )


@OBJECTIVES.register("minimax", options=MinimaxOptions)
def minimax(options: MinimaxOptions) -> Objective:
    """Original minimax GAN: G minimises E[log(1 − D(G(z)))] (saturates early).

    D minimises −E[log D(x)] − E[log(1 − D(G(z)))] (Goodfellow et al. 2014); the estimate
    is JS(P‖Q) ≈ (log 4 − D's unsmoothed loss)/2."""
    d_loss = partial(minimax_d_loss, label_smoothing=options.label_smoothing)
    return Objective("minimax", d_loss, _fake_only(minimax_g_loss), js_estimate, "js")


@OBJECTIVES.register("nonsaturating", options=NonSaturatingOptions)
def nonsaturating(options: NonSaturatingOptions) -> Objective:
    """Non-saturating GAN: G minimises −E[log D(G(z))] (Goodfellow et al. 2014).

    D's loss and the JS estimate are those of the minimax game."""
    d_loss = partial(minimax_d_loss, label_smoothing=options.label_smoothing)
    return Objective("nonsaturating", d_loss, _fake_only(nonsaturating_g_loss), js_estimate, "js")


@OBJECTIVES.register("fgan", options=FGANOptions)
def fgan(options: FGANOptions) -> Objective:
    """f-GAN: D maximises a lower bound on D_f(P‖Q) (Nowozin, Cseke & Tomioka 2016).

    F(T) = E_P[g_f(V(x))] − E_Q[f*(g_f(V(G(z))))] (eq. 6); D minimises −F, and F is the
    divergence estimate (as JS for the js and gan rows, whose D_f are 2·JS and
    2·JS − log 4). G minimises −E_Q[f*(g_f(V(G(z))))] (saturating) or −E_Q[g_f(V(G(z)))]
    (non-saturating, §3.2)."""
    divergence = F_DIVERGENCES[options.divergence]
    g_loss = {
        "saturating": fgan_saturating_g_loss,
        "nonsaturating": fgan_nonsaturating_g_loss,
    }[options.generator_loss]
    return Objective(
        "fgan",
        partial(fgan_d_loss, divergence),
        _fake_only(partial(g_loss, divergence)),
        partial(fgan_estimate, divergence),
        estimated_divergence(divergence),
        logits_are_probabilities=divergence.name == "gan",
    )


@OBJECTIVES.register("wasserstein", options=WassersteinOptions)
def wasserstein(options: WassersteinOptions) -> Objective:
    """Wasserstein GAN: a critic f estimates W1 (Arjovsky, Chintala & Bottou 2017).

    D minimises E[f(G(z))] − E[f(x)], G minimises −E[f(G(z))]; the estimate
    E[f(x)] − E[f(G(z))] bounds W1(P, Q) from below when f is 1-Lipschitz."""
    return Objective(
        "wasserstein",
        wasserstein_d_loss,
        _fake_only(wasserstein_g_loss),
        w1_estimate,
        "w1",
        logits_are_probabilities=False,
    )


@OBJECTIVES.register("least_squares", options=LeastSquaresOptions)
def least_squares(options: LeastSquaresOptions) -> Objective:
    """Least-squares GAN with targets a, b, c (Mao et al. 2017).

    D minimises ½E[(D(x) − b)²] + ½E[(D(G(z)) − a)²], G minimises ½E[(D(G(z)) − c)²]. At
    the optimal D, D's loss is (b − a)²·(2 − Δ)/8 with Δ = ∫(p − q)²/(p + q) the triangular
    discrimination, so Δ̂ = 2 − 8·d_loss/(b − a)² is the estimate."""
    a, b = options.a, options.b
    return Objective(
        "least_squares",
        partial(least_squares_d_loss, a=a, b=b),
        _fake_only(partial(least_squares_g_loss, c=options.c)),
        partial(triangular_estimate, a=a, b=b),
        "triangular",
        logits_are_probabilities=False,
    )


@OBJECTIVES.register("hinge", options=HingeOptions)
def hinge(options: HingeOptions) -> Objective:
    """Hinge GAN (Lim & Ye 2017; Miyato et al. 2018).

    D minimises E[relu(1 − D(x))] + E[relu(1 + D(G(z)))], G minimises −E[D(G(z))]. The
    optimal D = sign(p − q) makes D's loss 2 − 2·TV(P, Q), so 1 − d_loss/2 estimates TV."""
    return Objective(
        "hinge",
        hinge_d_loss,
        _fake_only(hinge_g_loss),
        tv_estimate,
        "tv",
        logits_are_probabilities=False,
    )


@OBJECTIVES.register("relativistic", options=RelativisticOptions)
def relativistic(options: RelativisticOptions) -> Objective:
    """Relativistic GAN, RaSGAN or RSGAN (Jolicoeur-Martineau 2018).

    RaSGAN: D minimises E_r[softplus(−(C(x_r) − E_f C(x_f)))] + E_f[softplus(C(x_f) −
    E_r C(x_r))] and G the same with real and fake swapped. RSGAN: D minimises
    E[softplus(−(C(x_r) − C(x_f)))] over index-paired samples, G E[softplus(−(C(x_f) −
    C(x_r)))]. G's loss needs C on real data; no divergence estimate."""
    d_loss, g_loss = (
        (rasgan_d_loss, rasgan_g_loss) if options.average else (rsgan_d_loss, rsgan_g_loss)
    )
    return Objective(
        "relativistic",
        d_loss,
        g_loss,
        None,
        None,
        logits_are_probabilities=False,
        g_loss_needs_real=True,
    )


def build_objective(options: ObjectiveOptions) -> Objective:
    """The :class:`Objective` named by ``options.name``."""
    return OBJECTIVES.get(options.name)(options)
