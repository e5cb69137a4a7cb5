"""Inception-v3 features for the standard FID, from a weights file the user supplies.

The FID of Heusel et al. (2017) compares the 2048-d pool features of the Inception-v3 network
(Szegedy et al. 2016, "Rethinking the Inception architecture") that TensorFlow published in
2015; the PyTorch port of those weights by pytorch-fid (Seitzer 2020) is the de-facto
standard file. gankit ships no Inception weights and fetches them only when asked:
``gankit download inception`` puts them, sha256-checked, in the cache folder
(``~/.cache/gankit/``, :func:`gankit.data.downloads.cache_dir`), where they are found by
default; ``--inception-weights`` (or ``GANKIT_INCEPTION_WEIGHTS``) names another file.

Preprocessing follows the standard protocol: generated images in [−1, 1] are first quantised
to 8-bit grey levels as if saved to PNG (x ↦ round(127.5·(x + 1)) / 255), grey images are
repeated to three channels, resized bilinearly (no antialiasing, align_corners=False) to
299×299 and mapped to [−1, 1] as 2x − 1. The TensorFlow graph differs from the stock
torchvision Inception-v3 in three places, reproduced here: its average pools exclude the
zero padding from the mean, the last block pools by maximum, and the classifier has 1008
outputs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from gankit.data.downloads import INCEPTION_SHA256, INCEPTION_URL, cached_file
from gankit.errors import GankitError

WEIGHTS_ENV = "GANKIT_INCEPTION_WEIGHTS"
WEIGHTS_URL = INCEPTION_URL
STANDARD_SHA256 = INCEPTION_SHA256
INPUT_SIZE = 299
FEATURE_DIM = 2048
NUM_LOGITS = 1008
BATCH = 50


class InceptionWeightsError(GankitError, ValueError):
    """Inception-v3 weights that are absent, unreadable or do not fit the network."""


class _ConvBN(nn.Module):
    """Convolution without bias, batch norm (ε = 0.001, TensorFlow's) and ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int | tuple[int, int], **conv: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, bias=False, **conv)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: Tensor) -> Tensor:
    """3×3 average pool, stride 1, mean over the non-padding pixels only."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


def _row(c_in: int, c_out: int, width: int) -> _ConvBN:
    """A 1×width convolution keeping the size."""
    return _ConvBN(c_in, c_out, (1, width), padding=(0, width // 2))


def _column(c_in: int, c_out: int, height: int) -> _ConvBN:
    """A height×1 convolution keeping the size."""
    return _ConvBN(c_in, c_out, (height, 1), padding=(height // 2, 0))


class _BlockA(nn.Module):
    """35×35 block: 1×1, 5×5, double 3×3 and pooled branches."""

    def __init__(self, c_in: int, pool_channels: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(c_in, 64, 1)
        self.branch5x5_1 = _ConvBN(c_in, 48, 1)
        self.branch5x5_2 = _ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, padding=1)
        self.branch_pool = _ConvBN(c_in, pool_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg_pool(x)),
            ],
            dim=1,
        )


class _ReductionA(nn.Module):
    """35×35 → 17×17: strided 3×3, strided double 3×3 and max-pool branches."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = _ConvBN(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = _ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, 3, stride=2),
            ],
            dim=1,
        )


