"""The failure modes: one rule each, a pure function of the records logged so far.

Every rule reads a :class:`History` (the training and evaluation records of metrics.jsonl,
in order) and returns a :class:`~gankit.diagnose.verdict.Verdict` when its mode shows at
the latest record, else None. "Sustained" means over the last :data:`WINDOW` training
records (each already an average over ``log.every`` steps); "early" values are the median
of the first :data:`EARLY` records. Thresholds are the named constants below.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gankit.diagnose.bands import off_reference
from gankit.diagnose.verdict import Verdict
from gankit.metrics.registry import direction

WINDOW = 5
"""Training records in a row that a condition must hold for to be "sustained"."""
EARLY = 5
"""The first training records whose median is a statistic's "early" value."""

EXPLOSION_FACTOR = 1e3
"""A loss this many times its early magnitude (at least 1) has exploded."""
D_ACC_HIGH = 0.95
"""D's accuracy at or above which it tells real from generated almost always."""
D_FAKE_LOW = 0.05
"""Mean D(G(z)) at or below which D rejects nearly every generated sample. Not 0.1: healthy
DCGAN runs with the non-saturating loss spend their first few hundred steps with D(G(z))
at 0.045–0.09 and a large gradient for G (cgan-mnist, steps 100–300: G's gradient norm
12–16), then recover; the minimax loss's saturated D(G(z)) is 0.001–0.02 (gan)."""
G_GRAD_VANISHED = 0.1
"""G's gradient norm below this fraction of its early value has vanished."""
W_BOUND = 1e3
"""A W1 estimate no 1-Lipschitz critic reaches on the data gankit trains on: W1(P, Q) ≤
E‖x − G(z)‖ ≤ 2√d for data in [-1, 1]^d, under 1,000 for d up to 250,000 (256×256 RGB)."""
GP_LARGE = 10.0
"""A weighted gradient penalty λ·E[(‖∇D‖ − 1)²] above this (with λ = 10: a mean squared
distance of the critic's gradient norm from 1 above 1) says the critic is not near 1-Lipschitz.
Not 1: the paper's own settings (the wgan-gp preset, seeds 0–2) start at 4.8–7.8 over the
first 100 steps and fall steadily, to 2.6–3.4 by step 350."""
RT_HIGH = 0.8
"""ADA's r_t = E[sign(D(x_real))] at or above which D is sure of (nearly) every real
image it has seen: over-fitting (the paper's target is 0.6)."""
HELDOUT_GAP = 0.3
"""D's accuracy on real images it trains on minus its accuracy on held-out real images
(``d_acc_real_train − d_acc_real_heldout``) at or above which it has memorised its training
set: its outputs on unseen reals drift toward those on generated images (Karras et al. 2020,
§2 and Fig. 1b). More than three standard errors of the difference of two accuracies on
fixed batches of 64 images or more (√(2 · 0.25 / 64) < 0.09)."""
STALL_EVALS = 5
"""Evaluations without improvement after which progress has stalled."""
STALL_TOLERANCE = 0.01
"""The relative change of an eval metric that counts as an improvement."""
DIVERSITY_DROP = 0.2
"""Sample diversity below this fraction of its peak, twice in a row, is mode collapse. Not
0.3: a healthy generator may overshoot early and settle much narrower — fgan-reverse-kl's
Gaussian, mode-seeking by design, peaked at 1.23 (step 500, seed 2) and settled at 0.29–0.40
on one bump, as seeds 0 and 1 did without the overshoot."""
COVERAGE_DROP = 0.5
"""Recall or coverage below this fraction of its best is mode dropping."""
CLASSES_DROP = 0.8
"""Classes covered below this fraction of the best count is mode dropping."""
OSCILLATION_WINDOW = 20
"""Training records over which a loss cycling is judged."""
OSCILLATION_CROSSINGS = 6
"""Crossings of the window's mean (three full cycles) that make a loss oscillate."""
OSCILLATION_AMPLITUDE = 0.5
"""Peak-to-peak swing, as a fraction of the mean magnitude, that an oscillation needs."""

PROGRESS_METRICS = ("fid", "kid", "cfid", "precision", "recall", "coverage", "classes_covered")
"""Eval metrics that say whether samples improve, the first present being the one used."""


