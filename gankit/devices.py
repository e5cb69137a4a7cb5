"""Device selection: ``auto`` picks CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

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
