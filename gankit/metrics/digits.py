"""Small digit classifiers shipped with gankit, the feature extractors of digits-FID.

FID (Heusel et al., 2017, "GANs trained by a two time-scale update rule converge to a local
Nash equilibrium") compares Gaussians fitted to the activations of a pretrained classifier;
on MNIST-like data a small classifier trained on the digits themselves is the usual
stand-in for Inception-v3 (e.g. the LeNet features of Bińkowski et al., 2018, "Demystifying
MMD GANs"). Its logits also give class coverage: the histogram of predicted digits.

Two classifiers ship in ``gankit/metrics/weights/``, one per labelled digit set:

* ``mnist5k``: the 5,000 MNIST digits of the ``mnist5k`` source, 28×28;
* ``digits8x8``: scikit-learn's 1,797 8×8 digits of the ``digits8x8`` source.

Each was trained on the training part of :func:`gankit.data.splits.digit_split` and scored
on its held-out part; those held-out images are the reference "real" set of the evaluation.
The weights' sha256, held-out accuracy and training settings are recorded in
``digit_classifiers.json``; ``scripts/train_digit_classifiers.py`` rebuilds both files.

Inputs are 1-channel images scaled to [−1, 1] (x / 127.5 − 1 for uint8 grey levels), the
range of gankit's generators and image sources.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from torch import Tensor, nn

from gankit.data.splits import stratified_split
from gankit.errors import GankitError
from gankit.nets.modes import evaluating

NUM_CLASSES = 10
WEIGHTS_DIR = "weights"
INFO_FILE = "digit_classifiers.json"
REBUILD_COMMAND = "python scripts/train_digit_classifiers.py"
EVAL_BATCH = 500
"""Images per forward pass when scoring; fixed so that recorded accuracies reproduce."""


class DigitClassifierError(GankitError, ValueError):
    """Shipped classifier weights that are missing, unknown or corrupt."""


class DigitClassifier(nn.Module):
    """A small CNN for 1-channel digits in [−1, 1]: stages of two 3×3 convolutions and a 2×2
    max-pool, global average pooling, a ReLU feature layer of ``feature_dim`` and 10 logits.

    No dropout or batch normalisation, so evaluation is deterministic."""

    def __init__(
        self, input_size: int = 28, widths: tuple[int, ...] = (16, 32, 64), feature_dim: int = 128
    ) -> None:
        super().__init__()
        if input_size < 2 ** len(widths):
            raise ValueError(
                f"input_size {input_size} is too small for {len(widths)} pooling stages"
            )
        self.input_size = input_size
        self.widths = tuple(widths)
        self.feature_dim = feature_dim
        layers: list[nn.Module] = []
        channels = 1
        for width in widths:
            layers += [
                nn.Conv2d(channels, width, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(width, width, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            channels = width
        self.body = nn.Sequential(*layers)
        self.embed = nn.Linear(channels, feature_dim)
        self.head = nn.Linear(feature_dim, NUM_CLASSES)

    def options(self) -> dict[str, Any]:
        """The constructor arguments, as recorded in ``digit_classifiers.json``."""
        return {
            "input_size": self.input_size,
            "widths": list(self.widths),
            "feature_dim": self.feature_dim,
        }

    def check_input(self, x: Tensor) -> None:
        """Raise ValueError unless ``x`` is a float batch (B, 1, input_size, input_size)."""
        size = self.input_size
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, size, size):
            raise ValueError(
                f"expected images of shape (B, 1, {size}, {size}) scaled to [−1, 1], "
                f"got {tuple(x.shape)}"
            )
        if not x.is_floating_point():
            raise ValueError(
                f"expected floating-point images scaled to [−1, 1], got {x.dtype} "
                "(convert uint8 grey levels with x / 127.5 − 1)"
            )

    def features(self, x: Tensor) -> Tensor:
        """Penultimate activations (B, feature_dim): the space of digits-FID, KID and
        precision/recall."""
        self.check_input(x)
        pooled = self.body(x).mean(dim=(2, 3))
        return torch.relu(self.embed(pooled))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (B, 10)."""
        return self.head(self.features(x))


def scale_images(images: Tensor) -> Tensor:
    """uint8 grey levels → float32 in [−1, 1] as x / 127.5 − 1 (gankit's image scaling)."""
    return images.float().div(127.5).sub(1.0)


