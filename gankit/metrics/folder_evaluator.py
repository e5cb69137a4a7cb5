"""A feature extractor for any image data, trained once on a run's own training images.

The shipped digit classifiers judge the embedded digits only, and the standard FID's
Inception-v3 sees ImageNet's classes, not those of a user's folder. So ``gankit eval
--extractor folder`` (the default for image runs no shipped classifier can judge) trains a
small network on the run's data, keeps a held-out split aside, and saves it into the run as
``RUN/evaluator/`` (``weights.safetensors`` and ``evaluator.json``: the held-out accuracy,
the sha256 of the weights and of the data, image shape, split and training settings). Later
evaluations load it, verify both hashes, and never train again.

Two kinds, chosen by the data:

* **classifier** (data with class labels, e.g. a folder with one sub-folder per class):
  a CNN trained with cross-entropy on the labels; its penultimate activations are the
  feature space (the same stand-in for Inception-v3 that the digit classifiers are, cf.
  Bińkowski et al. 2018) and its logits give the Inception score, class coverage and, for
  conditional runs, conditional accuracy. ``heldout_accuracy``: the share of held-out images
  classified correctly.
* **contrastive** (unlabelled data, or a single class): the same CNN trained as a SimCLR
  encoder (Chen et al. 2020): two augmented views of each image, a projection head, and the
  NT-Xent loss −log exp(sim(zᵢ, zⱼ)/τ) / Σₖ≠ᵢ exp(sim(zᵢ, zₖ)/τ) over the 2B views of a
  batch, cosine similarity, τ = 0.5. Self-supervised features rank generative models more
  faithfully than ImageNet-classifier features outside ImageNet's domain (Morozov, Voynov &
  Babenko 2021, "On self-supervised image representations for GAN evaluation"), and need no
  labels. The views are made with gankit's own augmentation ops (:mod:`gankit.augment.ops`:
  reflected translation by up to a quarter of the side, horizontal flip, brightness,
  saturation, contrast) plus SimCLR's point about colour: a random order of the RGB
  channels and, one time in five, grey, since an encoder that can tell images apart by their
  colour alone learns nothing of their shapes (on 400 coloured shapes of four kinds, the
  nearest training neighbour of every held-out image is of its shape after 60 steps with
  them; without them, 35 % after 200 steps). It has no class logits, so the Inception
  score and class metrics do not apply.
  ``heldout_accuracy``: top-1 retrieval of a held-out image's second view among the 2B − 1
  other views of its batch (held-out images in equal batches of B ≤ 256; chance
  1/(2B − 1)).

Split: within each class (the whole set when unlabelled), the 20 % of images with the
smallest sha256(f"{seed}:{index}") are held out — a rule that depends on no random number
generator. The held-out images are the real reference set of the evaluation, since the
extractor never trained on them (the generator did: a run trains on all its data).

Images wider than 64 pixels are first resized to at most 64 (bilinear, antialiased), as
recorded in ``evaluator.json``, so training stays within minutes on a CPU.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor, nn
from tqdm import tqdm

from gankit import __version__
from gankit.augment import ops
from gankit.data.base import TensorImageSource
from gankit.files import write_atomic
from gankit.metrics.registry import EvaluationError
from gankit.nets.modes import evaluating

EVALUATOR_DIR = "evaluator"
INFO_FILE = "evaluator.json"
WEIGHTS_FILE = "weights.safetensors"
FORMAT = 1

HELDOUT_FRACTION = 0.2
SPLIT_SEED = 0
MIN_HELDOUT = 10
"""Fewest held-out images: below this no Gaussian fit of features means anything."""
MAX_SIDE = 64
WIDTHS = (16, 32, 64, 128)
FEATURE_DIM = 128
PROJECTION_DIM = 64
TEMPERATURE = 0.5
BATCH = 128
"""Images per training step (the contrastive loss sees 2 × BATCH views)."""
EPOCHS = 10
MIN_STEPS = 300
MAX_STEPS = 3000
LEARNING_RATE = 2e-3
TRAIN_SEED = 0
EVAL_BATCH = 500
RETRIEVAL_BATCH = 256

Kind = Literal["classifier", "contrastive"]


class FolderNet(nn.Module):
    """A small CNN for ``channels``-channel images in [−1, 1]: stages of a 3×3 convolution,
    batch norm, ReLU and a 2×2 max-pool (one stage per halving down to about 4 pixels, at
    most four), global average pooling, a ReLU feature layer of ``feature_dim``, and either
    ``classes`` logits or (``classes`` = 0) a SimCLR projection head used only in training."""

    OPTIONS: ClassVar[tuple[str, ...]] = ("channels", "side", "classes", "feature_dim")

    def __init__(self, channels: int, side: int, classes: int, feature_dim: int = FEATURE_DIM):
        super().__init__()
        self.channels, self.side, self.classes = channels, side, classes
        stages = max(1, min(len(WIDTHS), int(math.log2(max(side, 8) // 4))))
        layers: list[nn.Module] = []
        width_in = channels
        for width in WIDTHS[:stages]:
            layers += [
                nn.Conv2d(width_in, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            width_in = width
        self.body = nn.Sequential(*layers)
        self.embed = nn.Linear(width_in, feature_dim)
        self.head: nn.Module
        if classes:
            self.head = nn.Linear(feature_dim, classes)
        else:
            self.head = nn.Sequential(
                nn.Linear(feature_dim, feature_dim),
                nn.ReLU(),
                nn.Linear(feature_dim, PROJECTION_DIM),
            )

    def options(self) -> dict[str, int]:
        """The constructor arguments, as recorded in ``evaluator.json``."""
        return {
            "channels": self.channels,
            "side": self.side,
            "classes": self.classes,
            "feature_dim": self.embed.out_features,
        }

    def features(self, x: Tensor) -> Tensor:
        """Penultimate activations (B, feature_dim): the space of FID, KID, precision/recall."""
        return torch.relu(self.embed(self.body(x).mean(dim=(2, 3))))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits (B, classes), or the projection (B, 64) of a contrastive encoder."""
        return self.head(self.features(x))


