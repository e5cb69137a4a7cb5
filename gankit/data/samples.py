"""Sample sets named by one string, as on the command line.

* a file of samples, one per row: ``.npy``, ``.npz`` (its only array, or the one named
  ``samples``), ``.pt``/``.pth`` (a tensor saved with ``torch.save``; loaded with
  ``weights_only=True``, so no pickled code runs), ``.csv``/``.txt`` (numbers, comma- or
  whitespace-separated);
* a run directory: samples of its generator (G's moving average when the run keeps one);
* a data source, ``NAME`` or ``NAME:KEY=VALUE,KEY=VALUE`` with YAML values, e.g.
  ``ring``, ``normal1d:mean=2,std=0.5``, ``gmm1d:weights=[1,1],means=[-2,2],stds=[1,1]``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from pydantic import ValidationError
from torch import Tensor

from gankit.data.base import DataError, DataSource
from gankit.data.registry import SOURCES, build_source
from gankit.registry import UnknownNameError

_ARRAY_SUFFIXES = (".npy", ".npz", ".pt", ".pth", ".csv", ".txt")


def resolve_samples(spec: str, n: int, seed: int = 0) -> Tensor | DataSource:
    """The sample set that ``spec`` names: a tensor (files, runs: ``n`` samples with z drawn
    from ``seed``) or a data source."""
    path = Path(spec)
    if path.is_file():
        return read_samples(path)
    if path.is_dir():
        return _run_samples(path, n, seed)
    if path.suffix in _ARRAY_SUFFIXES:
        raise DataError(f"{spec}: no such file")
    return source_from_spec(spec)


def read_samples(path: str | Path) -> Tensor:
    """Samples (n, …) from a .npy, .npz, .pt/.pth, .csv or .txt file."""
    path = Path(path)
    suffix = path.suffix.lower()
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
    except (OSError, ValueError, EOFError, RuntimeError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: cannot read samples ({err})") from None
    if not isinstance(array, np.ndarray | Tensor):
        raise DataError(f"{path}: holds a {type(array).__name__}, not an array of samples")
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


def _run_samples(path: Path, n: int, seed: int) -> Tensor:
    from gankit.api import load  # the API imports the data package, so import it late

    return load(path).sample(n, seed)
