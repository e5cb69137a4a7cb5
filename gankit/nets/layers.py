"""Small building blocks shared by the networks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from gankit.nets.registry import NetError

Activation = Literal["relu", "leaky_relu", "elu", "gelu", "tanh", "silu"]

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "none": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module by name; ``leaky_relu`` has slope 0.2, ``none`` is identity."""
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise NetError(
            f"unknown activation {name!r}; choose one of: {', '.join(_ACTIVATIONS)}"
        ) from None


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation in place (Miyato et al., 2018): every Linear, Conv2d and
    ConvTranspose2d weight W inside ``module`` becomes W / σ(W), σ(W) the largest singular
    value of W as a matrix, (out, −1) or, for transposed convolutions, (in, −1).

    σ is estimated by the power method with vectors u, v (state-dict buffers, so they are
    checkpointed): 15 iterations here, then one per training-mode forward pass, none in eval
    mode. Initialise the weights first; the raw tensor then lives at
    ``parametrizations.weight.original``. Other parameters (biases, norms, minibatch
    discrimination's T) are left as they are.
    """
    weighted = nn.Linear | nn.Conv2d | nn.ConvTranspose2d
    layers = [m for m in module.modules() if isinstance(m, weighted)]  # before any is wrapped
    for layer in layers:
        spectral_norm(layer)  # dim 1 for ConvTranspose2d, 0 otherwise
    return module


class SelfAttention(nn.Module):
    """Self-attention over the positions of a feature map (Zhang et al. 2019, SAGAN, §3).

    For x of C channels at N = H·W positions, 1×1 convolutions f, g, h to C̄ = max(1, C/8)
    channels and v back to C give

        s_ij = f(x_i)ᵀ g(x_j),   β_{j,i} = exp(s_ij) / Σ_i exp(s_ij),
        o_j = v(Σ_i β_{j,i} h(x_i)),   y_i = γ·o_i + x_i,

    with a learned scalar γ that starts at 0, so the layer is the identity at
    initialisation and the network learns how much non-local evidence to use. The
    convolutions carry no bias (as in BigGAN) and start Xavier-uniform (as in SAGAN's code);
    time and memory grow as N² per sample."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(1, channels // 8)
        self.f = nn.Conv2d(channels, inner, 1, bias=False)
        self.g = nn.Conv2d(channels, inner, 1, bias=False)
        self.h = nn.Conv2d(channels, inner, 1, bias=False)
        self.v = nn.Conv2d(inner, channels, 1, bias=False)
        for conv in (self.f, self.g, self.h, self.v):
            nn.init.xavier_uniform_(conv.weight)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        f, g, h = (conv(x).flatten(2) for conv in (self.f, self.g, self.h))  # (B, C̄, N) each
        beta = torch.softmax(f.transpose(1, 2) @ g, dim=1)  # (B, N_i, N_j), softmax over i
        o = (h @ beta).unflatten(2, (height, width))  # o_j = Σ_i β_{j,i} h(x_i): (B, C̄, H, W)
        return x + self.gamma * self.v(o)


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias come from a condition vector e (one per sample):

        y = BN(x) · (1 + W_γ e) + W_β e,

    BN without its own affine parameters (de Vries et al. 2017; class-conditional as in
    Miyato & Koyama 2018 and BigGAN, Brock et al. 2019, where e is a class embedding).
    W_γ and W_β start at 0, so the layer starts as plain BatchNorm with γ = 1, β = 0; with a
    one-hot e their columns are one (γ_y − 1, β_y) per class."""

    def __init__(self, channels: int, condition_dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(condition_dim, channels, bias=False)  # W_γ
        self.shift = nn.Linear(condition_dim, channels, bias=False)  # W_β
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        gain = 1 + self.gain(condition)[:, :, None, None]  # (B, C, 1, 1)
        return self.norm(x) * gain + self.shift(condition)[:, :, None, None]
