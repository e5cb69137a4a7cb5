"""Files that readers may open at any moment: atomic writes and strict JSON.

Every file gankit writes whole (config, summary, status, evaluation, checkpoint state) goes
through :func:`write_text_atomic`: a temporary file in the same folder, flushed to disk and
renamed over the target, so a reader (or a crash) sees the old file or the new one, never
half of either; a failed write removes its temporary file.

JSON is written strictly (RFC 8259): NaN and ±Infinity are not JSON, so :func:`strict_json`
writes them as ``null`` and a record lists such keys under ``"nonfinite"``
(see :func:`finite_record`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

NONFINITE_KEY = "nonfinite"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a synced temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def strict_json(data: Any, indent: int | None = None) -> str:
    """``json.dumps`` that writes non-finite floats as ``null`` (strict JSON)."""
    return json.dumps(_finite(data), indent=indent, allow_nan=False)


def write_json_atomic(path: str | Path, data: Any, indent: int | None = 1) -> None:
    """Strict JSON of ``data``, written atomically, newline-terminated."""
    write_text_atomic(path, strict_json(data, indent) + "\n")


def finite_record(record: dict[str, Any]) -> dict[str, Any]:
    """A flat record with every non-finite float replaced by ``None`` and those keys listed
    under ``"nonfinite"`` (absent when all values are finite)."""
    bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
    if not bad:
        return record
    return {k: (None if k in bad else v) for k, v in record.items()} | {NONFINITE_KEY: bad}


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data
