"""Tasks: the games the Trainer plays, one module each, registered by name.

=================  ==============================================  =====================
task               game                                            data kind
=================  ==============================================  =====================
``unconditional``  G(z) vs D(x), Algorithm 1 with every regulariser  images, points
``conditional``    G(z, y) vs D(x, y): concat, projection, AC-GAN    labelled images, points
``paired``         pix2pix: U-Net G, PatchGAN on (input, output)    pairs
``unpaired``       CycleGAN: two G, two D, cycle and identity        unpaired
=================  ==============================================  =====================

A new game is one module that subclasses :class:`Task` and registers it with its options
model; ``task: {name: …}`` in a config then selects it (see :mod:`gankit.tasks.base`).
"""

from __future__ import annotations

from gankit.registry import Registry
from gankit.tasks.base import Task, TaskOptions

TASKS: Registry[type[Task]] = Registry("task")

from gankit.tasks.conditional import Conditional, ConditionalOptions  # noqa: E402
from gankit.tasks.paired import Paired, PairedOptions  # noqa: E402
from gankit.tasks.unconditional import Unconditional, UnconditionalOptions  # noqa: E402
from gankit.tasks.unpaired import Unpaired, UnpairedOptions  # noqa: E402

TASKS.register("unconditional", options=UnconditionalOptions)(Unconditional)
TASKS.register("conditional", options=ConditionalOptions)(Conditional)
TASKS.register("paired", options=PairedOptions)(Paired)
TASKS.register("unpaired", options=UnpairedOptions)(Unpaired)


def build_task(config) -> Task:  # noqa: ANN001 - a gankit.config.Config
    """The task ``config.task`` selects, for ``config``."""
    return TASKS.get(config.task.name)(config)


__all__ = [
    "TASKS",
    "Conditional",
    "Paired",
    "Task",
    "TaskOptions",
    "Unconditional",
    "Unpaired",
    "build_task",
]
