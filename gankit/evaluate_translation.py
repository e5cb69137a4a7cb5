"""Evaluate a pix2pix or CycleGAN run on held-out images (``gankit eval`` on such a run).

The inputs are the held-out split of the run's data (``split: heldout``) where its source
has one, else the run's own data. Metrics (names as ``--metrics`` takes them; their values
and which way each is better are registered in :mod:`gankit.metrics.registry`):

pix2pix (task: paired), against the held-out targets:
    l1, psnr, ssim       pixel agreement with the target (scikit-image's SSIM)
    sharpness            variance of the Laplacian of the outputs (targets' as reference)
    diversity            mean L1 between outputs of one input under different dropout noise
    fid, labels          FID of the outputs against the held-out targets in the shipped
                         digit classifier's features, and the share the classifier reads as
                         the input's digit (edges2digits)
CycleGAN (task: unpaired), both directions:
    cycle                ‖F(G(a)) − a‖₁ and ‖G(F(b)) − b‖₁
    fid, labels          as above, per direction against the other domain's held-out
                         images, for the digit tasks (mnist2digits8x8):
                         A→B outputs are judged by the 8×8 classifier (on their central
                         20/28, where the digit sits), B→A by the MNIST one; with labels
                         also the baseline of no translation, the same classifier reading
                         the inputs themselves (label_accuracy_ab_unchanged, …_ba_unchanged)

On any other data (a user's folders) no classifier judges the outputs: without named
metrics the pixel metrics (pix2pix) or the cycle error (CycleGAN) are computed, and fid and
labels are reported as skipped, with why.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.api import Run
from gankit.data import PairedImageSource, UnpairedImageSource, build_source
from gankit.data.translation import MNIST_BOX
from gankit.metrics.digits import classifier_info, scale_images
from gankit.metrics.reference import DigitExtractor, FeatureReference
from gankit.metrics.registry import NEEDS, TRANSLATION_METRICS, EvaluationError, metrics_for
from gankit.metrics.translation import diversity, l1_distance, psnr, sharpness, ssim

DIGIT_JUDGES = {
    "edges2digits": {"AtoB": "mnist5k"},
    "mnist2digits8x8": {"AtoB": "digits8x8", "BtoA": "mnist5k"},
}
"""The shipped classifier that judges each direction's outputs of the built-in tasks."""
JUDGE_BOX = {"digits8x8": MNIST_BOX}
"""The central share of the frame a classifier reads: the 8×8 classifier sees digits that
fill their frame, so MNIST-framed outputs are cropped to their digit box first."""
DRAWS = 4
"""Outputs per input for the diversity metric."""
DIVERSITY_INPUTS = 200


def evaluate_translation(
    run: Run, metrics: Iterable[str] | None, samples: int | None, seeds: Sequence[int]
) -> tuple[dict[str, list[float]], dict[str, Any], dict[str, str]]:
    """Per-seed values of ``metrics`` for translation run ``run``, their provenance, and the
    metrics left out, with why: without named ``metrics``, every metric of the task that
    applies (the digit-judged ones on the digit tasks only); named ones that do not apply
    are refused."""
    task = run.config.task.name
    offered = TRANSLATION_METRICS[task]
    chosen = list(dict.fromkeys(metrics if metrics is not None else offered))
    unknown = [m for m in chosen if m not in offered]
    if unknown or not chosen:
        raise EvaluationError(
            f"unknown metric(s) {', '.join(unknown) or '(none given)'} for task={task}; "
            f"choose from {', '.join(offered)}"
        )
    judges = DIGIT_JUDGES.get(run.config.data.name, {})
    metric_of = metrics_for(task)
    judged = [m for m in chosen if "digit_judge" in metric_of[m].needs]
    skipped: dict[str, str] = {}
    if judged and not judges and metrics is None:
        skipped = {m: f"it needs {NEEDS['digit_judge']}" for m in judged}
        chosen = [m for m in chosen if m not in skipped]
        judged = []
    if judged and not judges:
        raise EvaluationError(
            f"{', '.join(judged)} need a digit task (edges2digits, mnist2digits8x8); "
            f"data.name={run.config.data.name} has pixel metrics only"
        )
    source, split = _heldout(run)
    references = {
        direction: _target_reference(name, _targets(source, direction))
        for direction, name in judges.items()
    }
    per_seed: dict[str, list[float]] = {}
    for seed in seeds:
        if isinstance(source, PairedImageSource):
            values = _paired(run, source, chosen, references, samples, seed)
        else:
            assert isinstance(source, UnpairedImageSource)
            values = _unpaired(run, source, chosen, references, samples, seed)
        for key, value in values.items():
            per_seed.setdefault(key, []).append(value)
    provenance = {
        "inputs": {"source": run.config.data.name, "split": split},
        "extractor": {
            direction: {
                "name": f"gankit digit classifier '{name}'",
                "sha256": classifier_info(name)["sha256"],
            }
            for direction, name in judges.items()
        }
        if judged
        else None,
        "ssim": "scikit-image structural_similarity, 7×7 window, data range 1",
        "draws_per_input": DRAWS if "diversity" in chosen else None,
    }
    return per_seed, provenance, skipped