@dataclass
class History:
    """What the rules see: the training and evaluation records so far (in order), the
    run's objective name, and its checkpoints as ``(step, name)``, oldest first. ``band``
    is the reference band the run is compared with
    (:func:`gankit.diagnose.bands.band_for_config`), None when there is none."""

    train: list[dict[str, Any]] = field(default_factory=list)
    evals: list[dict[str, Any]] = field(default_factory=list)
    objective: str | None = None
    checkpoints: list[tuple[int, str]] = field(default_factory=list)
    band: dict[str, Any] | None = None

    @property
    def step(self) -> int:
        """The step of the latest record."""
        latest = [r["step"] for r in (self.train[-1:] + self.evals[-1:])]
        return max(latest, default=0)

    def series(self, key: str, last: int | None = None) -> list[float]:
        """The finite values of ``key`` in the (last ``last``) training records."""
        records = self.train if last is None else self.train[-last:]
        return [v for r in records if _finite(v := r.get(key))]

    def window(self, key: str) -> list[float] | None:
        """``key`` in each of the last :data:`WINDOW` records, None unless all have it."""
        values = self.series(key, WINDOW)
        return values if len(self.train) >= WINDOW and len(values) == WINDOW else None

    def early(self, key: str) -> float | None:
        """The median of ``key`` over the first :data:`EARLY` records that have it."""
        values = self.series(key)[:EARLY]
        return statistics.median(values) if values else None


Rule = Callable[[History], Verdict | None]


def divergence(history: History) -> Verdict | None:
    """NaN/inf in the latest training record, or a loss above :data:`EXPLOSION_FACTOR`
    times its early magnitude (at least 1): the optimisation has left any stable regime
    (learning rates too large for the objective). Failed; the remedy names the last
    checkpoint written before the step, the one to go back to."""
    if not history.train:
        return None
    latest = history.train[-1]
    broken = list(latest.get("nonfinite") or []) or [
        k for k, v in latest.items() if isinstance(v, float) and not math.isfinite(v)
    ]
    if broken:
        evidence = f"{', '.join(broken)} non-finite (NaN/inf) at step {latest['step']}"
    else:
        exploded = [
            f"{key} {latest[key]:.3g} (early {early:.3g})"
            for key in ("d_loss", "g_loss")
            if (early := history.early(key)) is not None
            and _finite(latest.get(key))
            and abs(latest[key]) > EXPLOSION_FACTOR * max(abs(early), 1.0)
        ]
        if not exploded:
            return None
        evidence = f"loss explosion at step {latest['step']}: {', '.join(exploded)}"
    before = [(s, name) for s, name in history.checkpoints if s < latest["step"]]
    back = (
        f"go back to {before[-1][1]} (step {before[-1][0]}), the last checkpoint before it"
        if before
        else "no checkpoint was written before it: start again"
    )
    remedy = f"lower the learning rates or change the objective; {back}"
    return Verdict("divergence", "failed", latest["step"], evidence, remedy)


def d_overpowers_g(history: History) -> Verdict | None:
    """D's accuracy ≥ :data:`D_ACC_HIGH` and D(G(z)) ≤ :data:`D_FAKE_LOW`, sustained: D
    wins outright, and G's loss saturates — log(1 − D(G(z))) is flat near D(G(z)) = 0, so
    the minimax G gets no gradient (Goodfellow et al. 2014, §3; Arjovsky & Bottou 2017,
    Theorem 2.4). A warning; failed when G's gradient norm has also fallen below
    :data:`G_GRAD_VANISHED` times its early value (the gradient has vanished)."""
    accuracy, fake = history.window("d_acc"), history.window("d_fake")
    if accuracy is None or fake is None:
        return None
    if min(accuracy) < D_ACC_HIGH or max(fake) > D_FAKE_LOW:
        return None
    evidence = (
        f"D accuracy ≥ {D_ACC_HIGH} and D(G(z)) ≤ {D_FAKE_LOW} over the last {WINDOW} "
        f"records (d_acc {statistics.mean(accuracy):.3f}, d_fake {statistics.mean(fake):.3f})"
    )
    severity = "warning"
    grads, early = history.window("g_grad_norm"), history.early("g_grad_norm")
    if grads is not None and early:
        evidence += f"; g_grad_norm {statistics.mean(grads):.3g} (early {early:.3g})"
        if statistics.mean(grads) < G_GRAD_VANISHED * early:
            severity = "failed"
    remedy = (
        "use the non-saturating loss (objective.name=nonsaturating), instance noise or R1 "
        "(regularisers.instance_noise, regularisers.r1), or lower D's learning rate"
    )
    return Verdict("d_overpowers_g", severity, history.step, evidence, remedy)


