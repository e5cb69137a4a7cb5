"""Device selection: ``auto`` picks CUDA, then Apple's MPS, then the CPU; and the memory
free on a device (:func:`available_bytes`), which the checks that refuse a run or an
estimate too large to fit read before anything is allocated."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from gankit.errors import GankitError


class DeviceError(GankitError, ValueError):
    """A device that does not exist on this machine or is misspelled."""


def select_device(spec: str = "auto") -> torch.device:
    """Resolve ``spec`` ("auto", "cpu", "cuda", "cuda:N", "mps") to an available device."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise DeviceError(
            f"device '{spec}' is not a device name; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device '{spec}' requested but CUDA is not available here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device '{spec}' requested but only {torch.cuda.device_count()} CUDA "
                "device(s) exist"
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"device '{spec}' requested but MPS is not available here")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"device '{spec}' is not supported; use auto, cpu, cuda, cuda:N or mps")
    return device


def available_bytes(device: torch.device | str | None = None) -> int | None:
    """Memory free for a new allocation on ``device``: free GPU memory for CUDA, else the
    machine's available memory; None when it cannot be read."""
    device = torch.device(device if device is not None else "cpu")
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError, ValueError):
            return None
    return system_available_bytes()


def system_available_bytes() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` (else free pages from ``os.sysconf``), capped
    by the memory left under this process's cgroup limit; None when none can be read."""
    available = _meminfo_available()
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            available = None
    left = _cgroup_left()
    if left is not None:
        available = left if available is None else min(available, left)
    return available


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as lines:
            for line in lines:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        return None
    return None


def _cgroup_left() -> int | None:
    """Limit minus usage of the cgroup (v2, else v1) this process runs in, if limited."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit_text = Path(limit_file).read_text().strip()
            if limit_text == "max":
                return None
            limit, usage = int(limit_text), int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 2**60:  # cgroup v1 writes "no limit" as a huge number
            return None
        return max(limit - usage, 0)
    return None
