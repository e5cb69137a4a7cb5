"""Checkpoints that hold the whole training state and are safe to load.

One checkpoint is a folder ``checkpoints/step_<step, 8 digits>/`` with

    models.safetensors    every module's state dict (weights and buffers), "<module>.<key>"
    training.safetensors  optimiser tensors "<opt>.<param index>.<key>" and RNG states "rng.<name>"
    state.json            format version, step, config, the data's description (kind, shape,
                          classes and their names; older checkpoints have no names),
                          optimiser hyper-parameters, file hashes

No pickle is involved, so loading a checkpoint cannot run code. The folder is written under
a temporary name and renamed into place, so an interrupted write never replaces or damages
the previous checkpoint; the hashes in state.json catch files corrupted afterwards. A
write that fails (a full disk, a read-only folder) removes its temporary folder; when the
disk is full, the checkpoints that ``keep`` would prune after the write are removed first
and the write is tried once more (so with ``keep`` ≥ 2 the previous checkpoint always
stays; with ``keep`` = 1 it makes room for the new one).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.files import write_text_atomic
from gankit.train.state import StateDict

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Format 1 is 0.1.0's: the same files; its config named the task and kept the task's
options in ``condition:``/``translation:`` sections, which the config migrates on read."""
MODELS_FILE = "models.safetensors"
TRAINING_FILE = "training.safetensors"
STATE_FILE = "state.json"
_TENSOR_FILES = (MODELS_FILE, TRAINING_FILE)
_PREFIX = "step_"


_RANK_KEY = re.compile(r"rank\d+/")
"""Training tensors of ranks 1, 2, … of a multi-process run (:meth:`Checkpoint.for_rank`)."""


class CheckpointError(GankitError, ValueError):
    """A checkpoint that is missing, incomplete, corrupt or of an unknown format."""


@dataclass
class Checkpoint:
    """A loaded checkpoint: tensors by name and the JSON state."""

    path: Path
    step: int
    state: dict[str, Any]
    models: dict[str, Tensor]
    training: dict[str, Tensor]

    def restore_module(self, module_name: str, module: nn.Module) -> None:
        prefix = module_name + "."
        state = {k[len(prefix) :]: v for k, v in self.models.items() if k.startswith(prefix)}
        if not state:
            raise CheckpointError(f"{self.path}: holds no weights for '{module_name}'")
        try:
            module.load_state_dict(state)
        except RuntimeError as err:
            first = str(err).strip().splitlines()[0]
            raise CheckpointError(
                f"{self.path}: weights of '{module_name}' do not fit the network built from "
                f"the config ({first})"
            ) from None

    def restore_optimizer(self, name: str, optimizer: torch.optim.Optimizer) -> None:
        meta = self.state["optimizers"][name]
        prefix = name + "."
        per_param: dict[int, dict[str, Any]] = {
            int(i): dict(values) for i, values in meta["state"].items()
        }
        for key, tensor in self.training.items():
            if key.startswith(prefix):
                index, field = key[len(prefix) :].split(".", 1)
                per_param.setdefault(int(index), {})[field] = tensor
        optimizer.load_state_dict({"state": per_param, "param_groups": meta["param_groups"]})

    def tensors_with_prefix(self, prefix: str) -> dict[str, Tensor]:
        """Training tensors whose names start with ``prefix``, keyed by the rest."""
        return {k[len(prefix) :]: v for k, v in self.training.items() if k.startswith(prefix)}

    def rng_state(self, name: str) -> Tensor:
        return self.training[f"rng.{name}"]

    def rng_names(self) -> list[str]:
        return list(self.tensors_with_prefix("rng."))

    @property
    def world_size(self) -> int:
        """How many processes trained the run up to this checkpoint."""
        return int(self.state.get("world_size", 1))

    def for_rank(self, rank: int) -> Checkpoint:
        """This checkpoint as rank ``rank`` reads it: its ``training`` tensors with that
        rank's own state (saved under ``rank{rank}/``) in place of rank 0's."""
        shared = {k: v for k, v in self.training.items() if not _RANK_KEY.match(k)}
        if rank == 0:
            return replace(self, training=shared)
        prefix = f"rank{rank}/"
        own = {k[len(prefix) :]: v for k, v in self.training.items() if k.startswith(prefix)}
        shared = {k: v for k, v in shared.items() if not k.startswith("log.")}
        return replace(self, training={**shared, **own})


def save_checkpoint(
    directory: Path, state: StateDict, extra: dict[str, Any], keep: int | None = None
) -> Path:
    """Write a complete checkpoint of ``state`` (a :class:`~gankit.train.state.TrainState`
    flattened) into ``directory``; returns its folder. ``extra`` joins state.json.

    With ``keep``, all but the ``keep`` newest checkpoints are pruned after the write; a
    write that finds the disk full first prunes the ones that would go anyway and tries
    again. A write that fails leaves no temporary folder and raises
    :class:`CheckpointError`."""
    step, models, training = state.step, state.models, state.training
    meta = {"format_version": FORMAT_VERSION, "step": step, **state.meta, **extra}
    final = directory / f"{_PREFIX}{step:08d}"
    try:
        _write_folder(final, models, training, meta)
    except OSError as err:
        if err.errno != errno.ENOSPC or keep is None or not _prune_for_room(directory, keep):
            raise _write_error(final, err) from None
        try:
            _write_folder(final, models, training, meta)
        except OSError as err_again:
            raise _write_error(final, err_again) from None
    if keep is not None:
        prune_checkpoints(directory, keep)
    return final


