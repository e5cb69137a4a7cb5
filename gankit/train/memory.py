"""Refuse a run whose batches cannot fit in memory, before anything large is allocated.

:func:`check_memory` estimates what a run needs and compares it with the memory available
on its device (free GPU memory for CUDA; otherwise the machine's available memory,
``MemAvailable`` of ``/proc/meminfo`` capped by a cgroup limit, or ``os.sysconf``). A run
that cannot fit fails with one :class:`~gankit.config.ConfigError` naming the key to
lower, the estimate and the available memory in GiB, instead of a traceback from the
allocator (or the kernel's OOM killer) minutes later.

The estimate counts float32 values (4 bytes) and is a floor, not a measurement, so only
runs that surely cannot fit are refused:

* the networks: their parameters, counted on PyTorch's meta device (nothing allocated,
  no random numbers drawn), times 4 for the weights, their gradients and Adam's two
  moments, plus one copy more for ``train.ema``;
* one training step: per sample of ``train.batch_size``, the values the step holds (the
  real sample, z and the fake sample; for translation the input, the target and the
  output, and CycleGAN's reverse direction) times ``1 + ACTIVATIONS`` for the activations
  the backward pass keeps. The hidden layers of the shipped networks are wider than the
  data, so the true multiple is larger;
* the sample grid: ``samples.count`` × (``noise.dim`` + 2 × sample) — the fixed z, the
  samples and the grid image;
* an evaluation: ``eval.samples`` × (``noise.dim`` + 2 × sample + ``FEATURES``) — z, the
  samples (and a copy on their way to the classifier) and their features.

Each of the last three is checked together with the networks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from gankit.config import Config, ConfigError
from gankit.devices import available_bytes

# re-exported from its old home until gankit.estimate and gankit.data.samples import it from
# gankit.devices
from gankit.errors import GankitError

BYTES_PER_VALUE = 4
"""float32."""

ACTIVATIONS = 8
"""Activations kept for the backward pass, as a multiple of the values of one step."""

FEATURES = 512
"""Classifier features per evaluated sample."""

OPTIMIZER_COPIES = 4
"""Weights, gradients and Adam's two moment estimates."""

GiB = 2**30


def check_memory(
    config: Config, data: Mapping[str, Any], device: torch.device | str | None = None
) -> None:
    """Raise a one-line :class:`ConfigError` when the networks, a training batch, the
    sample grid or an evaluation of ``config`` cannot fit in the memory available on
    ``device`` (default: the CPU); ``data`` is :func:`gankit.train.build.data_info`.
    Does nothing when the available memory cannot be read."""
    available = available_bytes(device)
    if available is None:
        return
    networks = network_bytes(config, data)
    where = _where(device)
    if networks > available:
        raise ConfigError(
            f"the networks need about {_gib(networks)} GiB (their weights, gradients and "
            f"optimiser state, estimated) but {_gib(available)} GiB are available{where}: "
            "lower generator.width, discriminator.width, noise.dim or the data size"
        )
    besides = " besides the networks" if networks else ""
    per_sample = step_bytes_per_sample(config, data)
    batch = config.train.batch_size
    if networks + batch * per_sample > available:
        pack = getattr(config.discriminator, "pack", 1)
        fit = (available - networks) // per_sample // pack * pack
        fix = (
            f"use train.batch_size={fit} or less"
            if fit >= 1
            else "even the smallest batch does not fit: lower the data size"
        )
        raise ConfigError(
            f"train.batch_size={batch} needs about {_gib(batch * per_sample)} GiB for one "
            f"training step (real and fake batches and their activations, estimated) but "
            f"{_gib(available)} GiB are available{where}{besides}: {fix}"
        )
    sample_values = _values(data["shape"])
    counted = [
        (
            "samples.count",
            config.samples.count,
            (config.noise.dim + 2 * sample_values) * BYTES_PER_VALUE,
            "the fixed z, the samples and the grid",
        )
    ]
    if config.eval is not None:
        counted.append(
            (
                "eval.samples",
                config.eval.samples,
                (config.noise.dim + 2 * sample_values + FEATURES) * BYTES_PER_VALUE,
                "z, the samples and their features",
            )
        )
    for key, count, each, what in counted:
        if networks + count * each > available:
            fit = (available - networks) // each
            fix = f"use {key}={fit} or less" if fit >= 1 else "lower noise.dim or the data size"
            raise ConfigError(
                f"{key}={count} needs about {_gib(count * each)} GiB ({what}, estimated) but "
                f"{_gib(available)} GiB are available{where}{besides}: {fix}"
            )


def step_bytes_per_sample(config: Config, data: Mapping[str, Any]) -> int:
    """Bytes one sample of a training batch needs, activations included (see the module
    docstring)."""
    sample = _values(data["shape"])
    given = _values(data.get("input_shape") or ())
    if config.task.name == "paired":
        values = given + 2 * sample  # input, target, output
    elif config.task.name == "unpaired":
        values = 3 * (given + sample)  # real, translated and reconstructed, both ways
    else:
        values = 2 * sample + config.noise.dim  # real, fake and z
    return values * (1 + ACTIVATIONS) * BYTES_PER_VALUE


def network_bytes(config: Config, data: Mapping[str, Any]) -> int:
    """Bytes of the networks' weights, gradients and optimiser state; 0 when they cannot be
    counted without building them."""
    from gankit.train.build import build_networks

    state = torch.random.get_rng_state()
    try:
        with torch.device("meta"):
            networks = build_networks(config, data)
    except GankitError:
        raise  # the same problem the real build would report
    except Exception:  # noqa: BLE001 (a net the meta device cannot build: no estimate)
        return 0
    finally:
        torch.random.set_rng_state(state)
    values = sum(
        tensor.numel()
        for network in networks.values()
        for tensor in (*network.parameters(), *network.buffers())
    )
    copies = OPTIMIZER_COPIES + (1 if config.train.ema is not None else 0)
    return values * copies * BYTES_PER_VALUE


def _values(shape: Any) -> int:
    return math.prod(int(n) for n in shape) if shape else 0


def _gib(n: int) -> str:
    gib = n / GiB
    return f"{gib:.2f}" if gib < 10 else f"{gib:,.0f}"


def _where(device: torch.device | str | None) -> str:
    device = torch.device(device if device is not None else "cpu")
    return f" on {device}" if device.type == "cuda" else ""
