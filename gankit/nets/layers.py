"""Small building blocks shared by the networks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from torch import nn

from gankit.nets import NetError

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
