"""A run's sampler as a file other programs run: ONNX (``.onnx``) or a ``torch.export``
program (``.pt2``).

The exported function is what :meth:`gankit.api.Run.generate` computes: inputs ``z``,
float32 ``(batch, noise.dim)``, and for a conditional run ``label``, int64 ``(batch,)``
classes 0 … K − 1; output ``samples`` ``(batch, *shape)``, the tensor ``gankit sample``
draws (images in [−1, 1] for a tanh generator, points as they are). The batch size is
dynamic. The network is the sampler: G's moving average when the run keeps one, in eval
mode (BatchNorm on its running statistics).

An exported graph cannot hold the label range check of
:func:`gankit.nets.conditional.check_labels` (a branch on the label values), so it is left
out: give labels in 0 … K − 1 (a one-hot embedding makes a label outside them an all-zero
vector; a learned one fails to look it up).

* ``.onnx``: ``torch.onnx.export`` with the dynamo exporter, which needs the optional
  packages onnx and onnxscript (``pip install 'gankit[export]'``, which also brings
  onnxruntime to run the file: ``onnxruntime.InferenceSession(path).run(None, {"z": z})``);
* ``.pt2``: ``torch.export.export`` saved by ``torch.export.save``; run it with
  ``torch.export.load(path).module()(z)``. Needs nothing beyond torch.

After writing, the file is loaded back and run on :data:`CHECK_SAMPLES` z of the run, and
the largest difference from :meth:`Run.generate` is reported (for ONNX when onnxruntime is
installed).
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.api import Run
from gankit.errors import GankitError
from gankit.files import OutputError, write_atomic
from gankit.nets.conditional import LabelEmbedding

FORMATS = {".onnx": "onnx", ".pt2": "torch.export"}
ONNX_PACKAGES = ("onnx", "onnxscript")
CHECK_SAMPLES = 5
"""z the written file is checked on (a batch size other than the example's 2)."""
_EXAMPLE_BATCH = 2


class ExportError(GankitError):
    """A sampler that cannot be exported, or an exporter that is not installed."""


@dataclass(frozen=True)
class Exported:
    """What :func:`export_sampler` wrote."""

    path: Path
    format: str
    """The format: "onnx" or "torch.export"."""
    inputs: tuple[str, ...]
    max_difference: float | None
    """Largest |file − Run.generate| on the check's z; None when it could not be run."""


class _UncheckedEmbedding(nn.Module):
    """A :class:`LabelEmbedding` without its range check (one-hot or its table)."""

    def __init__(self, embedding: LabelEmbedding) -> None:
        super().__init__()
        self.classes = embedding.classes
        self.table = embedding.table

    def forward(self, y: Tensor) -> Tensor:
        return F.one_hot(y, self.classes).float() if self.table is None else self.table(y)


class _Unconditional(nn.Module):
    def __init__(self, sampler: nn.Module) -> None:
        super().__init__()
        self.sampler = sampler

    def forward(self, z: Tensor) -> Tensor:
        return self.sampler(z)


class _Conditional(_Unconditional):
    def forward(self, z: Tensor, label: Tensor) -> Tensor:  # type: ignore[override]
        return self.sampler(z, label)


def export_format(path: str | Path) -> str:
    """The format an output name asks for; any other extension is refused."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = repr(suffix) if suffix else "a file without an extension"
        raise OutputError(
            f"{path}: cannot export a generator as {shown}; name a .onnx file (ONNX) or a .pt2 "
            "file (torch.export)"
        )
    return FORMATS[suffix]


def check_onnx_installed() -> None:
    """Refuse ONNX export, in one line, where its optional packages are missing."""
    missing = [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportError(
            f"ONNX export needs the optional package(s) {' and '.join(missing)}, not installed: "
            "pip install 'gankit[export]' (or write a .pt2 file, which needs only torch)"
        )


def exportable(run: Run) -> nn.Module:
    """A copy of the run's sampler in eval mode whose ``forward`` is ``(z)`` or, for a
    conditional run, ``(z, label)``, with its label embeddings' range checks left out."""
    sampler = copy.deepcopy(run.sampler).cpu().eval()
    for module in list(sampler.modules()):
        for name, child in module.named_children():
            if isinstance(child, LabelEmbedding):
                setattr(module, name, _UncheckedEmbedding(child))
    wrapper = _Conditional(sampler) if run.classes else _Unconditional(sampler)
    return wrapper.eval().requires_grad_(False)


def export_sampler(run: Run, path: str | Path, check: bool = True) -> Exported:
    """Write the run's sampler to ``path`` (``.onnx`` or ``.pt2``, replaced atomically if
    it exists) and, with ``check``, run the file on :data:`CHECK_SAMPLES` z against
    :meth:`Run.generate`."""
    path = Path(path).expanduser()
    fmt = export_format(path)
    if fmt == "onnx":
        check_onnx_installed()
    example = _inputs(run, _EXAMPLE_BATCH)  # refuses a translation run
    names = ("z", "label") if run.classes else ("z",)
    batch = torch.export.Dim("batch")
    dynamic = {name: {0: batch} for name in names}
    module = exportable(run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch's own deprecations, not ours
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
        try:
            program = torch.export.export(module, example, dynamic_shapes=dynamic)
        except Exception as err:  # torch's export errors share no base class
            raise ExportError(
                f"{run.path}: torch.export cannot trace the sampler: {_first_line(err)}"
            ) from err
        if fmt == "torch.export":
            write_atomic(path, lambda handle: torch.export.save(program, handle))
        else:
            onnx_logger = logging.getLogger("torch.onnx")
            level = onnx_logger.level
            onnx_logger.setLevel(logging.ERROR)  # notes about torchvision ops it skips
            try:
                onnx = torch.onnx.export(
                    program,
                    example,
                    input_names=list(names),
                    output_names=["samples"],
                    dynamic_shapes=dynamic,
                    dynamo=True,
                    verbose=False,
                )
            except Exception as err:  # the translation's errors share no base class either
                raise ExportError(
                    f"{run.path}: cannot translate the sampler to ONNX: {_first_line(err)}"
                ) from err
            finally:
                onnx_logger.setLevel(level)
            proto = onnx.model_proto.SerializeToString()
            write_atomic(path, lambda handle: handle.write(proto))
    difference = _check(run, path, fmt) if check else None
    return Exported(path, fmt, names, difference)


def _inputs(run: Run, n: int, seed: int = 0) -> tuple[Tensor, ...]:
    """z (and labels cycling through the classes) for ``n`` samples."""
    z = run.latents(n, seed)
    return (z, torch.arange(n) % run.classes) if run.classes else (z,)


def _check(run: Run, path: Path, fmt: str) -> float | None:
    """Largest |file(z) − Run.generate(z)| on :data:`CHECK_SAMPLES` z; None for ONNX
    without onnxruntime."""
    inputs = _inputs(run, CHECK_SAMPLES, seed=1)
    expected = run.generate(*inputs).numpy()
    if fmt == "torch.export":
        with torch.no_grad():
            got = torch.export.load(path).module()(*inputs).numpy()
    else:
        if importlib.util.find_spec("onnxruntime") is None:
            return None
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = dict(zip(("z", "label"), (t.numpy() for t in inputs), strict=False))
        got = session.run(None, feeds)[0]
    return float(np.abs(got - expected).max())


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