def summarise(per_seed: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """mean, std and the per-seed values of every metric."""
    return {
        key: {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values,
        }
        for key, values in per_seed.items()
    }


def _targets(source: Any, direction: str) -> Tensor:
    """The real images of the domain ``direction`` translates into, in [−1, 1]."""
    if isinstance(source, PairedImageSource):
        return source.pairs()[1]
    domain = source.domain_b if direction == "AtoB" else source.domain_a
    return scale_images(domain.images)


def _target_reference(name: str, targets: Tensor) -> FeatureReference:
    """Classifier ``name`` with the real target-domain images, seen as it sees the outputs,
    as reference: FID then compares outputs with real images through the same view."""
    extractor = DigitExtractor(name)
    return FeatureReference(extractor, _view(targets, extractor.info), {"source": name})


def _heldout(run: Run) -> tuple[Any, str]:
    """The held-out split of the run's data (the digit sets' heldout, a folder's test
    images) at the run's size, or its own data when the source has none."""
    data = run.config.data
    split = data.heldout_split()
    if split is not None:
        seen = data.split != "train"
        note = f" (also trained on: the run used split={data.split})" if seen else ""
        heldout = data.at_shape(run.data_info.get("shape")).model_copy(update={"split": split})
        return build_source(heldout), f"{split}{note}"
    return run.source, "the run's training data (the source has no held-out split)"


def _paired(
    run: Run,
    source: PairedImageSource,
    metrics: list[str],
    references: dict[str, FeatureReference],
    samples: int | None,
    seed: int,
) -> dict[str, float]:
    x, y = source.pairs()
    chosen = _subset(len(x), samples)
    x, y = x[chosen], y[chosen]
    output = _translate(run, x, "AtoB", seed)
    values: dict[str, float] = {}
    if "l1" in metrics:
        values["l1"] = l1_distance(output, y)
    if "psnr" in metrics:
        values["psnr"] = psnr(output, y)
    if "ssim" in metrics:
        values["ssim"] = ssim(output, y)
    if "sharpness" in metrics:
        values["sharpness"] = sharpness(output)
        values["target_sharpness"] = sharpness(y)
    if "diversity" in metrics:
        few = x[:DIVERSITY_INPUTS]
        draws = torch.stack(
            [_translate(run, few, "AtoB", seed * DRAWS + k + 1) for k in range(DRAWS)]
        )
        values["diversity"] = diversity(draws)
    labels = None if source.labels is None else source.labels[chosen.to(source.labels.device)]
    values.update(_judged(references.get("AtoB"), output, labels, metrics, ""))
    return values


def _unpaired(
    run: Run,
    source: UnpairedImageSource,
    metrics: list[str],
    references: dict[str, FeatureReference],
    samples: int | None,
    seed: int,
) -> dict[str, float]:
    chosen_a = _subset(len(source.domain_a), samples)
    chosen_b = _subset(len(source.domain_b), samples)
    a = scale_images(source.domain_a.images[chosen_a])
    b = scale_images(source.domain_b.images[chosen_b])
    fake_b, fake_a = _translate(run, a, "AtoB", seed), _translate(run, b, "BtoA", seed)
    values: dict[str, float] = {}
    if "cycle" in metrics:
        values["cycle_a"] = l1_distance(_translate(run, fake_b, "BtoA", seed), a)
        values["cycle_b"] = l1_distance(_translate(run, fake_a, "AtoB", seed), b)
    directions = (
        ("AtoB", a, fake_b, source.domain_a, chosen_a),
        ("BtoA", b, fake_a, source.domain_b, chosen_b),
    )
    for direction, inputs, output, domain, chosen in directions:
        labels = None if domain.labels is None else domain.labels[chosen]
        suffix = "_ab" if direction == "AtoB" else "_ba"
        reference = references.get(direction)
        values.update(_judged(reference, output, labels, metrics, suffix))
        if "labels" in metrics and reference is not None:
            # the baseline of translating nothing: the target domain's classifier reads the
            # inputs as they are
            unchanged = _judged(reference, inputs, labels, ["labels"], suffix)
            values[f"label_accuracy{suffix}_unchanged"] = unchanged[f"label_accuracy{suffix}"]
    return values


def _judged(
    reference: FeatureReference | None,
    output: Tensor,
    labels: Tensor | None,
    metrics: list[str],
    suffix: str,
) -> dict[str, float]:
    """FID and label preservation of ``output`` by the classifier of ``reference``."""
    if reference is None or not {"fid", "labels"} & set(metrics):
        return {}
    resized = _view(output, reference.extractor.info)  # type: ignore[attr-defined]
    values: dict[str, float] = {}
    if "fid" in metrics:
        values[f"fid{suffix}"] = reference.measure(resized, ["fid"])["fid"]
    if "labels" in metrics:
        if labels is None:
            raise EvaluationError("label preservation needs the inputs' labels")
        read = reference.extractor.features_and_logits(resized)[1].argmax(dim=1).cpu()
        values[f"label_accuracy{suffix}"] = float((read == labels.cpu()).double().mean())
    return values


def _subset(count: int, samples: int | None) -> Tensor:
    """Indices of ``samples`` of ``count`` inputs (all when None), drawn once from a fixed
    seed so that every class of a sorted data set is represented."""
    if samples is None or samples >= count:
        return torch.arange(count)
    return torch.randperm(count, generator=torch.Generator().manual_seed(0))[:samples]


def _translate(run: Run, images: Tensor, direction: str, seed: int) -> Tensor:
    """``run.translate`` in batches of 500, each with its own noise seed."""
    chunks = images.split(500)
    return torch.cat([run.translate(c, direction, seed * 1009 + i) for i, c in enumerate(chunks)])


def _view(images: Tensor, info: dict[str, Any]) -> Tensor:
    """Images as the classifier described by ``info`` reads them: the central box where
    its digits sit (:data:`JUDGE_BOX`), resized to its input size (bicubic, antialiased)."""
    side = images.shape[-1]
    box = round(side * JUDGE_BOX.get(info["name"], 1.0))
    start = (side - box) // 2
    images = images[..., start : start + box, start : start + box]
    size = info["input_size"]
    if box == size:
        return images
    resized = F.interpolate(images, size=(size, size), mode="bicubic", antialias=True)
    return resized.clamp(-1, 1)
