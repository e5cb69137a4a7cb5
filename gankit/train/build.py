"""Build the networks a config describes for the data a source provides.

What the networks need to know of the data is a small dict, :func:`data_info`, saved in
every checkpoint so that a run can be rebuilt without loading its data:
``{"kind", "shape", "classes", "input_shape"}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torch import nn

from gankit.config import Config, ConfigError
from gankit.data import DataSource
from gankit.nets import (
    build_discriminator,
    build_generator,
    build_patch_discriminator,
    build_translator,
)
from gankit.nets.conditional import ConditionalDiscriminator, ConditionalGenerator, LabelEmbedding

TASK_DATA = {"paired": "pairs", "unpaired": "unpaired"}
"""The data kind each translation task needs."""


def data_info(config: Config, source: DataSource) -> dict[str, Any]:
    """What the networks need to know of ``source`` for ``config.task``; refuses data that
    does not fit the task, naming the sources that do."""
    needed = TASK_DATA.get(config.task)
    if source.kind != needed if needed else source.kind in TASK_DATA.values():
        fitting = {
            "pairs": "aligned, paired_folders, edges2digits",
            "unpaired": "unpaired_folders, mnist2digits8x8",
        }
        wanted = f"{needed} ({fitting[needed]})" if needed else "images or points"
        raise ConfigError(
            f"task={config.task} needs data of kind {wanted}; data.name={config.data.name} "
            f"gives {source.kind}"
        )
    classes = 0
    if config.task == "conditional":
        if source.classes < 2:
            raise ConfigError(
                f"task=conditional needs data with at least 2 class labels; data.name="
                f"{config.data.name} has {source.classes or 'none'} (use the digit sets, a "
                "folder with one sub-folder per class, ring or grid)"
            )
        classes = source.classes
    input_shape = getattr(source, "input_shape", None) or getattr(source, "shape_a", None)
    return {
        "kind": source.kind,
        "shape": list(source.shape),
        "classes": classes,
        "input_shape": list(input_shape) if input_shape is not None else None,
    }


def build_networks(config: Config, data: Mapping[str, Any]) -> dict[str, nn.Module]:
    """The task's networks on the CPU, initialised from torch's global RNG.

    Always ``generator`` and ``discriminator``; CycleGAN adds ``generator_ba`` (B → A) and
    ``discriminator_a`` (judging domain A; ``discriminator`` judges B). G ends in tanh for
    images (scaled to [−1, 1]) and is linear for points. With ``task: conditional`` they
    are G(z, y) and D(x, y) for labels in 0..classes−1."""
    shape = tuple(data["shape"])
    if config.task == "paired":
        c_in, c_out = data["input_shape"][0], shape[0]
        return {
            "generator": build_translator(config.generator, c_in, c_out, shape[-1]),
            # D judges the (input, output) pair joined on channels
            "discriminator": build_patch_discriminator(config.discriminator, c_in + c_out),
        }
    if config.task == "unpaired":
        c_a, c_b = data["input_shape"][0], shape[0]
        return {
            "generator": build_translator(config.generator, c_a, c_b, shape[-1]),
            "discriminator": build_patch_discriminator(config.discriminator, c_b),
            "generator_ba": build_translator(config.generator, c_b, c_a, shape[-1]),
            "discriminator_a": build_patch_discriminator(config.discriminator, c_a),
        }
    out_activation = "tanh" if data["kind"] == "images" else "none"
    if config.task != "conditional":
        return {
            "generator": build_generator(config.generator, config.noise.dim, shape, out_activation),
            "discriminator": build_discriminator(config.discriminator, shape),
        }
    return _conditional_networks(config, shape, data["kind"], data["classes"], out_activation)


def _conditional_networks(
    config: Config, shape: tuple[int, ...], kind: str, classes: int, out_activation: str
) -> dict[str, nn.Module]:
    """G(z, y) = G₀([z, e(y)]) and D(x, y) by concatenation or projection."""
    condition = config.condition
    g_embedding = LabelEmbedding(classes, condition.embedding, condition.embed_dim)
    base_g = build_generator(
        config.generator, config.noise.dim + g_embedding.dim, shape, out_activation
    )
    generator = ConditionalGenerator(base_g, g_embedding)
    auxiliary = condition.auxiliary_weight > 0
    if condition.discriminator == "projection":
        base_d = build_discriminator(config.discriminator, shape)
        discriminator = ConditionalDiscriminator(base_d, classes, "projection", auxiliary=auxiliary)
        return {"generator": generator, "discriminator": discriminator}
    d_embedding = LabelEmbedding(classes, condition.embedding, condition.embed_dim)
    channels = kind == "images" and config.discriminator.name != "mlp"
    if channels:
        c, h, w = shape
        joined_shape: tuple[int, ...] = (c + d_embedding.dim, h, w)
    else:
        joined_shape = (math.prod(shape) + d_embedding.dim,)
    base_d = build_discriminator(config.discriminator, joined_shape)
    discriminator = ConditionalDiscriminator(
        base_d, classes, "concat", d_embedding, channels=channels, auxiliary=auxiliary
    )
    return {"generator": generator, "discriminator": discriminator}