class FolderEvaluator:
    """A trained evaluator as a feature extractor (:class:`gankit.metrics.reference.
    FeatureExtractor`): features and class logits of images in [−1, 1]."""

    def __init__(self, network: FolderNet, info: dict[str, Any], path: Path) -> None:
        self.network = network.eval()
        self.info = info
        self.path = path

    @property
    def kind(self) -> Kind:
        return self.info["kind"]

    @property
    def classes(self) -> int:
        """Classes its logits are (0 for a contrastive encoder, which has no logits)."""
        return int(self.info["architecture"]["classes"])

    @torch.no_grad()
    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Features (N, 128) and class logits (N, classes; (N, 0) for a contrastive
        encoder) of images (N, C, H, W) in [−1, 1] of the shape it was trained on."""
        expected = tuple(self.info["image_shape"])
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise EvaluationError(
                f"{self.path}: the folder evaluator reads images of shape {expected}, got "
                f"{tuple(images.shape[1:])}"
            )
        features, logits = [], []
        with evaluating(self.network):
            for batch in images.float().split(EVAL_BATCH):
                pooled = self.network.features(_fit(batch, self.network.side))
                features.append(pooled)
                logits.append(self.network.head(pooled) if self.classes else pooled[:, :0])
        return torch.cat(features), torch.cat(logits)

    def heldout(self, source: TensorImageSource) -> tuple[Tensor, Tensor | None]:
        """The held-out uint8 images of ``source`` (and their labels) it never trained on."""
        _, heldout = split_indices(source.labels if self.classes else None, len(source))
        labels = None if source.labels is None else source.labels[heldout]
        return source.images[heldout], labels

    def provenance(self) -> dict[str, Any]:
        info = self.info
        model = (
            f"CNN classifier of {self.classes} classes (cross-entropy)"
            if self.kind == "classifier"
            else "SimCLR encoder (NT-Xent, τ = 0.5)"
        )
        return {
            "extractor": "folder",
            "extractor_model": model,
            "extractor_sha256": info["sha256"],
            "extractor_accuracy": info["heldout_accuracy"],
            "extractor_accuracy_means": info["accuracy_means"],
            "extractor_data_sha256": info["data"]["sha256"],
            "extractor_path": str(self.path),
            "feature_dim": info["architecture"]["feature_dim"],
            "resize": info["resize"],
        }


def evaluator_for(
    directory: str | os.PathLike, source: TensorImageSource, progress: bool = False
) -> FolderEvaluator:
    """The evaluator saved in ``directory`` for ``source``'s data, verified; trained on
    ``source`` and saved there first when there is none."""
    directory = Path(directory)
    if not directory.exists():
        network, info = train_evaluator(source, progress=progress, where=directory)
        save_evaluator(directory, network, info)
    return load_evaluator(directory, source)


def load_evaluator(directory: str | os.PathLike, source: TensorImageSource) -> FolderEvaluator:
    """The evaluator in ``directory``, refused in one line when its record is unreadable, its
    weights do not match their recorded sha256, or it was trained on other data."""
    directory = Path(directory)
    again = f"remove {directory} to train it again"
    info_path, weights_path = directory / INFO_FILE, directory / WEIGHTS_FILE
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        architecture = info["architecture"]
        recorded, kind = info["sha256"], info["kind"]
        data_sha256 = info["data"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        problem = f"no {err}" if isinstance(err, KeyError) else " ".join(str(err).split())
        raise EvaluationError(
            f"{info_path}: unreadable evaluator record ({problem}); {again}"
        ) from None
    if info.get("format") != FORMAT or kind not in ("classifier", "contrastive"):
        raise EvaluationError(
            f"{info_path}: format {info.get('format')!r}, kind {kind!r}; this gankit reads "
            f"format {FORMAT}; {again}"
        )
    current = data_sha256_of(source)
    if current != data_sha256:
        raise EvaluationError(
            f"{directory} was trained on other data (sha256 {data_sha256[:12]}…, the run's "
            f"data now {current[:12]}…); {again}"
        )
    try:
        data = weights_path.read_bytes()
    except OSError as err:
        raise EvaluationError(f"{weights_path}: cannot read ({err.strerror}); {again}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != recorded:
        raise EvaluationError(
            f"{weights_path}: corrupt (sha256 {digest[:12]}… does not match the recorded "
            f"{recorded[:12]}… in {INFO_FILE}); {again}"
        )
    try:
        network = FolderNet(**{k: int(architecture[k]) for k in FolderNet.OPTIONS})
        network.load_state_dict(load_safetensors(data))
    except (SafetensorError, RuntimeError, KeyError, TypeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise EvaluationError(
            f"{weights_path}: weights do not fit the recorded architecture ({first}); {again}"
        ) from None
    return FolderEvaluator(network, info, directory)


def save_evaluator(directory: Path, network: FolderNet, info: dict[str, Any]) -> None:
    """Write the weights and ``evaluator.json`` into a scratch folder beside ``directory``
    and rename it into place, so a reader (or a crash) never sees half an evaluator; when
    another process saved one first, theirs is kept."""
    data = save_safetensors({k: v.contiguous() for k, v in network.state_dict().items()})
    info = {**info, "sha256": hashlib.sha256(data).hexdigest()}
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        write_atomic(scratch / WEIGHTS_FILE, lambda handle: handle.write(data))
        text = json.dumps(info, indent=1) + "\n"
        write_atomic(scratch / INFO_FILE, lambda handle: handle.write(text.encode()))
        try:
            scratch.rename(directory)
        except OSError:
            if not (directory / INFO_FILE).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def data_sha256_of(source: TensorImageSource) -> str:
    """sha256 of the data an evaluator learns from: image shape, uint8 pixels, labels."""
    digest = hashlib.sha256(repr(tuple(source.images.shape)).encode())
    digest.update(source.images.cpu().contiguous().numpy().tobytes())
    if source.labels is not None:
        digest.update(b"labels")
        digest.update(source.labels.cpu().long().contiguous().numpy().tobytes())
    return digest.hexdigest()


def split_indices(
    labels: Tensor | None, count: int, fraction: float = HELDOUT_FRACTION, seed: int = SPLIT_SEED
) -> tuple[Tensor, Tensor]:
    """(train_index, heldout_index), both sorted: within each class (all ``count`` images
    when ``labels`` is None), the round(fraction · n) images — at least one, never all —
    with the smallest sha256(f"{seed}:{index}") are held out."""
    if labels is None:
        groups = [list(range(count))]
    else:
        labels = labels.cpu().long()
        groups = [torch.nonzero(labels == c).flatten().tolist() for c in labels.unique().tolist()]
    heldout: list[int] = []
    for members in groups:
        keep = min(len(members) - 1, max(1, round(fraction * len(members))))
        heldout += sorted(members, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).digest())[
            :keep
        ]
    is_heldout = torch.zeros(count, dtype=torch.bool)
    is_heldout[heldout] = True
    return torch.nonzero(~is_heldout).flatten(), torch.nonzero(is_heldout).flatten()


def train_evaluator(
    source: TensorImageSource,
    *,
    progress: bool = False,
    where: Path | None = None,
    steps: int | None = None,
    seed: int = TRAIN_SEED,
) -> tuple[FolderNet, dict[str, Any]]:
    """Train an evaluator on ``source``'s training split and score it on its held-out split
    → (network in eval mode, its record without the weights' sha256). A classifier when the
    data have two or more classes, else a contrastive encoder. ``steps`` defaults to
    10 epochs, within 300 … 3000. The caller's random state is left untouched."""
    images, labels = source.images.cpu(), source.labels
    classes = source.classes if labels is not None else 0
    kind: Kind = "classifier" if classes >= 2 else "contrastive"
    labels = labels.cpu() if kind == "classifier" and labels is not None else None
    train, heldout = split_indices(labels, len(images))
    if len(heldout) < MIN_HELDOUT:
        raise EvaluationError(
            f"{source.name}: {len(images)} images are too few for a folder evaluator "
            f"(it holds out {HELDOUT_FRACTION:.0%} and needs ≥ {MIN_HELDOUT} held-out images)"
        )
    shape = tuple(images.shape[1:])
    channels, side = shape[0], max(shape[1:])
    fitted_side = min(side, MAX_SIDE)
    steps = steps or min(MAX_STEPS, max(MIN_STEPS, EPOCHS * math.ceil(len(train) / BATCH)))
    started = time.monotonic()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = FolderNet(channels, fitted_side, classes if kind == "classifier" else 0)
        optimiser = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, LEARNING_RATE, total_steps=steps, pct_start=0.15
        )
        desc = f"training the folder evaluator ({kind}) once" + (f", into {where}" if where else "")
        generator = torch.Generator().manual_seed(seed)
        network.train()
        for _ in tqdm(range(steps), desc=desc, unit="step", disable=not progress):
            index = train[torch.randint(len(train), (BATCH,), generator=generator)]
            x = _fit(images[index].float() / 127.5 - 1, fitted_side)
            if labels is not None:
                loss = F.cross_entropy(network(_shift(x, generator, 8)), labels[index])
            else:
                views = torch.cat([_views(x, generator), _views(x, generator)])
                loss = nt_xent(network(views), TEMPERATURE)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
        network.eval()
        heldout_images = images[heldout].float() / 127.5 - 1
        if labels is not None:
            accuracy = _accuracy(network, heldout_images, labels[heldout])
            means = "share of held-out images classified correctly"
        else:
            accuracy = _retrieval(network, heldout_images, torch.Generator().manual_seed(seed))
            means = (
                "top-1 retrieval of a held-out image's second view among the 2B − 1 other "
                f"views of its batch (B ≤ {RETRIEVAL_BATCH}, equal batches of the "
                f"{len(heldout)} held-out images)"
            )
    info = {
        "format": FORMAT,
        "kind": kind,
        "architecture": network.options(),
        "image_shape": list(shape),
        "resize": "none"
        if fitted_side == side
        else f"bilinear, antialiased, longer side to {fitted_side}",
        "class_names": source.class_names if kind == "classifier" else None,
        "data": {"source": source.name, "count": len(images), "sha256": data_sha256_of(source)},
        "split": {
            "rule": "per class, the round(fraction·n) images with the smallest "
            'sha256(f"{seed}:{index}") are held out',
            "fraction": HELDOUT_FRACTION,
            "seed": SPLIT_SEED,
            "train": len(train),
            "heldout": len(heldout),
        },
        "heldout_accuracy": accuracy,
        "accuracy_means": means,
        "training": {
            "steps": steps,
            "batch_size": BATCH,
            "optimiser": f"Adam, one-cycle learning rate up to {LEARNING_RATE}",
            "augment": "reflected shift ≤ side/8"
            if kind == "classifier"
            else "reflected shift ≤ side/4, flip, RGB order, brightness, saturation (grey "
            "p = 0.2), contrast",
            "seed": seed,
            "seconds": round(time.monotonic() - started, 1),
        },
        "weights": WEIGHTS_FILE,
        "gankit_version": __version__,
        "torch_version": torch.__version__,
    }
    return network, info


