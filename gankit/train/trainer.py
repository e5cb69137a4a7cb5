"""The Trainer: Algorithm 1 of Goodfellow et al. (2014), one visible loop for every GAN.

    for each iteration:
        for k steps:  sample m real x and m noise z; ascend D's objective
        sample m noise z; descend G's objective

Everything the loop touches is built from a :class:`~gankit.config.Config`; everything it
produces goes to a :class:`~gankit.train.rundir.RunDir` through callbacks.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gankit import __version__
from gankit.config import Config, ConfigError, resolve, validate
from gankit.data import DataSource, build_source
from gankit.devices import select_device
from gankit.errors import GankitError
from gankit.files import write_json_atomic, write_text_atomic
from gankit.nets import count_parameters
from gankit.nets.modes import evaluating
from gankit.objectives import build_objective
from gankit.optim import build_optimizer, grad_norm
from gankit.prior import Prior
from gankit.seeding import derive_seed
from gankit.tasks import Task, build_task
from gankit.tasks.base import parameters
from gankit.tasks.unconditional import DiscriminatorPass, NoiseToSamples
from gankit.train.callbacks import (
    Callback,
    Checkpointer,
    MetricsFile,
    ProgressBar,
    SampleWriter,
    TensorBoard,
)
from gankit.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    latest_loadable,
    list_checkpoints,
    save_checkpoint,
)
from gankit.train.diagnosis import Diagnosis, HeldoutAccuracy, SampleDiversity
from gankit.train.distributed import (
    Ranks,
    join_process_group,
    shared_outcome,
    sharing_failure,
    without_gradient_sync,
    wrap_networks,
)
from gankit.train.evaluation import Evaluator
from gankit.train.lock import RunLock
from gankit.train.memory import check_memory
from gankit.train.precision import Precision
from gankit.train.rundir import RunDir
from gankit.train.rundir import run_name as default_run_name
from gankit.train.state import TrainState
from gankit.train.status import StatusFile, starting_status
from gankit.train.stopping import StopSignals
from gankit.train.trackers import build_trackers

# Config keys that may change when a run is resumed: they steer how long it runs and what
# it writes, never the math of a step.
RESUMABLE_KEYS = (
    "train.steps",
    "train.max_seconds",
    "log.",
    "samples.",
    "checkpoint.",
    "device",
    "distributed.backend",
)


class TrainingDiverged(GankitError, RuntimeError):
    """A loss, gradient norm or weight became NaN/inf; the last good checkpoint is left
    untouched."""


class Trainer:
    """Trains one GAN as configured, writing into a run directory.

    The game is the config's task (:mod:`gankit.tasks`); everything a step depends on is
    one :class:`~gankit.train.state.TrainState`. Parts may come already built — the data
    ``source``, the ``networks`` (by the task's names), the ``task`` — and the rest is
    built from ``config``; :meth:`from_config` builds everything.

    Random streams are separate and checkpointed: ``data`` (which real samples),
    ``noise`` (which z), the task's own, and torch's global generator (weight init,
    dropout), so a resumed run continues bit for bit where the checkpoint left off."""

    def __init__(
        self,
        config: Config,
        run: RunDir,
        callbacks: Iterable[Callback] = (),
        progress: bool = True,
        *,
        source: DataSource | None = None,
        networks: Mapping[str, nn.Module] | None = None,
        task: Task | None = None,
    ) -> None:
        self.config = config
        self.run = run
        self.ranks = Ranks.current()
        self.device = self.ranks.device(select_device(config.device))
        self.batch_size = self.ranks.local_batch(config.train.batch_size)
        """m / N: the samples this rank draws per step (the global batch over the ranks)."""
        self.precision = Precision(
            config.train.precision, self.device, ("generator", "discriminator")
        )
        """Autocast for the step's forward passes and each player's gradient scaler."""
        self.task = task if task is not None else build_task(config)

        torch.manual_seed(config.seed)  # weight initialisation (on the CPU, then moved)
        self.source = (source if source is not None else build_source(config.data)).to(self.device)
        self.data_info = self.task.data_info(self.source)
        check_memory(config, self.data_info, self.device)  # before allocating batches
        self.classes = self.data_info["classes"]  # 0 unless conditional
        # Image nets run in channels-last layout: faster convolutions on CPU and GPU alike.
        layout = torch.preserve_format if self.source.kind == "points" else torch.channels_last
        built = networks if networks is not None else self.task.build_networks(self.data_info)
        modules = {name: m.to(self.device, memory_format=layout) for name, m in built.items()}
        self.objective = build_objective(config.objective)
        # G's moving average; its β is set before each update (train_step)
        ema = (
            AveragedModel(modules["generator"], use_buffers=True)
            if config.train.ema is not None
            else None
        )
        self.prior = Prior(config.noise.dim, config.noise.distribution)
        # one optimiser per player; CycleGAN's two generators (and two critics) share one
        optimizers = {
            "generator": build_optimizer(
                parameters(*(modules[n] for n in self.task.generators)), config.train.g_optimizer
            ),
            "discriminator": build_optimizer(
                parameters(*(modules[n] for n in self.task.discriminators)),
                config.train.d_optimizer,
            ),
        }
        rngs = {
            stream: torch.Generator().manual_seed(
                derive_seed(config.seed, self.ranks.stream_name(stream))
            )
            for stream in ("data", "noise", *self.task.streams)
        }
        if not self.ranks.is_main:  # dropout masks and penalty draws of its own
            torch.manual_seed(derive_seed(config.seed, self.ranks.stream_name("torch")))
        self.state = TrainState(
            modules, optimizers, rngs, self.task, self.device, ema, scalers=self.precision.scalers
        )
        self.train_networks = wrap_networks(
            modules, self.ranks, self.device, config.distributed.sync_batchnorm
        )
        """The networks as the step calls them (in DistributedDataParallel over several
        ranks, behind torch.compile with ``train.compile``); ``state.networks`` holds the
        plain modules that sample and checkpoint."""
        if config.train.compile:
            self.train_networks = _compiled(self.train_networks, announce=self.ranks.is_main)
        self.task.setup(self)
        fixed = torch.Generator().manual_seed(derive_seed(config.seed, "fixed_z"))
        noise_task = self.task.samples_from_noise
        self.fixed_noise = self.task.fixed_noise(self, fixed) if noise_task else {}

        self.lock = RunLock(run.path)
        self.stop_signal: str | None = None
        """The signal that interrupted the last :meth:`fit` ("SIGINT", "SIGTERM") or None."""
        self._signals: StopSignals | None = None
        self._last_checkpoint_step = -1
        self._window_started = time.perf_counter()
        self._discriminator_pass: DiscriminatorPass | None = None
        """What the next generator part takes from the last discriminator part."""

        # the status first: its on_fit_end must run (and stop its heartbeat) whatever fails
        # the diagnosis after the file it writes its verdicts to, its statistics before it
        defaults: list[Callback] = (
            [StatusFile(), SampleDiversity(), HeldoutAccuracy(), MetricsFile(), Diagnosis()]
            if config.log.diagnosis
            else [StatusFile(), MetricsFile()]
        )
        defaults += [SampleWriter(), Checkpointer()]
        if config.eval is not None:
            defaults.append(Evaluator())
        if config.log.tensorboard:
            defaults.append(TensorBoard())
        defaults += build_trackers(config.log)  # MLflow, W&B: packages checked here
        defaults.append(ProgressBar(enabled=progress))
        self.callbacks = [
            callback
            for callback in defaults + list(callbacks)
            if self.ranks.is_main or callback.every_rank  # rank 0 alone writes and prints
        ]

    @classmethod
    def from_config(
        cls, config: Config, run: RunDir, callbacks: Iterable[Callback] = (), progress: bool = True
    ) -> Trainer:
        """A Trainer whose data, networks and task are all built from ``config``."""
        return cls(config, run, callbacks, progress)

    # -- views of the state ---------------------------------------------------------------

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def elapsed(self) -> float:
        """Wall-clock seconds of training over all sessions of this run."""
        return self.state.elapsed

    @property
    def generator(self) -> nn.Module:
        return self.state.networks["generator"]

    @property
    def discriminator(self) -> nn.Module:
        return self.state.networks["discriminator"]

    @property
    def generator_ba(self) -> nn.Module | None:
        """CycleGAN's generator from domain B to A (None for other tasks)."""
        return self.state.networks.get("generator_ba")

    @property
    def grid_columns(self) -> int | None:
        return self.task.grid_columns

    # -- construction from a run directory --------------------------------------------------

    @classmethod
    def start(
        cls,
        config: Config,
        run_root: str | Path = "runs",
        run_name: str | None = None,
        *,
        exact: bool = False,
        **kwargs: Any,
    ) -> Trainer:
        """A Trainer for a new run directory, with ``config.yaml`` written into it.

        A taken name gets ``-2``, ``-3``… appended, unless ``exact`` (a directory the user
        named), which refuses a folder that exists and is not empty."""
        ranks = join_process_group(config.distributed.backend, select_device(config.device))
        if not ranks.is_main:
            return cls(config, RunDir(shared_outcome(ranks, None)), **kwargs)
        name = run_name or default_run_name(config.preset, [])
        with sharing_failure(ranks):
            trainer_run = RunDir.create(run_root, name, exact=exact)
        lock = RunLock(trainer_run.path)
        try:
            with sharing_failure(ranks):
                lock.acquire()
            shared_outcome(ranks, str(trainer_run.path))
            with starting_status(trainer_run, config.train.steps, step=0):
                write_text_atomic(trainer_run.config_path, config.to_yaml())
                trainer = cls(config, trainer_run, **kwargs)
        except BaseException:
            lock.release()
            for leftover in (trainer_run.config_path, lock.path):
                leftover.unlink(missing_ok=True)
            _remove_if_empty(trainer_run.path)
            raise
        trainer.lock = lock
        return trainer

    @classmethod
    def resume(
        cls,
        run_dir: str | Path,
        overrides: Iterable[str] | Mapping[str, Any] = (),
        allow_config_change: bool = False,
        **kwargs: Any,
    ) -> Trainer:
        """Continue a run from its newest loadable checkpoint.

        ``overrides`` may change how long the run goes on and what it writes
        (``train.steps``, ``log.*``, ``samples.*``, ``checkpoint.*``, ``device``); any other
        change is refused unless ``allow_config_change``."""
        run = RunDir.open(run_dir)
        ranks = join_process_group(*_launch_settings(run, overrides))
        if not ranks.is_main:
            shared_outcome(ranks, None)
            return cls._resumed(run, overrides, allow_config_change, **kwargs)
        lock = RunLock(run.path)
        with sharing_failure(ranks):
            lock.acquire()
        try:
            shared_outcome(ranks, None)
            with starting_status(run):
                trainer = cls._resumed(run, overrides, allow_config_change, **kwargs)
        except BaseException:
            lock.release()
            raise
        trainer.lock = lock
        return trainer

    @classmethod
    def _resumed(
        cls,
        run: RunDir,
        overrides: Iterable[str] | Mapping[str, Any],
        allow_config_change: bool,
        **kwargs: Any,
    ) -> Trainer:
        checkpoint, skipped = latest_loadable(run.checkpoints_dir)
        for failed in skipped:
            print(f"warning: skipping unloadable checkpoint: {failed}", file=sys.stderr)
        if checkpoint is None:
            raise CheckpointError(f"{run.path}: no loadable checkpoint to resume from")
        saved = validate(checkpoint.state["config"])
        config = resolve(saved, overrides)
        changed = _changed_keys(saved.to_dict(), config.to_dict())
        refused = [k for k in changed if not k.startswith(RESUMABLE_KEYS)]
        if refused and not allow_config_change:
            raise ConfigError(
                f"resuming with a changed {', '.join(refused)} is refused (only train.steps, "
                "train.max_seconds, log.*, samples.*, checkpoint.*, device and distributed.backend "
                "may change); pass "
                "--allow-config-change to force it"
            )
        trainer = cls(config, run, **kwargs)
        trainer.load_checkpoint(checkpoint)
        write_text_atomic(run.config_path, config.to_yaml())
        return trainer

    # -- the loop -------------------------------------------------------------------------

    def fit(self, until_step: int | None = None) -> str:
        """Train up to ``train.steps`` (or ``until_step``, if smaller) and checkpoint.

        Returns "completed", "paused" (stopped at ``until_step``) or "interrupted" (Ctrl-C
        or SIGTERM, honoured at the next step boundary; see :mod:`gankit.train.stopping`).
        Divergence raises :class:`TrainingDiverged` and a second Ctrl-C KeyboardInterrupt,
        after the summary records them ("diverged", "aborted"). The run directory is locked
        while the loop runs."""
        target = min(until_step or self.config.train.steps, self.config.train.steps)
        if self.ranks.is_main:
            self.lock.acquire()
        session_start = time.perf_counter()
        self._window_started = session_start
        status = "failed"
        try:
            self.emit("on_fit_start")
            with StopSignals() as signals:
                self._signals = signals
                deadline = self._deadline(session_start)
                stop_signal, out_of_time = self._should_stop(signals, deadline)
                while self.step < target and not stop_signal and not out_of_time:
                    self._end_step(self.train_step())
                    stop_signal, out_of_time = self._should_stop(signals, deadline)
                self.stop_signal = stop_signal
                ending = "interrupted" if stop_signal else "completed"
                if ending == "completed" and self.step < self.config.train.steps:
                    ending = "completed" if out_of_time else "paused"
                if ending == "completed" and self.state.log_sums:
                    self._log()  # a paused run keeps its partial window in the checkpoint
                self.state.elapsed += time.perf_counter() - session_start
                self.save_checkpoint()
                status = ending
        except TrainingDiverged:
            status = "diverged"
            raise
        except KeyboardInterrupt:
            status = "aborted"
            raise
        finally:
            self._signals = None
            try:
                self.emit("on_fit_end", status)
                if self.ranks.is_main:
                    self._write_summary(status)
            except Exception:
                if status in ("completed", "paused", "interrupted"):
                    raise  # otherwise a first error is on its way: that is the one to report
            finally:
                if status != "paused" and self.ranks.is_main:
                    self.lock.release()
        self.ranks.barrier()  # no rank leaves (and ends the launch) before rank 0 is done
        return status

    def _should_stop(self, signals: StopSignals, deadline: float) -> tuple[str | None, bool]:
        """The signal that asks to stop (on any rank) and whether the time budget is spent
        (on any rank), so that every rank stops after the same step."""
        if not self.ranks.distributed:
            return signals.requested, time.perf_counter() >= deadline
        names = (None, "SIGINT", "SIGTERM")
        flags = torch.tensor(
            [names.index(signals.requested), time.perf_counter() >= deadline], dtype=torch.int64
        )
        signal_index, out_of_time = self.ranks.maximum(flags.to(self._collective_device)).tolist()
        return names[signal_index], bool(out_of_time)

    @property
    def _collective_device(self) -> torch.device:
        """Where tensors for collectives live: the GPU for nccl, the CPU for gloo."""
        backend = torch.distributed.get_backend() if self.ranks.distributed else "gloo"
        return self.device if backend == "nccl" else torch.device("cpu")

    def _deadline(self, session_start: float) -> float:
        """The ``perf_counter`` time at which ``train.max_seconds`` of training (over all
        sessions) will have passed; infinite without a budget."""
        budget = self.config.train.max_seconds
        if budget is None:
            return math.inf
        return session_start + budget - self.state.elapsed

    def train_step(self) -> dict[str, Tensor]:
        """One iteration of the task's game at the scheduled learning rates, then the
        running averages (the task's, G's EMA); detached scalar statistics of the step."""
        self.schedule_learning_rates()
        stats = self.precision.step_statistics(self.task.step(self))
        self._after_generator_update()
        return stats

    def train_part(self, part: str) -> dict[str, Tensor]:
        """Train one part of an iteration, for stepping a game by hand (``gankit
        playground``), and return the part's detached statistics.

        ``"iteration"``: one whole iteration exactly as :meth:`fit` trains it (the
        statistics enter the log window, a record is logged every ``log.every`` steps,
        ``on_step_end`` is announced); ``"discriminator"``: one discriminator update at the
        current step, which does not advance; ``"generator"``: one generator update against
        D as the last discriminator part left it (its real batch too), G's moving average,
        and the step advances as after an iteration. Only a noise-to-sample task splits
        into players (:class:`~gankit.tasks.unconditional.NoiseToSamples`)."""
        if part == "iteration":
            stats = self.train_step()
            self._discriminator_pass = None
            self._end_step(stats)
            return stats
        if part not in ("discriminator", "generator"):
            raise ValueError(f"unknown part {part!r}: iteration, discriminator or generator")
        if not isinstance(self.task, NoiseToSamples):
            raise ConfigError(
                f"task={self.config.task.name} trains its players together; only the "
                "noise-to-sample tasks (unconditional, conditional) step one player at a time"
            )
        self.schedule_learning_rates()
        if part == "discriminator":
            carried = self.task.discriminator_updates(self, 1)
            self._discriminator_pass = carried
            penalties = {f"penalty/{k}": v for k, v in carried.penalties.items()}
            return {"d_loss": carried.d_loss, "d_grad_norm": carried.d_grad_norm, **penalties}
        stats = self.task.generator_update(self, self._discriminator_pass)
        stats = self.precision.step_statistics(stats)
        self._after_generator_update()
        self._end_step(stats)
        return stats

    def _after_generator_update(self) -> None:
        """The running averages after a generator update: the task's, then G's EMA."""
        self.task.after_generator_step(self)
        ema = self.config.train.ema
        if self.state.ema is not None and ema is not None and self.step >= ema.start:
            # θ̄ ← β·θ̄ + (1 − β)·θ (a copy of G at the first update), β a function of the
            # step (EMAOptions.beta_at: fixed, or a half-life in images with its ramp-up)
            beta = ema.beta_at(self.step, self.config.train.batch_size)
            self.state.ema.multi_avg_fn = get_ema_multi_avg_fn(beta)
            self.state.ema.update_parameters(self.generator)

    def _end_step(self, stats: dict[str, Tensor]) -> None:
        """Close a generator step: its statistics into the log window, the step count up,
        a record every ``log.every`` steps, ``on_step_end``."""
        self._accumulate(stats)
        self.state.step += 1
        if self.step % self.config.log.every == 0:
            self._log()
        self.emit("on_step_end", self.step)

    def update(self, player: str, loss: Tensor) -> Tensor:
        """One optimiser step of ``player`` ("generator" or "discriminator") on ``loss``:
        clear its gradients, backpropagate, step; ‖∇θ‖₂ over the player's networks before
        the step. Gradients that reach the other player's weights stay where they are and
        are cleared before that player's own update.

        Under fp16 the player's GradScaler scales the loss before backward and unscales
        the gradients before the norm (the true one) and the step, which it skips when they
        overflowed (https://pytorch.org/docs/stable/notes/amp_examples.html); otherwise
        the scaler is disabled and passes everything through."""
        optimizer = self.state.optimizers[player]
        scaler = self.precision.scalers[player]
        names = self.task.generators if player == "generator" else self.task.discriminators
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        norm = grad_norm(*(self.state.networks[name] for name in names))
        self.precision.step(player, optimizer)
        return norm

    def local_gradients(self, *names: str) -> AbstractContextManager[None]:
        """A block (forward and backward) whose gradients on the networks ``names`` are
        not averaged over ranks: the other player's update, which only keeps its own."""
        return without_gradient_sync(self.train_networks, names)

    def schedule_learning_rates(self) -> None:
        """Set each optimiser's lr to its configured value times the schedule's factor (a
        function of the step alone, so a resumed run needs no scheduler state)."""
        factor = self.config.train.lr_factor_at(self.step)
        for name, options in (
            ("generator", self.config.train.g_optimizer),
            ("discriminator", self.config.train.d_optimizer),
        ):
            for group in self.state.optimizers[name].param_groups:
                group["lr"] = options.lr * factor

    # -- sampling -------------------------------------------------------------------------

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples: G's moving average once it has started, else G."""
        ema = self.state.ema
        return ema.module if ema is not None and int(ema.n_averaged) > 0 else self.generator

    def sample_fixed(self) -> Tensor:
        """What the sample grids show, in eval mode (BatchNorm uses running statistics):
        the task's grid — the sampler on the run's fixed z (one class per row when
        conditional), or rows of input | output | target for translation."""
        return self.task.sample_grid(self)

    @torch.no_grad()
    def sample_from(self, z: Tensor, y: Tensor | None = None, batch_size: int = 500) -> Tensor:
        """The sampler on ``z`` (and labels ``y``) in eval mode, in batches; training mode is
        restored. A conditional sampler without ``y`` cycles through the classes."""
        sampler = self.sampler
        if self.classes and y is None:
            y = torch.arange(len(z), device=z.device) % self.classes
        with evaluating(sampler):
            if y is None:
                return torch.cat([sampler(chunk) for chunk in z.split(batch_size)])
            pairs = zip(z.split(batch_size), y.split(batch_size), strict=True)
            return torch.cat([sampler(zc, yc) for zc, yc in pairs])

    # -- state ----------------------------------------------------------------------------

    def save_checkpoint(self) -> Path:
        """Checkpoint the whole training state at the current step (once per step)."""
        directory = self.run.checkpoints_dir
        if self._last_checkpoint_step == self.step:
            return directory / f"step_{self.step:08d}"
        for name, module in self.state.modules().items():
            if not all(torch.isfinite(p).all() for p in module.parameters()):
                raise TrainingDiverged(
                    f"step {self.step}: {name} weights contain NaN/inf; not checkpointing. "
                    f"{self._last_good_checkpoint()}"
                )
        protect = self._signals.protect() if self._signals is not None else nullcontext()
        with protect:
            other_ranks = self.ranks.gather(self.state.rank_state())[1:]
            written = None
            if self.ranks.is_main:
                with sharing_failure(self.ranks):
                    written = str(self._write_checkpoint(directory, other_ranks))
            path = Path(shared_outcome(self.ranks, written))
        self._last_checkpoint_step = self.step
        self.emit("on_checkpoint", path)
        return path

    def _write_checkpoint(self, directory: Path, other_ranks: list[dict[str, Tensor]]) -> Path:
        return save_checkpoint(
            directory,
            self.state.state_dict(other_ranks),
            {
                "config": self.config.to_dict(),
                "data": self.data_info,
                "gankit_version": __version__,
                "torch_version": torch.__version__,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
            keep=self.config.checkpoint.keep,
        )

    def _last_good_checkpoint(self) -> str:
        """Where a diverged run can go back to, for its error message."""
        saved = list_checkpoints(self.run.checkpoints_dir)
        if not saved:
            return (
                "No checkpoint was written before it (checkpoint.every="
                f"{self.config.checkpoint.every}); start again with lower learning rates or "
                "another objective"
            )
        return (
            f"The last good checkpoint is {saved[-1]} (lower the learning rates or change "
            "the objective, then start again or resume with --allow-config-change)"
        )

    def load_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Restore the whole training state from ``checkpoint``. Optimiser hyper-parameters
        follow the current config (they differ only when a resume was forced), and an
        optimiser whose kind changed starts afresh."""
        fresh = []
        for name, key in (("generator", "g_optimizer"), ("discriminator", "d_optimizer")):
            options = getattr(self.config.train, key)
            saved_name = checkpoint.state["config"]["train"][key]["name"]
            if saved_name != options.name:
                print(
                    f"warning: train.{key} changed from {saved_name} to {options.name}; "
                    f"the {name}'s optimiser state starts afresh",
                    file=sys.stderr,
                )
                fresh.append(name)
        if checkpoint.world_size != self.ranks.world_size and self.ranks.is_main:
            print(
                f"warning: {checkpoint.path} was written by {checkpoint.world_size} "
                f"process(es) and resumes on {self.ranks.world_size}: each process's share of "
                "the batch and its data and noise streams change, so the data order differs "
                "from an uninterrupted run",
                file=sys.stderr,
            )
        self.state.load_state_dict(checkpoint, tuple(fresh), self.ranks.rank, self.ranks.world_size)
        for name, key in (("generator", "g_optimizer"), ("discriminator", "d_optimizer")):
            options = getattr(self.config.train, key)
            defaults = build_optimizer([nn.Parameter(torch.zeros(1))], options).param_groups[0]
            for group in self.state.optimizers[name].param_groups:
                group.update({k: v for k, v in defaults.items() if k != "params"})
        self._last_checkpoint_step = checkpoint.step

    def parameter_counts(self) -> dict[str, int]:
        return {name: count_parameters(m) for name, m in self.state.modules().items()}

    def emit(self, event: str, *args: Any) -> None:
        """Call hook ``event`` on every callback, in order."""
        for callback in self.callbacks:
            getattr(callback, event)(self, *args)

    # -- logging --------------------------------------------------------------------------

    def _accumulate(self, stats: dict[str, Tensor]) -> None:
        sums = self.state.log_sums
        for key, value in stats.items():
            sums[key] = sums[key] + value if key in sums else value.clone()

    def _log(self) -> None:
        """Average the statistics since the last record and announce them."""
        now = time.perf_counter()
        count = self.step - self.state.log_window_start
        record: dict[str, Any] = {"step": self.step}
        record.update({k: (v / count).item() for k, v in self._sums_over_ranks().items()})
        record["steps_per_s"] = count / max(now - self._window_started, 1e-9)
        self.state.log_sums = {}
        self.state.log_window_start, self._window_started = self.step, now
        broken = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
        self.emit("on_log", record)
        if broken:
            first, *others = broken
            also = f" (also non-finite: {', '.join(others)})" if others else ""
            raise TrainingDiverged(
                f"step {self.step}: {first} is {record[first]}; training diverged{also}. "
                f"{self._last_good_checkpoint()}"
            )

    def _sums_over_ranks(self) -> dict[str, Tensor]:
        """The log window's sums, averaged over ranks (each rank's own when alone)."""
        sums = self.state.log_sums
        if not self.ranks.distributed or not sums:
            return sums
        keys = sorted(sums)
        stacked = torch.stack([sums[k].detach().double().reshape(()) for k in keys])
        means = self.ranks.mean(stacked.to(self._collective_device)).cpu()
        return dict(zip(keys, means, strict=True))

    def _write_summary(self, status: str) -> None:
        records = self.run.read_metrics()
        training = [r for r in records if r["kind"] == "train"]
        evaluations = [r for r in records if r["kind"] == "eval"]
        saved = list_checkpoints(self.run.checkpoints_dir)
        summary = {
            "status": status,
            "signal": self.stop_signal if status == "interrupted" else None,
            "step": self.step,
            "steps": self.config.train.steps,
            "wall_seconds": round(self.elapsed, 2),
            "device": str(self.device),
            "parameters": self.parameter_counts(),
            "last_metrics": training[-1] if training else None,
            "last_evaluation": evaluations[-1] if evaluations else None,
            "final_samples": str(self.run.samples_dir / f"step_{self.step:08d}.png"),
            "checkpoint": str(saved[-1]) if saved else None,
        }
        write_json_atomic(self.run.summary_path, summary)


def _launch_settings(
    run: RunDir, overrides: Iterable[str] | Mapping[str, Any]
) -> tuple[str, torch.device]:
    """The process-group backend and device a resumed run asks for (its config.yaml with
    the overrides)."""
    try:
        saved = validate(yaml.safe_load(run.config_path.read_text(encoding="utf-8")))
        config = resolve(saved, overrides)
    except (ConfigError, OSError, yaml.YAMLError):
        return "auto", select_device("auto")  # the resume itself reports what is wrong
    return config.distributed.backend, select_device(config.device)


def _compiled(networks: Mapping[str, nn.Module], announce: bool) -> dict[str, nn.Module]:
    """Each network behind ``torch.compile``
    (https://pytorch.org/docs/stable/generated/torch.compile.html): the wrapper shares the
    module's parameters and buffers, so the optimisers, the EMA, the sampler and the
    checkpoint keep the plain module and its state-dict keys. ``announce`` says so on
    stderr, since the first steps wait for the compiler."""
    if announce:
        print(
            f"note: train.compile=true: compiling {', '.join(networks)} with torch.compile; "
            "the first steps wait for the compiler",
            file=sys.stderr,
        )
    return {name: torch.compile(module) for name, module in networks.items()}


def _changed_keys(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested dicts."""
    changed = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed += _changed_keys(a, b, f"{prefix}{key}.")
        elif a != b:
            changed.append(f"{prefix}{key}")
    return changed


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
