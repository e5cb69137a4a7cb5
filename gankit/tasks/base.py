"""What a task is: one game of G and D, plugged into the one Trainer.

A task declares the data kind it trains on, the networks it builds, the objectives and
regularisers it accepts (refused at config time with the fix), its training step, its
sample grid, the extra state it checkpoints and its evaluation. Its options are its own
config section, ``task:`` (``task: {name: paired, l1_weight: 100}``), and it registers in
:data:`gankit.tasks.TASKS` by that name:

    @TASKS.register("my-game", options=MyGameOptions)
    class MyGame(Task):
        def step(self, engine): ...

The step talks to the :class:`~gankit.train.trainer.Trainer` through a small surface:
``engine.config``, ``engine.source``, ``engine.objective``, ``engine.prior``,
``engine.device``, ``engine.state`` (optimisers, RNG streams, step), and

    engine.train_networks      the networks as the step calls them (DDP and/or compiled)
    engine.batch_size          this process's share m / N of the global batch
    engine.precision           autocast for forward passes, each player's loss scale
    engine.update(player, loss)           backward and the player's optimiser step
    engine.local_gradients(*names)        G's update: D's gradients stay on this process
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict
from torch import Tensor, nn

from gankit.errors import ConfigError

if TYPE_CHECKING:
    from gankit.config import Config
    from gankit.data import DataSource
    from gankit.train.trainer import Trainer


class TaskOptions(BaseModel):
    """The ``task:`` section: a task's name and its own options."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str


class Task(ABC):
    """One game: subclass it, set the class attributes, and override the methods.

    ``networks`` built by :meth:`build_networks` are trained by two optimisers: the
    parameters of the networks named in ``generators`` by ``train.g_optimizer``, those in
    ``discriminators`` by ``train.d_optimizer``."""

    data_kinds: ClassVar[tuple[str, ...]] = ("images", "points")
    """The data source kinds this task trains on."""
    generators: ClassVar[tuple[str, ...]] = ("generator",)
    discriminators: ClassVar[tuple[str, ...]] = ("discriminator",)
    streams: ClassVar[tuple[str, ...]] = ()
    """Random streams of its own, beyond ``data`` and ``noise`` (checkpointed)."""
    samples_from_noise: ClassVar[bool] = True
    """G maps z to samples: the prior, EMA and the regularisers apply."""
    grid_columns: int | None = None
    """Columns of the sample grid (None: square)."""
    evaluation: ClassVar[Literal["samples", "translation"]] = "samples"
    """How ``gankit eval`` measures a run: sample quality against real data, or translation
    quality against held-out targets."""
    fitting_sources: ClassVar[str] = ""
    """`` (source, …)`` naming the data sources of ``data_kinds``, for error messages."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.options: Any = config.task

    @classmethod
    def check_config(cls, config: Config) -> None:
        """Raise ValueError naming the key and the fix when ``config`` cannot run as this
        task (called when the config is validated, before anything is built)."""
        return None  # a hook: nothing to do unless overridden

    def data_info(self, source: DataSource) -> dict[str, Any]:
        """What the networks need to know of ``source`` (saved in every checkpoint); refuses
        a source of a kind the task does not train on."""
        if source.kind not in self.data_kinds:
            raise ConfigError(
                f"task={self.options.name} needs data of kind {' or '.join(self.data_kinds)}"
                f"{self.fitting_sources}; data.name={self.config.data.name} gives {source.kind}"
            )
        return {
            "kind": source.kind,
            "shape": list(source.shape),
            "classes": 0,
            "input_shape": None,
        }

    @abstractmethod
    def build_networks(self, data: dict[str, Any]) -> dict[str, nn.Module]:
        """The networks on the CPU, initialised from torch's global RNG."""

    def setup(self, engine: Trainer) -> None:
        """Prepare what the step and the grid need once the networks exist (fixed inputs,
        pools, running averages)."""
        return None  # a hook: nothing to do unless overridden

    @abstractmethod
    def step(self, engine: Trainer) -> dict[str, Tensor]:
        """One training iteration; detached scalar statistics (no host sync)."""

    def after_generator_step(self, engine: Trainer) -> None:
        """Fold this step into running averages that the task keeps."""
        return None  # a hook: nothing to do unless overridden

    @abstractmethod
    def sample_grid(self, engine: Trainer) -> Tensor:
        """What the sample grids show, in eval mode."""

    def state_dict(self) -> dict[str, Tensor]:
        """Extra tensors to checkpoint, by name."""
        return {}

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        """Restore :meth:`state_dict` from a checkpoint's tensors (all of them: pick yours)."""
        return None  # a hook: nothing to do unless overridden


def parameters(*modules: nn.Module | None) -> list[nn.Parameter]:
    """The parameters of every module given (None skipped), in order."""
    return [p for module in modules if module is not None for p in module.parameters()]


def channels_to(images: Tensor, channels: int) -> Tensor:
    """Repeat one channel to ``channels`` where a grid row mixes grey and colour images."""
    return images.expand(-1, channels, -1, -1) if images.shape[1] < channels else images