def critic_not_lipschitz(history: History) -> Verdict | None:
    """For the Wasserstein objective, whose estimate E[f(x)] − E[f(G(z))] is W1 only for a
    1-Lipschitz critic f (Arjovsky, Chintala & Bottou 2017): a weighted gradient penalty
    above :data:`GP_LARGE` sustained (Gulrajani et al. 2017: ‖∇f‖ should be 1), or the
    estimate beyond :data:`W_BOUND` sustained, which no 1-Lipschitz critic reaches.
    Failed."""
    if history.objective != "wasserstein":
        return None
    penalty = history.window("penalty/gradient_penalty")
    if penalty is not None and min(penalty) > GP_LARGE:
        evidence = (
            f"gradient penalty {statistics.mean(penalty):.3g} > {GP_LARGE} over the last "
            f"{WINDOW} records: the critic's gradient norms are far from 1"
        )
    else:
        estimate = history.window("divergence_estimate")
        if estimate is None or min(abs(v) for v in estimate) < W_BOUND:
            return None
        evidence = (
            f"W1 estimate {estimate[-1]:.3g}, beyond {W_BOUND:g} over the last {WINDOW} "
            "records: the critic is unbounded"
        )
    remedy = (
        "constrain the critic: a gradient penalty (regularisers.gradient_penalty.weight=10), "
        "spectral normalisation, or weight clipping (regularisers.weight_clip.clip=0.01)"
    )
    return Verdict("critic_not_lipschitz", "failed", history.step, evidence, remedy)


def d_overfitting(history: History) -> Verdict | None:
    """D memorising a small data set (Karras et al. 2020, §2–3), sustained: D's accuracy on
    held-out reals at least :data:`HELDOUT_GAP` below its accuracy on its training reals
    (``d_acc_real_train``, ``d_acc_real_heldout``: runs with a held-out split, measured by
    :class:`gankit.train.diagnosis.HeldoutAccuracy`), or ADA's heuristic r_t =
    E[sign(D(x_real))] at or above :data:`RT_HIGH`: D is confident on every real image it
    sees. A warning."""
    evidence = []
    seen, unseen = history.window("d_acc_real_train"), history.window("d_acc_real_heldout")
    if seen is not None and unseen is not None:
        gaps = [a - b for a, b in zip(seen, unseen, strict=True)]
        if min(gaps) >= HELDOUT_GAP:
            evidence.append(
                f"D's accuracy on held-out reals {statistics.mean(unseen):.3f} against "
                f"{statistics.mean(seen):.3f} on its training reals, ≥ {HELDOUT_GAP} apart over "
                f"the last {WINDOW} records"
            )
            auc = history.series("d_membership_auc", 1)
            if auc:
                evidence[-1] += f" (membership AUC {auc[-1]:.3f})"
    r_t = history.window("augment_rt")
    if r_t is not None and min(r_t) >= RT_HIGH:
        p = history.series("augment_p", 1)
        evidence.append(
            f"ADA r_t {statistics.mean(r_t):.3f} ≥ {RT_HIGH} over the last {WINDOW} records"
            + (f" (augment_p {p[-1]:.3f})" if p else "")
        )
    if not evidence:
        return None
    remedy = (
        "augmentation (augment.name=ada; with it on, a lower augment.target or more "
        "augment.ops), more data, a smaller D, or R1 (regularisers.r1)"
    )
    return Verdict("d_overfitting", "warning", history.step, "; ".join(evidence), remedy)


def mode_collapse(history: History) -> Verdict | None:
    """Diversity falling: the fixed-z samples' mean pairwise distance (``sample_diversity``)
    below :data:`DIVERSITY_DROP` of its peak at its last two measurements, or at the latest
    evaluation recall or coverage below :data:`COVERAGE_DROP` of its best, or classes covered
    below :data:`CLASSES_DROP` of the best count (mode collapse and mode dropping: Goodfellow
    2016, §5.1.1; Arora & Zhang 2017). A warning."""
    evidence = []
    diversity = history.series("sample_diversity")
    if len(diversity) >= 3 and max(diversity) > 0:
        peak = max(diversity)
        if max(diversity[-2:]) < DIVERSITY_DROP * peak:
            evidence.append(f"sample diversity {diversity[-1]:.3g} (peak {peak:.3g})")
    drops = {"recall": COVERAGE_DROP, "coverage": COVERAGE_DROP, "classes_covered": CLASSES_DROP}
    for name, fraction in drops.items():
        values = [v for r in history.evals if _finite(v := r.get(f"eval/{name}"))]
        if len(values) >= 2 and max(values) > 0 and values[-1] < fraction * max(values):
            evidence.append(f"eval/{name} {values[-1]:.3g} (best {max(values):.3g})")
    if not evidence:
        return None
    remedy = (
        "minibatch discrimination or PacGAN, a lower G learning rate, an unrolled or "
        "regularised D (regularisers.r1), or resume from a checkpoint before the drop"
    )
    return Verdict("mode_collapse", "warning", history.step, "; ".join(evidence), remedy)


