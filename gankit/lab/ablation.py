"""What the ablation experiments share: one preset trained in several arms that differ in a
few loss weights, at the same budget, each then measured by ``gankit eval``'s translation
metrics on the held-out images.

The arms run one after another on one torch thread, with the same seed, so they start from
the same initial weights and see the same data order; the runs are kept under
``<out_dir>/runs/<experiment>/<arm>`` for ``gankit sample``, ``eval`` and ``translate``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from torch import Tensor
from tqdm.auto import tqdm

from gankit.api import Run, train
from gankit.data import PairedImageSource, UnpairedImageSource, build_source
from gankit.evaluate import evaluate
from gankit.lab.base import LabError, fresh_run_dir, single_thread
from gankit.metrics.digits import scale_images
from gankit.train.callbacks import Callback
from gankit.train.trainer import Trainer
from gankit.viz import image_grid


class _StepBar(Callback):
    """Advances one progress bar shared by every arm by one per generator step."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def on_step_end(self, trainer: Trainer, step: int) -> None:
        self.bar.update(1)


def arm_overrides(
    arm: Mapping[str, Any], *, steps: int, seed: int, decay_from: float
) -> dict[str, Any]:
    """The preset overrides of one arm: its loss weights, ``steps`` generator steps with the
    learning rates decaying linearly to 0 from ``decay_from``·steps on, and samples and
    checkpoints at the end only."""
    return {
        **arm,
        "seed": seed,
        "device": "cpu",
        "train.steps": steps,
        "train.lr_decay": {"start": int(decay_from * steps)},
        "samples.every": 0,
        "checkpoint.every": 0,
        "log.tensorboard": False,
    }


def train_arms(
    experiment: str,
    preset: str,
    arms: Mapping[str, Mapping[str, Any]],
    *,
    out_dir: str | Path,
    seed: int,
    steps: int,
    progress: bool,
    decay_from: float = 0.5,
) -> dict[str, Run]:
    """Train ``preset`` once per arm (name → loss-weight overrides) for ``steps`` steps."""
    if steps < 2:
        raise LabError(f"{experiment}: needs steps ≥ 2, got {steps}")
    root = Path(out_dir) / "runs" / experiment
    runs = {}
    bar = tqdm(total=steps * len(arms), desc=experiment, unit="step", disable=not progress)
    with bar:
        for name, arm in arms.items():
            bar.set_postfix_str(name)
            runs[name] = train(
                preset,
                arm_overrides(arm, steps=steps, seed=seed, decay_from=decay_from),
                run_dir=fresh_run_dir(root / _slug(name), preset),
                callbacks=[_StepBar(bar)],
                progress=False,
            )
    return runs


@dataclass
class Ablation:
    """The arms' runs, their numbers (``seed``, ``steps``, ``arms``: arm → metric → value,
    ``seconds``) and the held-out images a figure shows (see :func:`heldout_images`)."""

    runs: dict[str, Run]
    numbers: dict[str, Any]
    shown: dict[str, Tensor]


def run_ablation(
    experiment: str,
    preset: str,
    arms: Mapping[str, Mapping[str, Any]],
    metrics: Sequence[str],
    *,
    out_dir: str | Path,
    seed: int,
    steps: int,
    progress: bool,
    shown: int = 10,
) -> Ablation:
    """Train every arm on one torch thread (:func:`train_arms`), measure it with
    ``gankit eval``'s translation ``metrics`` on the held-out images (one seed: one draw of
    pix2pix's dropout noise) and pick ``shown`` held-out images for the figure."""
    wall = time.perf_counter()
    with single_thread():
        runs = train_arms(
            experiment, preset, arms, out_dir=out_dir, seed=seed, steps=steps, progress=progress
        )
        measured = {
            name: {k: v["mean"] for k, v in evaluate(run, list(metrics))["metrics"].items()}
            for name, run in runs.items()
        }
    numbers = {
        "seed": seed,
        "steps": steps,
        "arms": measured,
        "seconds": time.perf_counter() - wall,
    }
    return Ablation(runs, numbers, heldout_images(next(iter(runs.values())), shown))


def heldout_images(run: Run, count: int) -> dict[str, Tensor]:
    """``count`` evenly spaced held-out images of the run's data in [−1, 1]: ``x`` and ``y``
    (inputs and targets) of a paired source, ``a`` and ``b`` of an unpaired one."""
    source = build_source(run.config.data.model_copy(update={"split": "heldout"}))
    if isinstance(source, PairedImageSource):
        x, y = source.pairs()
        index = _spread(len(x), count)
        return {"x": x[index], "y": y[index]}
    assert isinstance(source, UnpairedImageSource)
    a, b = source.domain_a.images, source.domain_b.images
    return {
        "a": scale_images(a[_spread(len(a), count)]),
        "b": scale_images(b[_spread(len(b), count)]),
    }


def _spread(total: int, count: int) -> Tensor:
    """``count`` indices spread evenly over ``range(total)``: every class of a set sorted by
    label shows."""
    return torch.linspace(0, total - 1, count).round().long()


def draw_rows(axes: Axes, rows: Mapping[str, Tensor], title: str) -> None:
    """One image row per entry of ``rows`` (label → images (N, C, H, W) in [−1, 1]), the
    labels on the left."""
    images = torch.cat(list(rows.values()))
    count = next(iter(rows.values())).shape[0]
    grid = image_grid(images, nrow=count)
    axes.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255)
    side = images.shape[-1] + 2
    axes.set_yticks(np.arange(len(rows)) * side + side / 2 + 1, list(rows))
    axes.set_xticks([])
    axes.set_title(title)


def draw_table(
    axes: Axes,
    columns: Sequence[tuple[str, str, str]],
    numbers: Mapping[str, Mapping[str, float]],
) -> None:
    """A table of one row per arm of ``numbers`` (arm → metric → value) and one column per
    (header, metric, format spec) of ``columns``, e.g. ``("SSIM", "ssim", ".3f")``."""
    cells = [[format(numbers[arm][key], spec) for _, key, spec in columns] for arm in numbers]
    axes.axis("off")
    table = axes.table(
        cellText=cells,
        rowLabels=list(numbers),
        colLabels=[header for header, _, _ in columns],
        loc="center",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 2.2)


def _slug(name: str) -> str:
    """A folder name for an arm: lower case, runs of other characters as one hyphen."""
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
