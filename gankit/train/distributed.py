"""Training across processes and machines: ``torch.distributed``, launched by ``torchrun``.

Every process (a *rank*) holds the whole training state and trains on its own share of
each batch; DistributedDataParallel (Li et al. 2020, "PyTorch Distributed") averages the
gradients over ranks during backward, so the weights stay identical on every rank:

    torchrun --nproc_per_node=N -m gankit train PRESET …

    train.batch_size       the global batch m; each rank draws m / N real and fake samples
    data, noise streams    one per rank, seeded from (run seed, stream, rank); rank 0's
                           are those of a single-process run
    statistics             all-reduced means over ranks before they are logged
    run directory          written by rank 0 alone; every rank reads it to resume
    stopping               a signal on any rank stops every rank after the same step

The backend is ``gloo`` on the CPU and ``nccl`` on CUDA unless ``distributed.backend``
names one. Without a process group (a plain ``gankit train``) everything here is a no-op
for a world of one rank.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.distributed as dist
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from gankit.errors import GankitError

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


class DistributedError(GankitError, RuntimeError):
    """A process group that cannot be joined, or a run that cannot be split over it."""


class DistributedOptions(BaseModel):
    """The ``distributed:`` section: how ranks talk when the run is launched by torchrun."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    backend: Literal["auto", "gloo", "nccl"] = Field(
        "auto", description="auto: nccl on CUDA, gloo on the CPU."
    )
    sync_batchnorm: bool = Field(
        False,
        description="Batch statistics over the global batch (SyncBatchNorm, CUDA only) "
        "instead of each rank's share, as in the anchors' default.",
    )


@dataclass(frozen=True)
class Ranks:
    """Where this process stands among the processes of one run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the run directory and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def current(cls) -> Ranks:
        """This process's ranks: from the initialised process group, else a world of one."""
        if dist.is_available() and dist.is_initialized():
            local = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
            return cls(dist.get_rank(), dist.get_world_size(), local)
        return cls()

    def local_batch(self, batch_size: int) -> int:
        """Each rank's share m / N of the global batch m; refuses an m that N does not
        divide."""
        if batch_size % self.world_size:
            raise DistributedError(
                f"train.batch_size={batch_size} does not divide over {self.world_size} "
                f"processes: use a multiple of {self.world_size}"
            )
        return batch_size // self.world_size

    def stream_name(self, stream: str) -> str:
        """The seed name of a random stream on this rank: rank 0 keeps the single-process
        name, so a world of one draws what a plain run draws."""
        return stream if self.rank == 0 else f"{stream}/rank{self.rank}"

    def device(self, device: torch.device) -> torch.device:
        """CUDA device ``cuda:LOCAL_RANK`` for a rank given plain ``cuda``."""
        if self.distributed and device.type == "cuda" and device.index is None:
            return torch.device("cuda", self.local_rank)
        return device

    # -- collectives (identity for a world of one) ----------------------------------------

    def mean(self, values: Tensor) -> Tensor:
        """The mean over ranks of ``values`` (same shape on every rank)."""
        return self.sum(values) / self.world_size if self.distributed else values

    def sum(self, values: Tensor) -> Tensor:
        """The sum over ranks of ``values`` (same shape on every rank)."""
        return self._all_reduce(values, dist.ReduceOp.SUM)

    def maximum(self, values: Tensor) -> Tensor:
        """The elementwise maximum over ranks of ``values``."""
        return self._all_reduce(values, dist.ReduceOp.MAX)

    def _all_reduce(self, values: Tensor, op: Any) -> Tensor:
        if not self.distributed:
            return values
        values = values.clone()
        dist.all_reduce(values, op=op)
        return values

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (picklable), in rank order, on every rank."""
        if not self.distributed:
            return [value]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` (picklable) on every rank."""
        if not self.distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self.distributed:
            dist.barrier()


def launched_by_torchrun(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment describes a process group (torchrun sets these)."""
    environ = os.environ if environ is None else environ
    return all(name in environ for name in TORCHRUN_VARIABLES)


def join_process_group(backend: str, device: torch.device) -> Ranks:
    """Initialise the default process group from torchrun's environment, once; the ranks
    of this process (a world of one when not launched by torchrun)."""
    if dist.is_initialized() or not launched_by_torchrun():
        return Ranks.current()
    if not dist.is_available():
        raise DistributedError("this PyTorch build has no torch.distributed")
    chosen = choose_backend(backend, device)
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        torch.cuda.set_device(local_rank)
    try:
        dist.init_process_group(
            chosen, device_id=torch.device("cuda", local_rank) if chosen == "nccl" else None
        )
    except (RuntimeError, ValueError) as err:
        raise DistributedError(f"cannot join the process group ({chosen}): {err}") from None
    atexit.register(_leave_process_group)  # joined here, so left here: a clean shutdown
    return Ranks.current()


def _leave_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def choose_backend(backend: str, device: torch.device) -> str:
    """``nccl`` for CUDA and ``gloo`` otherwise when ``auto``; refuses nccl off CUDA."""
    if backend == "auto":
        return "nccl" if device.type == "cuda" else "gloo"
    if backend == "nccl" and device.type != "cuda":
        raise DistributedError(
            f"distributed.backend=nccl needs CUDA; device is {device.type}: use "
            "distributed.backend=gloo (or auto)"
        )
    return backend


def wrap_networks(
    networks: Mapping[str, nn.Module], ranks: Ranks, device: torch.device, sync_batchnorm: bool
) -> dict[str, nn.Module]:
    """The networks as the training step calls them: each in DistributedDataParallel when
    there are several ranks (its buffers, e.g. spectral norm's power-iteration vectors and
    BatchNorm's running statistics, broadcast from rank 0 at every forward), else as
    they are."""
    if not ranks.distributed:
        return dict(networks)
    if sync_batchnorm and device.type != "cuda":
        raise DistributedError(
            f"distributed.sync_batchnorm=true needs CUDA (device is {device.type}): set "
            "distributed.sync_batchnorm=false; each process then normalises its own share"
        )
    wrapped = {}
    for name, module in networks.items():
        if sync_batchnorm:
            module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
        ids = [device.index] if device.type == "cuda" else None
        wrapped[name] = DistributedDataParallel(module, device_ids=ids)
    return wrapped


@contextmanager
def without_gradient_sync(
    modules: Mapping[str, nn.Module], names: tuple[str, ...]
) -> Iterator[None]:
    """Forward and backward passes whose gradients on ``names`` stay local (DDP's
    ``no_sync``): the other player's update, whose gradients on these weights are thrown
    away before their own update, need not be averaged over ranks."""
    with ExitStack() as stack:
        for name in names:
            module = modules[name]
            if isinstance(module, DistributedDataParallel):
                stack.enter_context(module.no_sync())
        yield


class _Failure:
    """An error on rank 0, sent to the ranks that wait for its outcome."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


@contextmanager
def sharing_failure(ranks: Ranks) -> Iterator[None]:
    """On rank 0: an error in the block reaches the other ranks, waiting in
    :func:`shared_outcome`, before it is raised here."""
    try:
        yield
    except Exception as error:
        if ranks.distributed:
            ranks.broadcast(_Failure(error))
        raise


def shared_outcome(ranks: Ranks, value: Any) -> Any:
    """Rank 0's ``value`` on every rank; rank 0's error (:func:`sharing_failure`) raised on
    the others."""
    value = ranks.broadcast(value)
    if isinstance(value, _Failure):
        raise value.error
    return value
