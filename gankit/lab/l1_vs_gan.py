"""L1 alone is blurry: pix2pix's loss ablation (Isola et al. 2017, §4.2 and Table 1).

pix2pix's generator loss is L_cGAN(G, D) + λ·L1(G) with λ = 100. Its two parts do different
jobs. The L1 distance to the one target of each input is least for the per-pixel median of
the plausible targets, so where the input leaves the output uncertain (the thickness and
exact course of a stroke, given its edges) L1 alone averages the possibilities into grey
blur. The conditional adversarial loss asks instead for an output that D cannot tell from a
real (input, target) pair, which rewards sharp, digit-like strokes, but it alone is free to
draw any plausible digit, not the one the edges show, and its training is less stable.

Three arms of the ``pix2pix-edges2digits`` preset (U-Net G, PatchGAN D on the
(edges, digit) pair, Adam(2·10⁻⁴, β = (0.5, 0.999))) train for the same number of steps
from the same initial weights on the same batches:

* **L1**: adversarial weight 0 (D still trains, G ignores it), λ = 100;
* **cGAN**: λ = 0;
* **L1 + cGAN**: both, as in the paper.

Each is then translated from the held-out edge maps (one draw of the dropout noise) and
measured as ``gankit eval`` does: L1, PSNR and SSIM against the held-out digits; the
digits-FID of the outputs against them (a Fréchet distance in the shipped MNIST classifier's
features, lower is better); sharpness, the variance of the outputs' Laplacian (the real
digits' value beside it); and the share of outputs that the classifier reads as the digit
the edges came from. In the paper (facades, Cityscapes), L1 alone is blurry, the cGAN
alone is sharp but drifts from its input, and both together are sharp and faithful. On
edges→digits L1 alone is blurry too (the least sharpness, the worst FID), but the edges pin
the digit down so tightly that the cGAN alone stays as faithful as the other arms: the
pixel scores and the share of digits read right differ little between the three.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from torch import Tensor

from gankit.lab.ablation import draw_rows, draw_table, run_ablation
from gankit.lab.base import LabResult, experiment, finish
from gankit.viz import new_figure

NAME = "l1-vs-gan"
PRESET = "pix2pix-edges2digits"
ARMS = {
    "L1": {"task.adversarial_weight": 0.0},
    "cGAN": {"task.l1_weight": 0.0},
    "L1 + cGAN": {},
}
"""Each arm's overrides of the preset's loss weights (adversarial 1, λ = 100)."""
METRICS = ("l1", "psnr", "ssim", "sharpness", "fid", "labels")
COLUMNS = (
    ("L1 ↓", "l1", ".3f"),
    ("PSNR\ndB ↑", "psnr", ".2f"),
    ("SSIM ↑", "ssim", ".3f"),
    ("FID ↓", "fid", ".1f"),
    ("sharpness", "sharpness", ".3f"),
    ("digit\nread ↑", "label_accuracy", ".3f"),
)


@experiment(NAME, "pix2pix with L1 only, cGAN only and both: L1 alone is blurry")
def l1_vs_gan(
    *, out_dir: str | Path = "lab", seed: int = 0, progress: bool = True, steps: int = 1000
) -> LabResult:
    """Train the three loss arms of ``pix2pix-edges2digits`` for ``steps`` steps each
    (learning rates decaying linearly to 0 over the second half) and measure each on the
    held-out edge maps."""
    ablation = run_ablation(
        NAME, PRESET, ARMS, METRICS, out_dir=out_dir, seed=seed, steps=steps, progress=progress
    )
    shown = ablation.shown
    outputs = {name: run.translate(shown["x"], seed=seed) for name, run in ablation.runs.items()}
    numbers = {
        **ablation.numbers,
        "target_sharpness": ablation.numbers["arms"]["L1 + cGAN"]["target_sharpness"],
    }
    return finish(NAME, numbers, _report(numbers), _draw(numbers, shown, outputs), out_dir)


def _report(numbers: dict[str, Any]) -> list[str]:
    lines = [f"{numbers['steps']} steps per arm, held-out edge maps of MNIST-5k:"]
    for name, m in numbers["arms"].items():
        lines.append(
            f"{name:>9}: L1 {m['l1']:.3f}, PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.3f}, "
            f"FID {m['fid']:.1f}, sharpness {m['sharpness']:.3f}, "
            f"digit read {100 * m['label_accuracy']:.1f} %"
        )
    lines.append(f"real digits' sharpness {numbers['target_sharpness']:.3f}")
    return lines


def _draw(numbers: dict[str, Any], shown: dict[str, Tensor], outputs: dict[str, Tensor]) -> Figure:
    figure = new_figure(8.0, 6.0)
    images, table = figure.subplots(2, 1, height_ratios=[2.6, 1])
    rows = {"edges": shown["x"], **outputs, "target": shown["y"]}
    draw_rows(images, rows, f"pix2pix on held-out edges, {numbers['steps']} steps per arm")
    draw_table(table, COLUMNS, numbers["arms"])
    return figure
