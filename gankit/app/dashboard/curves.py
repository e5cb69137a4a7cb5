"""The run view's first load: every statistic of a run as a curve, downsampled on the server.

A run of 100,000 training records would send 100,000 points per curve (17 MB of JSON) to a
chart a few hundred pixels wide. :func:`kept_points` decimates a curve of more than
``max_points`` points by min/max per bucket: the points are cut into buckets of consecutive
points (equal counts), and each bucket keeps its lowest and highest finite value — so every
spike and dip that shows at full resolution shows after it, unlike taking every k-th point
or averaging — and its first gap (a NaN or infinity, sent as null), with the curve's first
and last points always kept (the current value of a live run is exact). Of n points,
``max_points`` at most are kept: ⌊(max_points − 2)/2⌋ buckets of 2 points (of 3 when the
curve has gaps) and the two ends. The page then appends the records written after the
returned ``offset``, one by one, through the metrics endpoint.
"""

from __future__ import annotations

import json
import operator
from bisect import bisect_left
from pathlib import Path
from typing import Any

from gankit.diagnose.verdict import DIAGNOSIS_EVENT
from gankit.train.rundir import (
    RESUME_EVENT,
    RunDir,
    apply_markers,
    is_resume_marker,
    record_kind,
)

MAX_POINTS = 2000
"""Points per curve of the run view's first load: about the pixels of a wide chart, twice."""
MIN_POINTS = 8
"""The fewest points per curve a request may ask for."""
NOT_STATISTICS = frozenset({"kind", "schema", "step", "time", "event"})
"""Record keys that are not curves."""
POINT_TYPES = frozenset({int, float, type(None)})
"""The values drawn: numbers, and None for a NaN or infinity (booleans are not)."""
STEP_TYPES = frozenset({int, float})
_ABSENT = object()


def kept_points(values: list[float | None], max_points: int = MAX_POINTS) -> list[int]:
    """The indices of ``values`` (a curve in step order; None for a gap) that min/max
    decimation keeps, ascending: all of them when there are at most ``max_points``."""
    n = len(values)
    if n <= max_points:
        return list(range(n))
    has_gaps = None in values
    finite = [i for i, v in enumerate(values) if v is not None] if has_gaps else range(n)
    gaps = [i for i, v in enumerate(values) if v is None] if has_gaps else []
    buckets = max(1, (max_points - 2) // (3 if has_gaps else 2))
    kept = {0, n - 1}
    for bucket in range(buckets):
        low, high = n * bucket // buckets, n * (bucket + 1) // buckets
        first, last = bisect_left(finite, low), bisect_left(finite, high)
        if first < last:
            inside = finite[first:last]
            kept.add(min(inside, key=values.__getitem__))
            kept.add(max(inside, key=values.__getitem__))
        gap = bisect_left(gaps, low)
        if gap < len(gaps) and gaps[gap] < high:
            kept.add(gaps[gap])
    return sorted(kept)


def run_curves(path: Path, max_points: int = MAX_POINTS) -> dict[str, Any]:
    """Every statistic of the run's training and eval records as ``{"steps", "values",
    "points"}`` (``points``: how many the curve has before decimation), its diagnosis
    verdicts, and the ``offset`` (the end of the complete lines read) to poll on from.

    Resume markers are applied as the page applies them: superseded records and the
    verdicts of superseded steps are left out."""
    records, offset = read_records(RunDir(path).metrics_path)
    if any(record.get("event") == RESUME_EVENT for record in records):
        records = apply_markers(records)
    kinds = [record.get("kind") or record_kind(record) for record in records]
    verdicts: list[dict[str, Any]] = []
    for record, kind in zip(records, kinds, strict=True):
        if kind != "event":
            continue
        if is_resume_marker(record):
            verdicts = [verdict for verdict in verdicts if _at_most(verdict, record["step"])]
        elif record.get("event") == DIAGNOSIS_EVENT:
            verdicts.append(record)
    columns: dict[str, dict[Any, float | None]] = {}
    for measured in ("train", "eval"):
        group = [
            record
            for record, kind in zip(records, kinds, strict=True)
            if kind == measured and type(record.get("step")) in STEP_TYPES
        ]
        steps = [record["step"] for record in group]
        for key in set().union(*group) - NOT_STATISTICS:
            columns.setdefault(key, {}).update(_points(group, steps, key))
    curves = {}
    for key, column in sorted(columns.items()):
        if not column:
            continue  # a key whose values are never numbers (the "nonfinite" lists)
        steps = list(column)
        if not all(map(operator.lt, steps, steps[1:])):
            steps.sort()
        values = [column[step] for step in steps]
        kept = kept_points(values, max_points)
        curves[key] = {
            "steps": [steps[i] for i in kept],
            "values": [values[i] for i in kept],
            "points": len(steps),
        }
    return {"curves": curves, "verdicts": verdicts, "offset": offset}


def _points(group: list[dict[str, Any]], steps: list[Any], key: str) -> Any:
    """The (step, value) pairs of ``key`` in the records of ``group`` (whose steps are
    ``steps``) that hold a number or None there; at C speed when every record does."""
    try:
        values = [record[key] for record in group]
    except KeyError:
        values = None
    if values is not None and set(map(type, values)) <= POINT_TYPES:
        return zip(steps, values, strict=True)
    return [
        (record["step"], value)
        for record in group
        if type(value := record.get(key, _ABSENT)) in POINT_TYPES
    ]


def read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records of the complete lines of a metrics.jsonl and the offset after them.

    The lines are parsed as one JSON array (one call into the C parser); a file with a line
    that is not JSON (cut short by a crash) is parsed line by line, that line skipped."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return [], 0
    end = data.rfind(b"\n") + 1
    try:
        parsed = json.loads(b"[" + data[: max(end - 1, 0)].replace(b"\n", b",") + b"]")
    except (ValueError, RecursionError):
        parsed = [_parse(line) for line in data[:end].splitlines()]
    return [record for record in parsed if isinstance(record, dict)], end


def _parse(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _at_most(verdict: dict[str, Any], step: int) -> bool:
    return not _is_number(verdict.get("step")) or verdict["step"] <= step


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
