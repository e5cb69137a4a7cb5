"""Sample sets named by one string, as on the command line.

* a file of samples, one per row: ``.npy``, ``.npz`` (its only array, or the one named
  ``samples``), ``.pt``/``.pth`` (a tensor saved with ``torch.save``; loaded with
  ``weights_only=True``, so no pickled code runs), ``.csv``/``.txt`` (numbers, comma- or
  whitespace-separated). Only real numbers are samples: arrays of strings, objects or complex
  numbers, and files holding anything but one plain array or tensor, are refused, as is a
  file larger than the memory available;
* a run directory: samples of its generator (G's moving average when the run keeps one),
  drawn when they are asked for;
* a data source, ``NAME`` or ``NAME:KEY=VALUE,KEY=VALUE`` with YAML values, e.g.
  ``ring``, ``normal1d:mean=2,std=0.5``, ``gmm1d:weights=[1,1],means=[-2,2],stds=[1,1]``.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from pydantic import ValidationError
from torch import Tensor

from gankit.data.base import DataError, DataSource
from gankit.data.registry import SOURCES, build_source
from gankit.devices import system_available_bytes
from gankit.registry import UnknownNameError

_ARRAY_SUFFIXES = (".npy", ".npz", ".pt", ".pth", ".csv", ".txt")


def resolve_samples(spec: str, seed: int = 0) -> Tensor | DataSource:
    """The sample set that ``spec`` names: a tensor (files) or a data source (sources; runs,
    whose draws take z from ``seed`` and do not use the generator)."""
    path = Path(spec)
    if path.is_file():
        return read_samples(path)
    if path.is_dir():
        return RunSamples(path, seed)
    if path.suffix in _ARRAY_SUFFIXES:
        raise DataError(f"{spec}: no such file")
    return source_from_spec(spec)


def read_samples(path: str | Path) -> Tensor:
    """Samples (n, …) from a .npy, .npz, .pt/.pth, .csv or .txt file of real numbers."""
    path = Path(path)
    suffix = path.suffix.lower()
    available = system_available_bytes()
    size = path.stat().st_size if path.exists() else 0
    if available is not None and size > available:
        raise DataError(
            f"{path}: {size / 2**30:.1f} GiB do not fit in the {available / 2**30:.1f} GiB of "
            "memory available"
        )
    try:
        if suffix == ".npy":
            array: Any = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            array = _npz_array(path)
        elif suffix in (".pt", ".pth"):
            array = torch.load(path, map_location="cpu", weights_only=True)
        elif suffix in (".csv", ".txt"):
            array = np.loadtxt(path, delimiter="," if suffix == ".csv" else None, ndmin=2)
        else:
            raise DataError(
                f"{path}: unknown sample file type '{suffix}'; use one of "
                f"{', '.join(_ARRAY_SUFFIXES)}"
            )
    except DataError:
        raise
    except pickle.UnpicklingError:
        raise DataError(
            f"{path}: cannot read samples (not a plain tensor saved with torch.save: only "
            "tensors are loaded, no other pickled object)"
        ) from None
    except Exception as err:  # whatever the parser of a malformed or hostile file raises
        raise DataError(f"{path}: cannot read samples ({_first_line(err)})") from None
    if not isinstance(array, np.ndarray | Tensor):
        raise DataError(f"{path}: holds a {type(array).__name__}, not an array of samples")
    if isinstance(array, np.ndarray) and array.dtype.kind not in "biuf":
        raise DataError(f"{path}: holds {_dtype_name(array.dtype)}, not real numbers")
    if isinstance(array, Tensor) and (array.is_complex() or array.layout != torch.strided):
        raise DataError(f"{path}: holds a {array.dtype} {array.layout} tensor, not real numbers")
    samples = torch.as_tensor(array)
    if samples.ndim == 0 or len(samples) == 0:
        raise DataError(f"{path}: no samples (shape {tuple(samples.shape)})")
    return samples


def source_from_spec(spec: str) -> DataSource:
    """A data source from ``NAME`` or ``NAME:KEY=VALUE,…``; the options are validated."""
    name, _, rest = spec.partition(":")
    try:
        entry = SOURCES.entry(name)
    except UnknownNameError as err:
        raise DataError(
            f"'{spec}' is neither a file, a run directory nor a data source ({err})"
        ) from None
    options: dict[str, Any] = {}
    for item in _split_options(rest):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DataError(f"data source '{spec}': option '{item}' is not KEY=VALUE")
        options[key.strip()] = yaml.safe_load(value)
    try:
        validated = entry.options(**options)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise DataError(f"data source '{spec}': {where}: {first['msg']}") from None
    return build_source(validated)


def _split_options(text: str) -> list[str]:
    """Split at commas outside brackets: ``a=[1,2],b=3`` → ``["a=[1,2]", "b=3"]``."""
    items, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    if current:
        items.append(current)
    return [item.strip() for item in items if item.strip()]


def _npz_array(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        if len(names) == 1:
            return archive[names[0]]
        if "samples" in names:
            return archive["samples"]
    raise DataError(
        f"{path}: holds arrays {', '.join(names) or 'none'}; save one array, or name it 'samples'"
    )


def _first_line(err: Exception) -> str:
    """The first line of an exception's message, without terminal escape codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _dtype_name(dtype: np.dtype) -> str:
    kinds = {"U": "strings", "S": "byte strings", "O": "Python objects", "c": "complex numbers"}
    return f"{kinds.get(dtype.kind, 'values')} (dtype {dtype})"


class RunSamples(DataSource):
    """Samples of a run's generator (G's moving average when the run keeps one), z drawn
    from ``seed``; the run is loaded at once, its samples when :meth:`sample` asks."""

    def __init__(self, path: str | Path, seed: int = 0) -> None:
        from gankit.api import load  # the API imports the data package, so import it late

        self.run = load(path)
        self.seed = seed
        self.kind = "points" if len(self.run.data_info.get("shape") or ()) == 1 else "images"
        self.shape = tuple(self.run.data_info.get("shape") or ())

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``n`` samples in batches of :meth:`gankit.api.Run.sample_batches` (z from the
        seed, not from ``generator``), float32 on the CPU."""
        out = torch.empty((n, *self.shape), dtype=torch.float32)
        start = 0
        for batch in self.run.sample_batches(n, self.seed):
            out[start : start + len(batch)] = batch.float().cpu()
            start += len(batch)
        return out

    def __repr__(self) -> str:
        return f"RunSamples({self.run.path}, seed={self.seed}, shape={self.shape})"
