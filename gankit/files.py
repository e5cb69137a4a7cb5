"""Files that readers may open at any moment: atomic writes and strict JSON.

Every file gankit writes whole (config, summary, status, evaluation, checkpoint state,
pictures, sample arrays) goes through :func:`write_atomic`: a temporary file in the same
folder, flushed to disk and renamed over the target, so a reader (or a crash) sees the old
file or the new one, never half of either; a failed write removes its temporary file. A
file that cannot be written (its folder cannot be created or is read-only, the path is a
folder, the disk is full, or an existing file must not be replaced) raises
:class:`OutputError`, one line naming the path.

JSON is written strictly (RFC 8259): NaN and ±Infinity are not JSON, so :func:`strict_json`
writes them as ``null`` and a record lists such keys under ``"nonfinite"``
(see :func:`finite_record`).
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from gankit.errors import GankitError

NONFINITE_KEY = "nonfinite"


class OutputError(GankitError, OSError):
    """An output file that cannot be written: its folder cannot be created or is read-only,
    the path names a folder, its extension is not one that can be written, or it exists and
    must not be replaced. An ``OSError`` too (with the ``errno`` of the failure, when there
    was one), so callers catching those still catch it."""

    def __init__(self, message: str, code: int | None = None) -> None:
        if code is None:
            super().__init__(message)
        else:
            super().__init__(code, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`write_atomic`)."""
    return write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def check_output(path: str | os.PathLike, overwrite: bool = True) -> Path:
    """``path`` as a file to write: refused (:class:`OutputError`, naming it) when it is a
    folder, when its folder cannot be created or is not a folder, or, with
    ``overwrite=False``, when it exists. Creates the folder."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        blocking = next((a for a in path.parents if a.exists() and not a.is_dir()), None)
        reason = f"{blocking} is a file" if blocking is not None else _reason(err)
        raise OutputError(f"cannot create folder {path.parent} for {path}: {reason}") from None
    if not overwrite and (path.exists() or path.is_symlink()):
        raise OutputError(f"{path} already exists; not replacing it")
    return path


def write_atomic(
    path: str | os.PathLike, write: Callable[[BinaryIO], None], overwrite: bool = True
) -> Path:
    """Create ``path``'s folder, let ``write`` fill a temporary file beside it, then rename
    it into place (with ``overwrite=False``, only if nothing is there by then). Nothing is
    left behind on failure; a file-system failure is an :class:`OutputError` naming ``path``."""
    path = check_output(path, overwrite)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as err:
        raise OutputError(f"cannot write {path}: {_reason(err)}", err.errno) from None
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        if overwrite:
            os.replace(temporary, path)
        else:
            _rename_new(temporary, path)
    except OutputError:
        Path(temporary).unlink(missing_ok=True)
        raise
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {_reason(err)}", err.errno) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _rename_new(temporary: str, path: Path) -> None:
    """Move ``temporary`` to ``path`` unless ``path`` exists (a hard link cannot replace a
    file; where links are not supported, a check just before the rename)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise OutputError(f"{path} already exists; not replacing it") from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if path.exists():
            raise OutputError(f"{path} already exists; not replacing it") from None
        os.replace(temporary, path)
    else:
        os.unlink(temporary)


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


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