class _BlockC(nn.Module):
    """17×17 block: 7×7 convolutions factorised into 1×7 and 7×1."""

    def __init__(self, c_in: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(c_in, 192, 1)
        self.branch7x7_1 = _ConvBN(c_in, c7, 1)
        self.branch7x7_2 = _row(c7, c7, 7)
        self.branch7x7_3 = _column(c7, 192, 7)
        self.branch7x7dbl_1 = _ConvBN(c_in, c7, 1)
        self.branch7x7dbl_2 = _column(c7, c7, 7)
        self.branch7x7dbl_3 = _row(c7, c7, 7)
        self.branch7x7dbl_4 = _column(c7, c7, 7)
        self.branch7x7dbl_5 = _row(c7, 192, 7)
        self.branch_pool = _ConvBN(c_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        seven = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = self.branch7x7dbl_1(x)
        for layer in (
            self.branch7x7dbl_2,
            self.branch7x7dbl_3,
            self.branch7x7dbl_4,
            self.branch7x7dbl_5,
        ):
            double = layer(double)
        return torch.cat([self.branch1x1(x), seven, double, self.branch_pool(_avg_pool(x))], dim=1)


class _ReductionB(nn.Module):
    """17×17 → 8×8: strided 3×3, 7×7-then-strided-3×3 and max-pool branches."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = _ConvBN(c_in, 192, 1)
        self.branch3x3_2 = _ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _ConvBN(c_in, 192, 1)
        self.branch7x7x3_2 = _row(192, 192, 7)
        self.branch7x7x3_3 = _column(192, 192, 7)
        self.branch7x7x3_4 = _ConvBN(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        seven = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            seven = layer(seven)
        return torch.cat(
            [self.branch3x3_2(self.branch3x3_1(x)), seven, F.max_pool2d(x, 3, stride=2)], dim=1
        )


class _BlockE(nn.Module):
    """8×8 block: 3×3 convolutions split into parallel 1×3 and 3×1 outputs.

    ``max_pool`` selects the pooled branch of the network's last block."""

    def __init__(self, c_in: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = _ConvBN(c_in, 320, 1)
        self.branch3x3_1 = _ConvBN(c_in, 384, 1)
        self.branch3x3_2a = _row(384, 384, 3)
        self.branch3x3_2b = _column(384, 384, 3)
        self.branch3x3dbl_1 = _ConvBN(c_in, 448, 1)
        self.branch3x3dbl_2 = _ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _row(384, 384, 3)
        self.branch3x3dbl_3b = _column(384, 384, 3)
        self.branch_pool = _ConvBN(c_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        three = self.branch3x3_1(x)
        double = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(three),
                self.branch3x3_2b(three),
                self.branch3x3dbl_3a(double),
                self.branch3x3dbl_3b(double),
                self.branch_pool(pooled),
            ],
            dim=1,
        )


class FIDInceptionV3(nn.Module):
    """Inception-v3 as in the TensorFlow FID graph; parameter names match the pytorch-fid
    weights file. Input: (N, 3, 299, 299) in [−1, 1]; ``features`` gives the 2048-d pool
    features, ``forward`` the 1008 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = _ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = _ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = _ConvBN(80, 192, 3)
        self.Mixed_5b = _BlockA(192, pool_channels=32)
        self.Mixed_5c = _BlockA(256, pool_channels=64)
        self.Mixed_5d = _BlockA(288, pool_channels=64)
        self.Mixed_6a = _ReductionA(288)
        self.Mixed_6b = _BlockC(768, c7=128)
        self.Mixed_6c = _BlockC(768, c7=160)
        self.Mixed_6d = _BlockC(768, c7=160)
        self.Mixed_6e = _BlockC(768, c7=192)
        self.Mixed_7a = _ReductionB(768)
        self.Mixed_7b = _BlockE(1280, max_pool=False)
        self.Mixed_7c = _BlockE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURE_DIM, NUM_LOGITS)

    def features(self, x: Tensor) -> Tensor:
        """Pool features (N, 2048) of network inputs x (N, 3, 299, 299) in [−1, 1]."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))  # (N, 64, 147, 147)
        x = F.max_pool2d(x, 3, stride=2)  # (N, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))  # (N, 192, 71, 71)
        x = F.max_pool2d(x, 3, stride=2)  # (N, 192, 35, 35)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a):
            x = block(x)  # → (N, 768, 17, 17)
        for block in (self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e, self.Mixed_7a):
            x = block(x)  # → (N, 1280, 8, 8)
        x = self.Mixed_7c(self.Mixed_7b(x))  # (N, 2048, 8, 8)
        return x.mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        """Logits (N, 1008) of network inputs x (N, 3, 299, 299) in [−1, 1]."""
        return self.fc(self.features(x))


def prepare_images(images: Tensor) -> Tensor:
    """gankit images (N, 1 or 3, H, W) in [−1, 1] → network inputs (N, 3, 299, 299).

    Quantised to 8 bits as a saved PNG would be, grey repeated to RGB, resized bilinearly
    (align_corners=False, no antialiasing) to 299×299 and mapped to [−1, 1] as 2x − 1."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images (N, 1 or 3, H, W), got shape {tuple(images.shape)}")
    unit = torch.round((images.float().clamp(-1, 1) + 1) * 127.5) / 255
    if unit.shape[1] == 1:
        unit = unit.expand(-1, 3, -1, -1)
    unit = F.interpolate(unit, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return 2 * unit - 1


class InceptionExtractor:
    """The FID Inception-v3 with its weights loaded, scoring gankit images in batches."""

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        device: torch.device | str = "cpu",
        progress: bool = False,
    ) -> None:
        self.progress = progress
        self.path = weights_path(weights)
        self.sha256, state = _read_weights(self.path)
        self.network = FIDInceptionV3()
        _load_state(self.network, state, self.path)
        self.network.eval().to(device)
        self.device = torch.device(device)

    @property
    def standard(self) -> bool:
        """Whether the weights are the standard file (the sha256 of pytorch-fid's file)."""
        return self.sha256 == STANDARD_SHA256

    @torch.no_grad()
    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Pool features (N, 2048) and logits (N, 1008) of images in [−1, 1]."""
        features, logits = [], []
        batches = images.split(BATCH)
        quiet = not self.progress or len(batches) < 2
        for batch in tqdm(batches, desc="inception features", unit="batch", disable=quiet):
            pooled = self.network.features(prepare_images(batch.to(self.device)))
            features.append(pooled)
            logits.append(self.network.fc(pooled))
        return torch.cat(features), torch.cat(logits)

    def provenance(self) -> dict[str, Any]:
        """Extractor name, weights file and hash, resize."""
        return {
            "extractor": "inception-v3 (FID, pool3 2048-d)",
            "extractor_sha256": self.sha256,
            "extractor_weights": str(self.path),
            "extractor_standard_weights": self.standard,
            "feature_dim": FEATURE_DIM,
            "resize": f"8-bit quantised, bilinear to {INPUT_SIZE}×{INPUT_SIZE} "
            "(align_corners=False, no antialias), grey repeated to RGB",
        }


def weights_path(weights: str | os.PathLike | None = None) -> Path:
    """The weights file given, else ``$GANKIT_INCEPTION_WEIGHTS``, else the file ``gankit
    download inception`` put in the cache folder; a clear error naming what to download when
    none is there."""
    chosen = weights if weights is not None else os.environ.get(WEIGHTS_ENV)
    if chosen is None and cached_file("inception").is_file():
        chosen = cached_file("inception")
    how = (
        f"run `gankit download inception` (fetches {WEIGHTS_URL}, the pytorch-fid port of "
        f"the TensorFlow FID Inception-v3, 96 MB, into {cached_file('inception').parent}), "
        f"or pass --inception-weights PATH or set {WEIGHTS_ENV}=PATH"
    )
    if chosen is None or str(chosen) == "":
        raise InceptionWeightsError(f"the standard FID needs Inception-v3 weights: {how}")
    path = Path(chosen).expanduser()
    if not path.is_file():
        raise InceptionWeightsError(f"{path}: no such Inception-v3 weights file; {how}")
    return path


def _read_weights(path: Path) -> tuple[str, dict[str, Tensor]]:
    """sha256 and state dict of a .pth (loaded with weights_only) or .safetensors file."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InceptionWeightsError(f"{path}: cannot read the weights ({err})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load

            state = load(data)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any decoding failure is reported the same way
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InceptionWeightsError(
            f"{path}: not a readable Inception-v3 weights file ({first})"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise InceptionWeightsError(f"{path}: expected a state dict of tensors")
    return sha256, state


def _load_state(network: FIDInceptionV3, state: dict[str, Tensor], path: Path) -> None:
    """Load ``state`` strictly, ignoring batch-norm step counters and auxiliary heads."""

    def relevant(key: str) -> bool:
        return not key.endswith("num_batches_tracked") and not key.startswith("AuxLogits.")

    expected = {k: v for k, v in network.state_dict().items() if relevant(k)}
    given = {k: v for k, v in state.items() if relevant(k)}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    wrong = [k for k in expected if k in given and given[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        parts = [
            f"{label} {', '.join(keys[:3])}{'…' if len(keys) > 3 else ''}"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("wrong shape", wrong),
            )
            if keys
        ]
        raise InceptionWeightsError(
            f"{path}: not the FID Inception-v3 weights ({'; '.join(parts)}); expected the "
            f"file from {WEIGHTS_URL}"
        )
    network.load_state_dict(given, strict=False)


def synthetic_weights(seed: int = 0) -> dict[str, Tensor]:
    """Deterministic stand-in weights for tests and speed benchmarks (no features of any
    meaning): He-scaled normal convolutions, batch-norm statistics near identity."""
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, Tensor] = {}
    for key, value in sorted(FIDInceptionV3().state_dict().items()):
        if key.endswith("num_batches_tracked"):
            continue
        noise = torch.randn(value.shape, generator=generator, dtype=torch.float64)
        if key.endswith("conv.weight") or key == "fc.weight":
            fan_in = value[0].numel()
            tensor = noise * (2 / fan_in) ** 0.5
        elif key.endswith("running_var"):
            tensor = 1 + 0.1 * noise.abs()
        elif key.endswith("bn.weight"):
            tensor = 1 + 0.1 * noise
        else:  # biases and running means
            tensor = 0.1 * noise
        state[key] = tensor.float()
    return state