@torch.no_grad()
def count_correct(model: DigitClassifier, images: Tensor, labels: Tensor) -> int:
    """Number of uint8 ``images`` (N, 1, H, W) whose predicted digit equals ``labels``.

    Scored in batches of ``EVAL_BATCH`` on the model's device, in eval mode."""
    device = next(model.parameters()).device
    correct = 0
    with evaluating(model):
        for start in range(0, len(images), EVAL_BATCH):
            batch = scale_images(images[start : start + EVAL_BATCH].to(device))
            predicted = model(batch).argmax(dim=1).cpu()
            correct += int((predicted == labels[start : start + EVAL_BATCH].cpu()).sum())
    return correct


def digit_data(name: str) -> tuple[Tensor, Tensor]:
    """The uint8 images (N, 1, H, W) and labels (N,) a classifier ``name`` was trained on."""
    from gankit.data.images import Digits8x8Options, Mnist5kOptions, digits8x8, mnist5k

    if name == "mnist5k":
        source = mnist5k(Mnist5kOptions())
    elif name == "digits8x8":
        source = digits8x8(Digits8x8Options())
    else:
        raise ValueError(f"no digit data set '{name}' (known: mnist5k, digits8x8)")
    assert source.labels is not None
    return source.images, source.labels


def heldout_data(name: str) -> tuple[Tensor, Tensor]:
    """The held-out uint8 images and labels of classifier ``name``, split as recorded."""
    split = classifier_info(name)["split"]
    images, labels = digit_data(name)
    _, heldout = stratified_split(labels, split["heldout_per_class"], split["seed"])
    return images[heldout], labels[heldout]


def _read_info() -> dict[str, Any]:
    """The whole of ``digit_classifiers.json``."""
    text = resources.files("gankit.metrics").joinpath(WEIGHTS_DIR, INFO_FILE).read_text("utf-8")
    return json.loads(text)


def classifier_names() -> list[str]:
    """Names of the shipped classifiers."""
    return sorted(_read_info()["classifiers"])


def classifier_info(name: str = "mnist5k") -> dict[str, Any]:
    """Recorded metadata of classifier ``name``: architecture options, input size, held-out
    accuracy, image counts, split rule and seed, sha256, torch version, training settings."""
    classifiers = _read_info()["classifiers"]
    if name not in classifiers:
        raise DigitClassifierError(
            f"no digit classifier '{name}' (shipped: {', '.join(sorted(classifiers))})"
        )
    return classifiers[name]


def load_digit_classifier(
    name: str = "mnist5k", device: torch.device | str = "cpu"
) -> DigitClassifier:
    """The shipped classifier ``name`` in eval mode on ``device``, its sha256 verified."""
    info = classifier_info(name)
    weights = resources.files("gankit.metrics").joinpath(WEIGHTS_DIR, info["file"])
    with resources.as_file(weights) as path:
        model = _load_classifier_file(Path(path), info)
    return model.to(device)


def _load_classifier_file(path: Path, info: dict[str, Any]) -> DigitClassifier:
    """Build the classifier described by ``info`` from the weights at ``path`` (eval mode)."""
    rebuild = f"rebuild it with `{REBUILD_COMMAND} --only {info['name']}`"
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DigitClassifierError(f"{path}: cannot read the weights ({err}); {rebuild}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != info["sha256"]:
        raise DigitClassifierError(
            f"{path}: corrupt (sha256 {digest[:12]}… does not match the recorded "
            f"{info['sha256'][:12]}… in {INFO_FILE}); reinstall gankit or {rebuild}"
        )
    model = DigitClassifier(**_architecture(info))
    try:
        model.load_state_dict(load_safetensors(data))
    except (SafetensorError, RuntimeError) as err:
        first = str(err).strip().splitlines()[0]
        raise DigitClassifierError(
            f"{path}: weights do not fit the recorded architecture ({first}); {rebuild}"
        ) from None
    return model.eval()


def _architecture(info: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments of :class:`DigitClassifier` from recorded metadata."""
    options = info["architecture"]
    return {
        "input_size": int(options["input_size"]),
        "widths": tuple(int(w) for w in options["widths"]),
        "feature_dim": int(options["feature_dim"]),
    }
