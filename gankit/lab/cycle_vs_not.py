"""What the cycle loss buys: CycleGAN with and without cycle consistency (Zhu et al. 2017,
§5.1.4 and Table 4).

With unpaired domains A and B, the adversarial losses alone only ask that G(a) look like
some image of B and F(b) like some image of A: any mapping that carries the distribution of
A onto that of B wins the game, including one that turns a 3 into a well-drawn 8. CycleGAN
adds the cycle loss λ·(‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁), λ = 10: the translation must keep
enough of its input to be undone, which narrows the winners to mappings that keep what the
domains share (here, which digit it is) and change only their style.

Two arms of the ``cyclegan-digits`` preset (MNIST-5k ↔ scikit-learn's 8×8 digits in MNIST's
framing; small ResNet generators, PatchGANs, least-squares loss, history pools of 50) train
for the same number of steps from the same initial weights on the same batches:

* **CycleGAN**: cycle loss λ = 10 and the identity loss 0.5·λ, as in the paper;
* **GAN alone**: λ = 0, which removes the identity loss too (its weight is a fraction of λ).

Each is measured as ``gankit eval`` does, on the held-out images of both domains: label
preservation (the share of translations that the target domain's shipped classifier reads
as the input's digit; chance is 10 %), the cycle-reconstruction L1 (mean absolute pixel
difference in [−1, 1]) and the digits-FID of the translations against the real images of
the target domain. Without the cycle loss the way back is lost (a larger cycle error in
both domains); how many labels survive depends on the direction, since a ResNet generator
starts near the identity and the two domains are aligned, so the GAN alone keeps many digits
where the untranslated inputs are already read right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from torch import Tensor

from gankit.lab.ablation import draw_rows, draw_table, run_ablation
from gankit.lab.base import LabResult, experiment, finish
from gankit.viz import new_figure

NAME = "cycle-vs-not"
PRESET = "cyclegan-digits"
ARMS = {"CycleGAN": {}, "GAN alone": {"task.cycle_weight": 0.0}}
"""Each arm's overrides of the preset's loss weights (cycle λ = 10, identity 0.5·λ)."""
METRICS = ("labels", "cycle", "fid")
COLUMNS = (
    ("labels kept\nA→B ↑", "label_accuracy_ab", ".3f"),
    ("labels kept\nB→A ↑", "label_accuracy_ba", ".3f"),
    ("cycle L1\nA ↓", "cycle_a", ".3f"),
    ("cycle L1\nB ↓", "cycle_b", ".3f"),
    ("FID\nA→B ↓", "fid_ab", ".1f"),
    ("FID\nB→A ↓", "fid_ba", ".1f"),
)


@experiment(NAME, "CycleGAN with and without the cycle loss: labels and the way back")
def cycle_vs_not(
    *, out_dir: str | Path = "lab", seed: int = 0, progress: bool = True, steps: int = 2000
) -> LabResult:
    """Train ``cyclegan-digits`` with and without its cycle loss for ``steps`` steps each
    (learning rates decaying linearly to 0 over the second half) and measure both on the
    held-out digits of each domain."""
    ablation = run_ablation(
        NAME, PRESET, ARMS, METRICS, out_dir=out_dir, seed=seed, steps=steps, progress=progress
    )
    a, b = ablation.shown["a"], ablation.shown["b"]
    outputs = {
        name: {"AtoB": run.translate(a, "AtoB"), "BtoA": run.translate(b, "BtoA")}
        for name, run in ablation.runs.items()
    }
    numbers = ablation.numbers
    figure = _draw(numbers, ablation.shown, outputs)
    return finish(NAME, numbers, _report(numbers), figure, out_dir)


def _report(numbers: dict[str, Any]) -> list[str]:
    lines = [f"{numbers['steps']} steps per arm, held-out digits (A: MNIST-5k, B: 8×8 digits):"]
    for name, m in numbers["arms"].items():
        lines.append(
            f"{name:>9}: labels kept A→B {100 * m['label_accuracy_ab']:.1f} %, "
            f"B→A {100 * m['label_accuracy_ba']:.1f} %; cycle L1 A {m['cycle_a']:.3f}, "
            f"B {m['cycle_b']:.3f}; FID A→B {m['fid_ab']:.1f}, B→A {m['fid_ba']:.1f}"
        )
    return lines


def _draw(
    numbers: dict[str, Any], shown: dict[str, Tensor], outputs: dict[str, dict[str, Tensor]]
) -> Figure:
    figure = new_figure(8.0, 7.0)
    images, table = figure.subplots(2, 1, height_ratios=[3.2, 1])
    rows = {"MNIST": shown["a"]}
    rows.update({f"{name} A→B": out["AtoB"] for name, out in outputs.items()})
    rows["8×8"] = shown["b"]
    rows.update({f"{name} B→A": out["BtoA"] for name, out in outputs.items()})
    draw_rows(images, rows, f"CycleGAN on held-out digits, {numbers['steps']} steps per arm")
    draw_table(table, COLUMNS, numbers["arms"])
    return figure
