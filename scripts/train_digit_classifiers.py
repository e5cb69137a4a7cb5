"""Train the digit classifiers shipped in ``gankit/metrics/weights/``.

Usage::

    python scripts/train_digit_classifiers.py [--only mnist5k]

For each classifier (``mnist5k``, ``digits8x8``) the embedded images are split with
``gankit.data.splits.digit_split`` (a fixed number held out per class, fixed seed); the
network is trained on the rest on the CPU with Adam and random shifts, then scored on the
held-out images. The weights are written to ``<name>.safetensors`` and the held-out
accuracy, sha256 and settings to ``digit_classifiers.json`` (both written atomically).

Training is seeded and runs on one CPU thread, so a rerun with the same torch version gives
the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor

from gankit.data.splits import HELDOUT_PER_CLASS, SPLIT_SEED, stratified_split
from gankit.metrics.digits import (
    INFO_FILE,
    DigitClassifier,
    count_correct,
    digit_data,
    scale_images,
)

WEIGHTS = Path(__file__).resolve().parent.parent / "gankit" / "metrics" / "weights"
SPLIT_RULE = (
    "per class, hold out the heldout_per_class images whose sha256(f'{seed}:{index}') hex "
    "digests sort first (index into the source's images)"
)

SETTINGS: dict[str, dict[str, Any]] = {
    "mnist5k": {
        "architecture": {"input_size": 28, "widths": [16, 32, 64], "feature_dim": 128},
        "heldout_per_class": HELDOUT_PER_CLASS["mnist5k"],
        "split_seed": SPLIT_SEED,
        "training": {
            "seed": 0,
            "epochs": 20,
            "batch_size": 64,
            "learning_rate": 2e-3,
            "lr_schedule": "cosine to 0",
            "optimiser": "Adam (betas 0.9, 0.999)",
            "weight_decay": 0.0,
            "max_shift": 2,
            "threads": 1,
        },
    },
    "digits8x8": {
        "architecture": {"input_size": 8, "widths": [32, 64], "feature_dim": 128},
        "heldout_per_class": HELDOUT_PER_CLASS["digits8x8"],
        "split_seed": SPLIT_SEED,
        "training": {
            "seed": 0,
            "epochs": 40,
            "batch_size": 32,
            "learning_rate": 2e-3,
            "lr_schedule": "cosine to 0",
            "optimiser": "Adam (betas 0.9, 0.999)",
            "weight_decay": 0.0,
            "max_shift": 1,
            "threads": 1,
        },
    },
}


def random_shift(x: Tensor, max_shift: int, generator: torch.Generator) -> Tensor:
    """Translate each image (B, 1, H, W) by its own whole-pixel offset in
    [−max_shift, max_shift]², filling with the background value −1."""
    if max_shift == 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, b, 1), generator=generator)
    rows = (dy + torch.arange(h))[:, None, :, None]  # (B, 1, H, 1)
    cols = (dx + torch.arange(w))[:, None, None, :]  # (B, 1, 1, W)
    batch = torch.arange(b)[:, None, None, None]
    channel = torch.arange(c)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def train_one(name: str) -> dict[str, Any]:
    """Train classifier ``name``, write its weights and return its metadata."""
    settings = SETTINGS[name]
    train = settings["training"]
    torch.set_num_threads(train["threads"])
    images, labels = digit_data(name)
    train_index, heldout_index = stratified_split(
        labels, settings["heldout_per_class"], settings["split_seed"]
    )
    x_train, y_train = scale_images(images[train_index]), labels[train_index]
    print(f"{name}: {len(train_index)} training, {len(heldout_index)} held-out images")

    torch.manual_seed(train["seed"])
    generator = torch.Generator().manual_seed(train["seed"])
    model = DigitClassifier(**settings["architecture"])
    optimiser = torch.optim.Adam(
        model.parameters(), lr=train["learning_rate"], weight_decay=train["weight_decay"]
    )
    steps_per_epoch = -(-len(x_train) // train["batch_size"])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=train["epochs"] * steps_per_epoch
    )
    start = time.perf_counter()
    for epoch in range(train["epochs"]):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for i in range(0, len(order), train["batch_size"]):
            batch = order[i : i + train["batch_size"]]
            x = random_shift(x_train[batch], train["max_shift"], generator)
            loss = F.cross_entropy(model(x), y_train[batch])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(batch)
        correct = count_correct(model, images[heldout_index], labels[heldout_index])
        print(
            f"{name}: epoch {epoch + 1:>2}/{train['epochs']}  loss {total / len(x_train):.4f}  "
            f"held-out {correct / len(heldout_index):.4f}  ({time.perf_counter() - start:.0f} s)"
        )
    seconds = time.perf_counter() - start

    model.eval()
    correct = count_correct(model, images[heldout_index], labels[heldout_index])
    file = f"{name}.safetensors"
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    _write_atomic(WEIGHTS / file, lambda path: save_file(state, path))
    digest = hashlib.sha256((WEIGHTS / file).read_bytes()).hexdigest()
    return {
        "name": name,
        "file": file,
        "sha256": digest,
        "architecture": model.options(),
        "input_size": model.input_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "heldout_accuracy": correct / len(heldout_index),
        "heldout_correct": correct,
        "train_images": len(train_index),
        "heldout_images": len(heldout_index),
        "split": {
            "rule": SPLIT_RULE,
            "heldout_per_class": settings["heldout_per_class"],
            "seed": settings["split_seed"],
        },
        "torch_version": torch.__version__,
        "training": {**train, "seconds": round(seconds, 1)},
    }


def _write_atomic(path: Path, write) -> None:
    """Call ``write(tmp)`` for a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates the file readable by its owner only
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(SETTINGS), help="train just this classifier")
    args = parser.parse_args()
    names = [args.only] if args.only else list(SETTINGS)

    info_path = WEIGHTS / INFO_FILE
    info = json.loads(info_path.read_text("utf-8")) if info_path.exists() else {}
    info.setdefault("format_version", 1)
    classifiers = info.setdefault("classifiers", {})
    for name in names:
        classifiers[name] = train_one(name)
        text = json.dumps(info, indent=2, ensure_ascii=False) + "\n"
        _write_atomic(info_path, lambda path, text=text: Path(path).write_text(text, "utf-8"))
    for name in names:
        entry = classifiers[name]
        print(
            f"{name}: held-out accuracy {entry['heldout_accuracy']:.4f} "
            f"({entry['heldout_correct']}/{entry['heldout_images']}), "
            f"{entry['training']['seconds']:.0f} s, sha256 {entry['sha256']}"
        )


if __name__ == "__main__":
    main()