def oscillation(history: History) -> Verdict | None:
    """G's loss cycling — at least :data:`OSCILLATION_CROSSINGS` crossings of its mean over
    the last :data:`OSCILLATION_WINDOW` records, swinging by :data:`OSCILLATION_AMPLITUDE` of
    its mean magnitude — while the evaluations in that span do not improve on the best
    before it: the players circle an equilibrium instead of approaching it (Mescheder,
    Geiger & Nowozin 2018). A warning; needs an evaluation before the span and one in it."""
    if len(history.train) < OSCILLATION_WINDOW:
        return None
    losses = history.series("g_loss", OSCILLATION_WINDOW)
    if len(losses) < OSCILLATION_WINDOW:
        return None
    mean, swing = statistics.mean(losses), max(losses) - min(losses)
    if swing < OSCILLATION_AMPLITUDE * statistics.mean(abs(v) for v in losses):
        return None
    crossings = _crossings([v - mean for v in losses], swing / 4)
    if crossings < OSCILLATION_CROSSINGS:
        return None
    start = history.train[-OSCILLATION_WINDOW]["step"]
    progress = _progress_metric(history.evals)
    if progress is None:
        return None
    before = [r for r in history.evals if r["step"] < start]
    within = [r for r in history.evals if r["step"] >= start]
    if not before or not within or _improved(progress, before, within):
        return None
    evidence = (
        f"g_loss crossed its mean {crossings} times over the last {OSCILLATION_WINDOW} "
        f"records (swing {swing:.3g}), with no improvement of eval/{progress} since step {start}"
    )
    remedy = "lower both learning rates, use G's moving average (train.ema), or add R1"
    return Verdict("oscillation", "warning", history.step, evidence, remedy)


def stalled(history: History) -> Verdict | None:
    """No improvement of the first eval metric of :data:`PROGRESS_METRICS` present (by more
    than :data:`STALL_TOLERANCE` relative) in the last :data:`STALL_EVALS` evaluations. A
    warning."""
    progress = _progress_metric(history.evals)
    if progress is None or len(history.evals) <= STALL_EVALS:
        return None
    before, recent = history.evals[:-STALL_EVALS], history.evals[-STALL_EVALS:]
    if _improved(progress, before, recent):
        return None
    best = _best(progress, before)
    evidence = (
        f"eval/{progress} has not improved in the last {STALL_EVALS} evaluations "
        f"(best {best:.4g} before step {recent[0]['step']})"
    )
    remedy = "stop here and keep checkpoints/best, or change learning rates or capacity"
    return Verdict("stalled", "warning", history.step, evidence, remedy)


RULES: tuple[Rule, ...] = (
    divergence,
    critic_not_lipschitz,
    d_overpowers_g,
    mode_collapse,
    d_overfitting,
    oscillation,
    stalled,
    off_reference,
)
"""Every rule, most urgent first."""


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _crossings(deviations: Sequence[float], band: float) -> int:
    """Sign changes of ``deviations``, counting a side only once it is left by ``band``."""
    side, count = 0, 0
    for d in deviations:
        now = 1 if d > band else -1 if d < -band else 0
        if now and side and now != side:
            count += 1
        side = now or side
    return count


def _progress_metric(evals: Sequence[dict[str, Any]]) -> str | None:
    """The first of :data:`PROGRESS_METRICS` the evaluations report."""
    keys = {k.removeprefix("eval/") for r in evals for k in r}
    return next((m for m in PROGRESS_METRICS if m in keys), None)


def _best(metric: str, evals: Sequence[dict[str, Any]]) -> float:
    values = [v for r in evals if _finite(v := r.get(f"eval/{metric}"))]
    lower = direction(metric) == "lower"
    return (min if lower else max)(values, default=math.inf if lower else -math.inf)


def _improved(
    metric: str, before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
) -> bool:
    """Whether ``after`` holds a value of ``metric`` better than the best of ``before`` by
    more than :data:`STALL_TOLERANCE` (relative)."""
    old, new = _best(metric, before), _best(metric, after)
    if not math.isfinite(old):
        return math.isfinite(new)
    margin = STALL_TOLERANCE * abs(old)
    return new < old - margin if direction(metric) == "lower" else new > old + margin
