"""The registries of generators and discriminators, and what every network shares.

Kept in its own module so that the network modules (``mlp``, ``dcgan``, …) can register
into ``GENERATORS`` and ``DISCRIMINATORS`` without importing the package ``__init__`` that
imports them (as :mod:`gankit.data.registry` does for data sources).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from torch import nn

from gankit.errors import GankitError
from gankit.registry import Registry

GENERATORS: Registry[type[nn.Module]] = Registry("generator")
DISCRIMINATORS: Registry[type[nn.Module]] = Registry("discriminator")


class NetError(GankitError, ValueError):
    """A network that cannot be built for this data; the message names the config key."""


class NetOptions(BaseModel):
    """Base of every network's options; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)