def nt_xent(z: Tensor, temperature: float) -> Tensor:
    """SimCLR's NT-Xent loss of 2B projections ``z`` whose rows i and i + B are two views
    of one image: the mean over all views of −log softmax of the positive's cosine
    similarity / τ among the 2B − 1 other views (Chen et al. 2020, eq. 1)."""
    z = F.normalize(z, dim=1)
    similarity = z @ z.T / temperature  # (2B, 2B)
    similarity.fill_diagonal_(float("-inf"))
    half = len(z) // 2
    positives = torch.cat([torch.arange(half, len(z)), torch.arange(half)])
    return F.cross_entropy(similarity, positives)


def _fit(x: Tensor, longest: int) -> Tensor:
    """Images whose longer side exceeds ``longest``, resized down to it (bilinear,
    antialiased)."""
    side = max(x.shape[-2:])
    if side <= longest:
        return x
    size = [round(s * longest / side) for s in x.shape[-2:]]
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)


def _uniform(b: int, low: float, high: float, generator: torch.Generator) -> Tensor:
    return low + (high - low) * torch.rand(b, generator=generator)


def _shift(x: Tensor, generator: torch.Generator, fraction_of: int) -> Tensor:
    """Each image moved by up to side/``fraction_of`` pixels each way, reflected at the border."""
    most = max(1, x.shape[-1] // fraction_of)
    shifts = torch.randint(-most, most + 1, (2, len(x)), generator=generator)
    return ops.translate(x, shifts[0], shifts[1], padding="reflect")


def _views(x: Tensor, generator: torch.Generator) -> Tensor:
    """One SimCLR view of each image: shift, flip, channel order, brightness, saturation
    (grey one time in five), contrast."""
    b = len(x)
    x = _shift(x, generator, 4)
    x = ops.flip_x(x, torch.rand(b, generator=generator) < 0.5)
    if x.shape[1] == 3:
        orders = torch.tensor([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
        order = orders[torch.randint(6, (b,), generator=generator)]  # (B, 3)
        x = x.gather(1, order[:, :, None, None].expand_as(x))
    x = ops.add_brightness(x, _uniform(b, -0.4, 0.4, generator))
    grey = torch.rand(b, generator=generator) < 0.2
    x = ops.scale_saturation(x, _uniform(b, 0.0, 2.0, generator) * ~grey)
    return ops.scale_contrast(x, _uniform(b, 0.5, 1.5, generator))


@torch.no_grad()
def _accuracy(network: FolderNet, images: Tensor, labels: Tensor) -> float:
    batches = images.split(EVAL_BATCH)
    predicted = torch.cat([network(_fit(b, network.side)).argmax(dim=1) for b in batches])
    return float((predicted == labels).double().mean())


@torch.no_grad()
def _retrieval(network: FolderNet, images: Tensor, generator: torch.Generator) -> float:
    hits = 0
    for batch in images.tensor_split(math.ceil(len(images) / RETRIEVAL_BATCH)):
        x = _fit(batch, network.side)
        z = F.normalize(network(torch.cat([_views(x, generator), _views(x, generator)])), dim=1)
        similarity = z @ z.T
        similarity.fill_diagonal_(float("-inf"))
        half = len(batch)
        partner = torch.cat([torch.arange(half, 2 * half), torch.arange(half)])
        hits += int((similarity.argmax(dim=1) == partner).sum())
    return hits / (2 * len(images))
