"""The one training state: everything a step depends on, and everything a checkpoint holds.

    networks      every module of the task (``generator``, ``discriminator``, …)
    ema           the moving average of G's weights (``train.ema``), or None
    optimizers    one per player: ``generator`` and ``discriminator``
    rngs          named CPU generators (``data``, ``noise`` and the task's own streams);
                  torch's global generator (weight init, dropout) and CUDA's ride along
    step          generator updates done
    elapsed       wall-clock seconds over all sessions of the run
    log window    sums of the statistics since the last log record, and where it began
    task          the task's own tensors (history pools, running averages)
    scalers       the gradient scaler of each player under ``train.precision: fp16``

:meth:`TrainState.state_dict` flattens all of it into two tensor dictionaries (for
safetensors: ``models`` and ``training``) and a JSON-ready dictionary, the layout of
checkpoint format 1 (:mod:`gankit.train.checkpoint`); :meth:`load_state_dict` restores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

if TYPE_CHECKING:
    from gankit.tasks import Task
    from gankit.train.checkpoint import Checkpoint


@dataclass
class StateDict:
    """A training state flattened for a checkpoint."""

    step: int
    models: dict[str, Tensor]
    training: dict[str, Tensor]
    meta: dict[str, Any]


@dataclass
class TrainState:
    """Networks, EMA, optimisers, random streams, counters, log window and task state."""

    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    rngs: dict[str, torch.Generator]
    task: Task
    device: torch.device
    ema: AveragedModel | None = None
    step: int = 0
    elapsed: float = 0.0
    log_sums: dict[str, Tensor] = field(default_factory=dict)
    log_window_start: int = 0
    scalers: dict[str, torch.amp.GradScaler] = field(default_factory=dict)

    def modules(self) -> dict[str, nn.Module]:
        """Every module whose weights a checkpoint keeps, by name."""
        modules = dict(self.networks)
        if self.ema is not None:
            modules["generator_ema"] = self.ema
        return modules

    def rng_states(self) -> dict[str, Tensor]:
        states = {stream: g.get_state() for stream, g in self.rngs.items()}
        states["torch"] = torch.get_rng_state()
        if self.device.type == "cuda":
            states["cuda"] = torch.cuda.get_rng_state(self.device)
        return states

    def rank_state(self) -> dict[str, Tensor]:
        """The part of the state that differs between the ranks of a multi-process run:
        random streams, the log window's sums and the task's own tensors."""
        training = {f"rng.{k}": v.cpu().contiguous() for k, v in self.rng_states().items()}
        training.update(
            {f"log.{k}": v.detach().cpu().contiguous() for k, v in self.log_sums.items()}
        )
        training.update(
            {k: v.detach().cpu().contiguous() for k, v in self.task.state_dict().items()}
        )
        return training

    def state_dict(self, other_ranks: Sequence[dict[str, Tensor]] = ()) -> StateDict:
        """Every tensor and value of the state, ready for :func:`save_checkpoint`; the
        :meth:`rank_state` of ranks 1, 2, … (``other_ranks``) under ``rank1/``, ``rank2/``…"""
        models = {
            f"{name}.{key}": value.detach().cpu().contiguous()
            for name, module in self.modules().items()
            for key, value in module.state_dict().items()
        }
        training = self.rank_state()
        for rank, tensors in enumerate(other_ranks, start=1):
            training.update({f"rank{rank}/{k}": v for k, v in tensors.items()})
        optimizers = {}
        for name, optimizer in self.optimizers.items():
            tensors, meta = _flatten_optimizer(name, optimizer)
            training.update(tensors)
            optimizers[name] = meta
        meta = {
            "world_size": 1 + len(other_ranks),
            "optimizers": optimizers,
            "elapsed_seconds": self.elapsed,
            "log_window_start": self.log_window_start,
        }
        scaler_tensors, scalers = _flatten_scalers(self.scalers)
        training.update(scaler_tensors)
        if scalers:
            meta["scalers"] = scalers
        return StateDict(self.step, models, training, meta)

    def load_state_dict(
        self,
        checkpoint: Checkpoint,
        fresh_optimizers: tuple[str, ...] = (),
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        """Restore the state from ``checkpoint``; the optimisers named in
        ``fresh_optimizers`` keep their fresh state (a resume that changed them).

        Rank ``rank`` of ``world_size`` takes its own :meth:`rank_state`. A checkpoint of
        another world size gives each rank that existed its streams and task state, and a
        new rank rank 0's task state with the fresh streams it has; the log window starts
        afresh, its sums being per rank."""
        for name, module in self.modules().items():
            checkpoint.restore_module(name, module)
        for name, optimizer in self.optimizers.items():
            if name not in fresh_optimizers:
                checkpoint.restore_optimizer(name, optimizer)
        saved_scalers = checkpoint.state.get("scalers", {})
        for name, scaler in self.scalers.items():
            if scaler.is_enabled() and name in saved_scalers:
                tensors = checkpoint.tensors_with_prefix(f"scaler.{name}.")
                scaler.load_state_dict({**saved_scalers[name], **tensors})
        saved_world = checkpoint.world_size
        own = checkpoint.for_rank(rank if rank < saved_world else 0)
        if rank < saved_world:
            for stream, generator in self.rngs.items():
                generator.set_state(own.rng_state(stream))
            torch.set_rng_state(own.rng_state("torch"))
            if self.device.type == "cuda" and "cuda" in own.rng_names():
                torch.cuda.set_rng_state(own.rng_state("cuda"), self.device)
        self.task.load_state_dict(own.training)
        self.step = checkpoint.step
        self.elapsed = float(checkpoint.state.get("elapsed_seconds", 0.0))
        if saved_world == world_size:
            self.log_sums = own.tensors_with_prefix("log.")
            self.log_window_start = int(checkpoint.state.get("log_window_start", self.step))
        else:
            self.log_sums, self.log_window_start = {}, self.step


def _flatten_optimizer(
    name: str, optimizer: torch.optim.Optimizer
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split an optimiser state dict into tensors (for safetensors) and JSON values."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, Tensor] = {}
    json_state: dict[str, dict[str, Any]] = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"{name}.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                json_state.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "state": json_state}


def _flatten_scalers(
    scalers: dict[str, torch.amp.GradScaler],
) -> tuple[dict[str, Tensor], dict[str, dict[str, Any]]]:
    """The state dicts of the enabled scalers split into tensors ``scaler.<player>.<key>``
    and JSON values by player (disabled scalers have no state)."""
    tensors: dict[str, Tensor] = {}
    values: dict[str, dict[str, Any]] = {}
    for name, scaler in scalers.items():
        if not scaler.is_enabled():
            continue
        for key, value in scaler.state_dict().items():
            if torch.is_tensor(value):
                tensors[f"scaler.{name}.{key}"] = value.detach().cpu().contiguous()
            else:
                values.setdefault(name, {})[key] = value
    return tensors, values
