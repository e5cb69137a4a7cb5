"""Regularisers as pure functions of a discriminator and its inputs.

Each penalty returns a scalar that the Trainer adds to a player's loss with a weight:
total loss = adversarial loss + Σ weight · penalty. Random draws (the interpolation ε of
the gradient penalty, dropout masks of the consistency term) come from torch's global
generator, which the Trainer checkpoints, so a resumed run draws the same numbers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def input_gradient(discriminator: nn.Module, x: Tensor, scale: float = 1.0) -> Tensor:
    """∇_x Σ_i D(x_i), shape of ``x``, in float32, kept in the graph so a penalty on it can
    be trained (double backpropagation).

    Under mixed precision D's forward pass may run in autocast; the gradient itself is
    taken outside it. With a loss ``scale`` s (float16), it is the gradient of s·Σ_i D(x_i)
    divided by s, so that small gradients do not underflow on the way ("Gradient penalty"
    in PyTorch's AMP examples, https://pytorch.org/docs/stable/notes/amp_examples.html)."""
    x = x.detach().float().requires_grad_(True)
    output = discriminator(x).float().sum()
    with torch.autocast(x.device.type, enabled=False):
        (gradient,) = torch.autograd.grad(output * scale, x, create_graph=True)
    return gradient / scale


def gradient_penalty(
    discriminator: nn.Module,
    real: Tensor,
    fake: Tensor,
    target: float = 1.0,
    one_sided: bool = False,
    eps: Tensor | None = None,
    scale: float = 1.0,
) -> Tensor:
    """WGAN-GP penalty E[(‖∇D(x̂)‖₂ − 1)²] (Gulrajani et al. 2017, eq. 3).

    x̂ = εx + (1 − ε)x̃ with ε ~ U[0, 1] drawn per sample; the norm runs over every
    non-batch dimension. ``one_sided`` penalises only norms above the target,
    E[max(0, ‖∇D(x̂)‖₂ − 1)²] (the paper's §4 alternative). ``eps`` (shape (B,)) fixes ε;
    ``scale`` is the loss scale of float16 training (:func:`input_gradient`)."""
    if eps is None:
        eps = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    eps = eps.reshape(-1, *([1] * (real.dim() - 1)))  # (B, 1, …)
    mixed = eps * real.detach() + (1 - eps) * fake.detach()
    norms = input_gradient(discriminator, mixed, scale).flatten(1).norm(dim=1)  # (B,)
    excess = norms - target
    if one_sided:
        excess = F.relu(excess)
    return excess.square().mean()


def gradient_norm_penalty(discriminator: nn.Module, x: Tensor, scale: float = 1.0) -> Tensor:
    """½·E‖∇_x D(x)‖², the R1 penalty on real data or R2 on generated data
    (Mescheder, Geiger & Nowozin 2018, eq. 9–10); the weight γ multiplies it. ``scale`` is
    the loss scale of float16 training (:func:`input_gradient`)."""
    return input_gradient(discriminator, x, scale).flatten(1).square().sum(dim=1).mean() / 2


def consistency_term(
    discriminator: nn.Module, real: Tensor, feature_weight: float = 0.1, margin: float = 0.0
) -> Tensor:
    """Consistency term CT = E[max(0, d(D(x′), D(x″)) + 0.1·d(D_(x′), D_(x″)) − M′)]
    (Wei et al. 2018, eq. 4).

    x′ and x″ are two passes of the same real x through D with independent dropout masks;
    D_ is D's penultimate layer (``features``), d the Euclidean distance, M′ the margin."""
    first = discriminator(real, with_features=True)  # two passes, two dropout masks
    second = discriminator(real, with_features=True)
    logit_gap = (first.logits.float() - second.logits.float()).abs()  # (B,), in float32
    feature_gap = (first.features.float() - second.features.float()).norm(dim=1)  # (B,)
    return F.relu(logit_gap + feature_weight * feature_gap - margin).mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, clip: float) -> None:
    """Clamp every parameter of ``module`` to [−c, c] in place (WGAN, Arjovsky et al. 2017,
    Algorithm 1, after each critic update)."""
    for parameter in module.parameters():
        parameter.clamp_(-clip, clip)


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """‖E f(x) − E f(G(z))‖₂² over a batch of D's intermediate features
    (Salimans et al. 2016, §3.1), in float32; the real features are a fixed target."""
    real_mean = real_features.detach().float().mean(dim=0)
    return (real_mean - fake_features.float().mean(dim=0)).square().sum()


