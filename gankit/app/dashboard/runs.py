"""What the dashboard reads from a folder of run directories, read-only and forgiving.

Every function here only opens files for reading: nothing is written, locked or renamed in
a run directory, so a run that is training is never disturbed. A missing, unreadable or
half-written file gives partial data (``None``, an empty list), never an exception.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from gankit.train.rundir import RunDir, read_metrics_from, record_kind
from gankit.train.status_reading import read_status, stale_reason

RUN_MARKERS = ("config.yaml", "metrics.jsonl", "status.json")
"""A folder holding one of these is listed as a run."""
SAMPLE_NAME = re.compile(r"step_(\d+)\.png")
EVAL_FILE = "eval.json"
"""The report ``gankit eval RUN`` writes (``gankit.evaluate.EVAL_FILE``, named here so that
the dashboard never imports the evaluation, and torch with it)."""
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (about 10 times faster)."""


def run_path(root: Path, name: str) -> Path | None:
    """The run directory ``name`` directly under ``root``, or None when ``name`` is not a
    plain folder name (empty, hidden, ``..``, a slash) or no such run exists. A symbolic
    link that leads out of ``root`` is refused too."""
    if not name or name.startswith(".") or any(c in name for c in "/\\\0"):
        return None
    path = root / name
    try:
        inside = path.resolve().parent == root.resolve()
    except OSError:
        return None
    if not inside or not path.is_dir():
        return None
    return path if any((path / marker).exists() for marker in RUN_MARKERS) else None


def run_names(root: Path) -> list[str]:
    """The names of the run directories directly under ``root``, sorted."""
    try:
        children = sorted(root.iterdir())
    except OSError:
        return []
    return [child.name for child in children if run_path(root, child.name) is not None]


def status_of(path: Path) -> dict[str, Any]:
    """status.json's state, step/total, rate and ETA, with ``stale`` (why a live-looking
    status has no live process, else None); state None when there is no status.json."""
    status = read_status(RunDir(path).status_path)
    if status is None:
        return {"state": None, "step": None, "total_steps": None, "stale": None}
    keys = ("state", "step", "total_steps", "steps_per_s", "eta_seconds", "heartbeat_at")
    return {**{key: status.get(key) for key in keys}, "stale": stale_reason(status)}


def read_config(path: Path) -> dict[str, Any] | None:
    """config.yaml as a mapping, or None when it is missing or unreadable."""
    text = config_text(path)
    if text is None:
        return None
    try:
        config = yaml.load(text, Loader=YAML_LOADER)
    except yaml.YAMLError:
        return None
    return config if isinstance(config, dict) else None


def preset_and_task(path: Path) -> tuple[Any, Any]:
    """config.yaml's ``preset`` and task name, reading no other value (libyaml composes the
    file's nodes; only these two are looked at, which costs a fifth of building the whole
    config): (None, None) when it is unreadable; a config without a ``task`` section trains
    the unconditional task."""
    text = config_text(path)
    try:
        node = None if text is None else yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError:
        return None, None
    if not isinstance(node, yaml.MappingNode):
        return None, None
    top = {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
    task = top.get("task")
    if isinstance(task, yaml.MappingNode):
        task = next((value for key, value in task.value if key.value == "name"), None)
    return _string(top.get("preset")), _string(task) if "task" in top else "unconditional"


def _string(node: Any) -> str | None:
    """The text of a YAML string node, else None."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return node.value
    return None


def config_stamp(path: Path) -> tuple[int, int] | None:
    """config.yaml's modification time and size, which change when it is rewritten; None
    when there is none."""
    try:
        stat = os.stat(RunDir(path).config_path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def config_text(path: Path) -> str | None:
    """config.yaml's text, or None."""
    try:
        return RunDir(path).config_path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def flat_config(path: Path) -> dict[str, Any]:
    """config.yaml as dotted keys → values (``{"train.steps": 3000, …}``), {} if unreadable."""
    flat: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(item, f"{prefix}.{key}" if prefix else str(key))
        else:
            flat[prefix] = value

    config = read_config(path)
    if config:
        walk(config, "")
    return flat


def metrics_since(path: Path, offset: int) -> dict[str, Any]:
    """The records of metrics.jsonl appended after byte ``offset`` (complete lines only,
    each with its ``kind``) and the offset to ask from next. An offset past the end of the
    file (it was replaced) starts again from 0, with ``reset`` true."""
    metrics = RunDir(path).metrics_path
    try:
        size = metrics.stat().st_size
    except OSError:
        size = 0
    reset = offset > size
    records, end = read_metrics_from(metrics, 0 if reset else offset)
    records = [{**record, "kind": record_kind(record)} for record in records]
    return {"records": records, "offset": end, "reset": reset}


def sample_steps(path: Path) -> list[dict[str, Any]]:
    """The saved sample grids, ``{"step": N, "file": "step_0000N.png"}``, by step."""
    try:
        names = [child.name for child in RunDir(path).samples_dir.iterdir()]
    except OSError:
        return []
    found = [(SAMPLE_NAME.fullmatch(name), name) for name in names]
    return sorted(
        ({"step": int(match.group(1)), "file": name} for match, name in found if match),
        key=lambda entry: entry["step"],
    )


def sample_file(path: Path, file: str) -> Path | None:
    """The sample image ``file`` of the run, or None unless it is a saved grid's name."""
    if not (SAMPLE_NAME.fullmatch(file) or file == "final.png"):
        return None
    image = RunDir(path).samples_dir / file
    return image if image.is_file() else None


def eval_report(path: Path) -> dict[str, Any] | None:
    """eval.json, or None when it is missing or not a JSON object."""
    try:
        report = json.loads((path / EVAL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return report if isinstance(report, dict) else None
