"""What every lab experiment shares: its result, its registry entry and where it writes.

An experiment is a plain function ``name(*, out_dir="lab", seed=0, progress=True, **options)
-> LabResult`` registered with :func:`experiment`. It computes its numbers, draws one
figure, and :func:`finish` writes ``<out_dir>/<name>.png`` and ``<out_dir>/<name>.json``.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from matplotlib.figure import Figure

from gankit.errors import GankitError
from gankit.files import write_atomic
from gankit.registry import Registry, UnknownNameError
from gankit.viz import save_figure

EXPERIMENTS: Registry[Callable[..., LabResult]] = Registry("lab experiment")


class LabError(GankitError, ValueError):
    """An experiment asked for with unknown or impossible options."""


@dataclass
class LabResult:
    """The outcome of one experiment: named numbers, report lines and the figure's path."""

    name: str
    numbers: dict[str, Any]
    """JSON-serialisable values (floats, ints, bools, strings, lists, dicts of those)."""
    lines: list[str] = field(default_factory=list)
    """The report, one finding per line, as the CLI prints it."""
    figure: Path | None = None
    numbers_path: Path | None = None

    def __str__(self) -> str:
        report = [f"{self.name}:", *(f"  {line}" for line in self.lines)]
        if self.figure is not None:
            report.append(f"  figure: {self.figure}")
        return "\n".join(report)


Experiment = Callable[..., LabResult]


def experiment(name: str, summary: str) -> Callable[[Experiment], Experiment]:
    """Register an experiment under its CLI ``name`` with a one-line ``summary``."""
    return EXPERIMENTS.register(name, summary=summary)


def finish(
    name: str,
    numbers: Mapping[str, Any],
    lines: list[str],
    figure: Figure,
    out_dir: str | os.PathLike,
) -> LabResult:
    """Write ``figure`` to ``<out_dir>/<name>.png`` and ``numbers`` to ``<name>.json``."""
    out = Path(out_dir)
    figure_path = save_figure(figure, out / f"{name}.png")
    text = json.dumps(_plain(dict(numbers)), indent=2, allow_nan=True) + "\n"
    numbers_path = write_atomic(out / f"{name}.json", lambda fh: fh.write(text.encode()))
    return LabResult(name, dict(numbers), list(lines), figure_path, numbers_path)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, then restore the previous count: the lab's
    small networks gain nothing from intra-op threads and lose much when cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fresh_run_dir(path: Path, preset: str) -> Path:
    """``path``, with a previous run of ``preset`` there removed (a rerun of an experiment
    replaces its runs); any other directory there is left alone, and the Trainer picks a free
    name next to it."""
    config = path / "config.yaml"
    if config.is_file():
        try:
            previous = (yaml.safe_load(config.read_text()) or {}).get("preset")
        except yaml.YAMLError:
            previous = None
        if previous == preset:
            shutil.rmtree(path)
    return path


def run_experiment(name: str, **options: Any) -> LabResult:
    """Run the experiment ``name`` with keyword ``options``; unknown options are refused
    with the list of those it takes."""
    try:
        function = EXPERIMENTS.get(name)
    except UnknownNameError as err:
        raise LabError(str(err)) from None
    accepted = list(inspect.signature(function).parameters)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise LabError(
            f"lab experiment '{name}' has no option {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted)}"
        )
    return function(**options)


def _plain(value: Any) -> Any:
    """Turn tensors, NumPy scalars/arrays and tuples into JSON types."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