class HistoricalAverage:
    """Historical averaging (Salimans et al. 2016, §3.3): the penalty ‖θ − (1/t)Σᵢ θ[i]‖²
    pulls a player's parameters toward their running mean over past steps.

    The running means are state of the run: :meth:`state` / :meth:`load_state` move them
    into and out of a checkpoint."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.count = 0
        self.means = {
            name: p.detach().clone() for name, p in module.named_parameters() if p.requires_grad
        }

    def penalty(self) -> Tensor:
        """Σ over parameters of ‖θ − θ̄‖²; θ̄ starts at the initial weights."""
        parameters = dict(self.module.named_parameters())
        gaps = [(parameters[name] - mean).square().sum() for name, mean in self.means.items()]
        return torch.stack(gaps).sum()

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current parameters into the mean: θ̄ ← θ̄ + (θ − θ̄)/t."""
        self.count += 1
        parameters = dict(self.module.named_parameters())
        for name, mean in self.means.items():
            mean.add_(parameters[name] - mean, alpha=1 / self.count)

    def state(self) -> dict[str, Tensor]:
        means = {f"mean.{name}": mean for name, mean in self.means.items()}
        return {"count": torch.tensor(self.count), **means}

    def load_state(self, state: dict[str, Tensor]) -> None:
        self.count = int(state["count"])
        for name, mean in self.means.items():
            mean.copy_(state[f"mean.{name}"])


def lecam_penalty(
    real_logits: Tensor,
    fake_logits: Tensor,
    anchor_real: Tensor,
    anchor_fake: Tensor,
    one_sided: bool = False,
) -> Tensor:
    """LeCam regularisation R_LC = E_x[‖D(x) − α_F‖²] + E_z[‖D(G(z)) − α_R‖²]
    (Tseng et al. 2021, eq. 3): D's outputs on real data are pulled toward the moving
    average α_F of its outputs on generated data, and the other way round; the anchors are
    constants here. ``one_sided`` is the official code's E[relu(D(x) − α_F)²] +
    E[relu(α_R − D(G(z)))²]. Averages over every element (vectors or PatchGAN maps)."""
    real_gap = real_logits - anchor_fake.detach()
    fake_gap = anchor_real.detach() - fake_logits
    if one_sided:
        real_gap, fake_gap = F.relu(real_gap), F.relu(fake_gap)
    return real_gap.square().mean() + fake_gap.square().mean()


class LeCamAnchors:
    """The anchors of LeCam regularisation: α_R and α_F, exponential moving averages of D's
    mean output on real and on generated samples, α ← decay·α + (1 − decay)·E[D(·)],
    starting from 0 (Tseng et al. 2021, §3). Device tensors, updated without a host sync;
    :meth:`state` / :meth:`load_state` move them into and out of a checkpoint."""

    def __init__(self, decay: float, device: torch.device | str = "cpu") -> None:
        self.decay = decay
        self.real = torch.zeros((), device=device)
        self.fake = torch.zeros((), device=device)

    @torch.no_grad()
    def update(self, real_logits: Tensor, fake_logits: Tensor) -> None:
        """Fold one batch's mean outputs into the anchors."""
        beta = self.decay
        self.real = beta * self.real + (1 - beta) * real_logits.detach().mean().to(self.real)
        self.fake = beta * self.fake + (1 - beta) * fake_logits.detach().mean().to(self.fake)

    def state(self) -> dict[str, Tensor]:
        return {"anchor_real": self.real, "anchor_fake": self.fake}

    def load_state(self, state: dict[str, Tensor]) -> None:
        if "anchor_real" in state:  # a run that started without LeCam keeps the fresh anchors
            self.real = state["anchor_real"].to(self.real).clone()
            self.fake = state["anchor_fake"].to(self.fake).clone()
