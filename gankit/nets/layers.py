"""Small building blocks shared by the networks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from torch import nn
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