def _write_folder(
    final: Path, models: dict[str, Tensor], training: dict[str, Tensor], state: dict[str, Any]
) -> None:
    """Write the three files into a temporary folder and rename it to ``final``; the
    temporary folder is removed when anything fails (Ctrl-C included)."""
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        save_file(models, tmp / MODELS_FILE)
        save_file(training, tmp / TRAINING_FILE)
        hashes = {"sha256": {f: _sha256(tmp / f) for f in _TENSOR_FILES}}
        write_text_atomic(tmp / STATE_FILE, json.dumps(state | hashes, indent=1))
        _replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _prune_for_room(directory: Path, keep: int) -> bool:
    """Remove the checkpoints a successful write would prune: all but the ``keep`` − 1
    newest (with ``keep`` = 1, the previous checkpoint goes to make room for its successor
    of the same size). True when any were removed."""
    existing = list_checkpoints(directory)
    doomed = existing[: len(existing) - (keep - 1)] if len(existing) >= keep else []
    for old in doomed:
        shutil.rmtree(old, ignore_errors=True)
    return bool(doomed)


def _write_error(final: Path, err: OSError) -> CheckpointError:
    newest = list_checkpoints(final.parent)
    kept = f"{newest[-1]} is intact" if newest else "no earlier checkpoint exists"
    return CheckpointError(f"cannot write checkpoint {final}: {err.strerror or err}; {kept}")


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load and verify one checkpoint folder: its state.json must be well formed and both
    tensor files must match the hashes it records."""
    path = Path(path)
    state_path = path / STATE_FILE
    if not state_path.is_file():
        raise CheckpointError(f"{path}: not a checkpoint (no {STATE_FILE})")
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError, OSError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise CheckpointError(f"{state_path}: corrupt JSON ({reason})") from None
    _check_state(state_path, state)
    models, training = (_read_tensors(path / f, state["sha256"][f]) for f in _TENSOR_FILES)
    return Checkpoint(path, state["step"], state, models, training)


def _read_tensors(file: Path, sha256: str) -> dict[str, Tensor]:
    """The tensors of one verified file, read into memory: hashed and parsed from the same
    bytes, and not memory-mapped, so deleting the file frees its space at once."""
    if not file.is_file():
        raise CheckpointError(f"{file.parent}: missing {file.name}")
    try:
        data = file.read_bytes()
    except OSError as err:
        raise CheckpointError(f"{file}: unreadable ({err.strerror})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CheckpointError(f"{file}: corrupt (sha256 does not match state.json)")
    try:
        return load(data)
    except SafetensorError as err:
        raise CheckpointError(f"{file}: unreadable tensors ({err})") from None


def _check_state(state_path: Path, state: Any) -> None:
    """Refuse a state.json that is not what :func:`save_checkpoint` writes."""
    if not isinstance(state, dict):
        raise CheckpointError(f"{state_path}: expected a JSON object, got {type(state).__name__}")
    version = state.get("format_version")
    if version not in READABLE_VERSIONS:
        raise CheckpointError(
            f"{state_path.parent}: checkpoint format version {version!r}; this gankit reads "
            f"{' and '.join(map(str, READABLE_VERSIONS))} (a newer gankit wrote it: upgrade)"
        )
    step = state.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{state_path}: 'step' is {step!r}, not a step number")
    for key in ("config", "optimizers", "data"):
        if not isinstance(state.get(key), dict):
            raise CheckpointError(f"{state_path}: '{key}' is missing or not an object")
    _check_class_names(state_path, state["data"])
    hashes = state.get("sha256")
    if not isinstance(hashes, dict) or set(hashes) != set(_TENSOR_FILES):
        raise CheckpointError(
            f"{state_path}: no sha256 of {MODELS_FILE} and {TRAINING_FILE}; the tensors "
            "cannot be verified"
        )
    if not all(isinstance(h, str) for h in hashes.values()):
        raise CheckpointError(f"{state_path}: 'sha256' values are not hex digests")


def _check_class_names(state_path: Path, data: dict[str, Any]) -> None:
    """Refuse ``data.class_names`` (a conditional run's names of its labels 0..K−1; absent
    in checkpoints written before they were kept) unless it is K distinct strings."""
    names = data.get("class_names")
    if names is None:
        return
    if (
        not isinstance(names, list)
        or not all(isinstance(name, str) for name in names)
        or len(set(names)) != len(names)
        or len(names) != data.get("classes")
    ):
        raise CheckpointError(
            f"{state_path}: 'data.class_names' is not a list of {data.get('classes')} distinct "
            "names"
        )


def list_checkpoints(directory: Path) -> list[Path]:
    """Complete checkpoint folders in ``directory``, oldest first (temp folders ignored)."""
    if not directory.is_dir():
        return []
    found = [
        p
        for p in directory.iterdir()
        if p.is_dir() and p.name.startswith(_PREFIX) and (p / STATE_FILE).is_file()
    ]
    return sorted(found, key=lambda p: p.name)


class Skipped(NamedTuple):
    """A checkpoint that did not load, and why (the message without its path)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def latest_loadable(directory: Path) -> tuple[Checkpoint | None, list[Skipped]]:
    """The newest checkpoint that loads, and each newer one that did not, newest first."""
    skipped = []
    for path in reversed(list_checkpoints(directory)):
        try:
            return load_checkpoint(path), skipped
        except CheckpointError as err:
            skipped.append(Skipped(path, _without_path(str(err), path)))
    return None, skipped


def _without_path(message: str, path: Path) -> str:
    for prefix in (f"{path}: ", f"{path}/"):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def prune_checkpoints(directory: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints."""
    for old in list_checkpoints(directory)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def save_file(tensors: dict[str, Tensor], path: Path) -> None:
    """Write ``tensors`` in the safetensors format and sync them to disk; a failure is an
    OSError with its errno (a full disk is ENOSPC)."""
    data = save(tensors)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _replace_dir(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final``; an existing ``final`` is set aside first, then removed."""
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
