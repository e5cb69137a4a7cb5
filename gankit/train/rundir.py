"""The run directory: everything one run produces, and enough to resume, sample or audit it.

RUN/config.yaml          fully resolved config
RUN/metrics.jsonl        one JSON record per logged step
RUN/samples/*.png        fixed-z sample grids or point plots
RUN/checkpoints/step_*/  safetensors weights + JSON training state
RUN/tensorboard/         TensorBoard event files
RUN/summary.json         how the last session ended
RUN/.lock                who is training it (see gankit.train.lock)
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from gankit.errors import GankitError
from gankit.files import write_text_atomic


class RunDirError(GankitError, ValueError):
    """A path that is not a gankit run directory, or one that cannot be created."""


class RunDir:
    """Paths and small file operations of one run directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    @classmethod
    def create(cls, root: str | Path, name: str, exact: bool = False) -> RunDir:
        """A new, empty run directory ``root/name``: ``-2``, ``-3``… is appended if the name
        is taken, unless ``exact``, which refuses a folder that exists and is not empty."""
        root = Path(root)
        candidate, n = root / name, 1
        if exact and candidate.exists():
            if not candidate.is_dir() or any(candidate.iterdir()):
                raise RunDirError(
                    f"run directory '{candidate}' already exists: continue it with "
                    f"`gankit train --resume {candidate}` or choose another --run-dir"
                )
        while candidate.exists() and not exact:
            n += 1
            candidate = root / f"{name}-{n}"
        try:
            candidate.mkdir(parents=True, exist_ok=exact)
        except OSError as err:
            raise RunDirError(
                f"cannot create run directory '{candidate}': {err.strerror}"
            ) from None
        return cls(candidate)

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run directory; fails clearly when ``path`` is not one."""
        run = cls(path)
        if not run.path.is_dir():
            raise RunDirError(f"run directory '{path}' does not exist")
        if not run.config_path.is_file():
            raise RunDirError(f"'{path}' is not a gankit run directory (no config.yaml)")
        return run

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every record of metrics.jsonl; a torn last line (crash mid-write) is skipped."""
        if not self.metrics_path.is_file():
            return []
        records = []
        for line in self.metrics_path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_metrics(self, last_step: int) -> None:
        """Drop records after ``last_step``: a resumed run rewrites those steps."""
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= last_step]
        write_text_atomic(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))


def run_name(preset: str | None, overrides: list[str]) -> str:
    """``<preset>[-<overrides>]-<YYYYmmdd-HHMMSS>``, safe as a folder name."""
    parts = [preset or "custom"]
    if overrides:
        slug = "_".join(_short_override(o) for o in overrides)
        parts.append(re.sub(r"[^A-Za-z0-9=_.+-]", "", slug)[:60])
    parts.append(time.strftime("%Y%m%d-%H%M%S"))
    return "-".join(parts)


def _short_override(text: str) -> str:
    """``"train.g_optimizer.lr=0.001"`` → ``"lr=0.001"``."""
    key, _, value = text.partition("=")
    return f"{key.split('.')[-1]}={value}"
