"""Build a run's networks from its config alone, through its task (:mod:`gankit.tasks`).

What the networks need to know of the data is a small dict, :func:`data_info`, saved in
every checkpoint so that a run can be rebuilt without loading its data:
``{"kind", "shape", "classes", "input_shape"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from gankit.config import Config
from gankit.data import DataSource
from gankit.tasks import build_task


def data_info(config: Config, source: DataSource) -> dict[str, Any]:
    """What the networks need to know of ``source`` for ``config.task``; refuses data that
    does not fit the task, naming the sources that do."""
    return build_task(config).data_info(source)


def build_networks(config: Config, data: Mapping[str, Any]) -> dict[str, nn.Module]:
    """The task's networks on the CPU, initialised from torch's global RNG: always
    ``generator`` and ``discriminator``; CycleGAN adds ``generator_ba`` (B → A) and
    ``discriminator_a`` (judging domain A; ``discriminator`` judges B)."""
    return build_task(config).build_networks(dict(data))
