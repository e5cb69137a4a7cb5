"""Every evaluation of G and D goes through ``forward``: wrapped in a call-counting module
(as DistributedDataParallel or ``torch.compile`` would wrap them), the networks of every
task see exactly as many passes of their first layer as the wrapper saw calls — nothing
reaches a network's insides past the wrapper."""

import pytest
import torch
from torch import nn

from gankit.config import resolve
from gankit.data import build_source
from gankit.tasks import build_task
from gankit.train.rundir import RunDir
from gankit.train.trainer import Trainer


class Counting(nn.Module):
    """Forwards every call to ``inner`` and counts them."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, *args, **kwargs):
        self.calls += 1
        return self.inner(*args, **kwargs)


def first_layer(module: nn.Module) -> nn.Module:
    """The first module with parameters that every pass runs (the input layer)."""
    return next(m for m in module.modules() if list(m.parameters(recurse=False)))


TASK_SETTINGS = {
    "unconditional": ("ring-2d", {"regularisers.feature_matching.weight": 1.0,
                                  "regularisers.gradient_penalty.weight": 1.0,
                                  "objective.name": "relativistic"}),
    "consistency": ("ring-2d", {"discriminator.dropout": 0.5, "regularisers.consistency.weight": 2.0}),
    # without G's moving average, whose copy of the wrapped G would count its own calls
    "conditional": ("acgan-mnist", {"generator.width": 8, "discriminator.width": 8, "train.batch_size": 8,
                                    "train.ema": None}),
    "paired": ("pix2pix-edges2digits", {"train.batch_size": 2}),
    "unpaired": ("cyclegan-digits", {"train.batch_size": 2}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TASK_SETTINGS))
def test_every_call_of_g_and_d_goes_through_the_wrapper(case, tmp_path):
    preset, settings = TASK_SETTINGS[case]
    config = resolve(preset, {**settings, "train.steps": 3, "log.every": 1, "samples.every": 0,
                              "samples.count": 4, "log.tensorboard": False, "device": "cpu",
                              "checkpoint.every": 0})  # fmt: skip
    task = build_task(config)
    source = build_source(config.data)
    torch.manual_seed(config.seed)
    wrapped = {name: Counting(net) for name, net in task.build_networks(task.data_info(source)).items()}
    passes = {name: 0 for name in wrapped}

    def counter(name):
        def hook(module, args, output):
            passes[name] += 1

        return hook

    for name, wrapper in wrapped.items():
        first_layer(wrapper.inner).register_forward_hook(counter(name))
    run = RunDir.create(tmp_path, "run")
    trainer = Trainer(config, run, progress=False, source=source, networks=wrapped, task=task)
    for _ in range(3):
        trainer.train_step()
        trainer.state.step += 1
    trainer.sample_fixed()
    for name, wrapper in wrapped.items():
        assert wrapper.calls > 0, name
        assert passes[name] == wrapper.calls, name
