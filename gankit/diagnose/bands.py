"""Reference bands: the normal range of a shipped preset's curves, and the rule for a run
that leaves it.

``scripts/make_reference_bands.py`` trains each shipped preset over several seeds, smooths
each seed's curves by :func:`running_median` and keeps, at every logged step, the median and
the 10 % and 90 % quantiles over seeds (:func:`quantile`, :func:`summarise`) in
``gankit/diagnose/bands/<preset>.json``. :func:`reference_band` reads one;
:func:`band_for_config` is the band a run is compared with — its preset's, when its config
equals the preset's in every key that shapes the curves (:data:`SHAPING_KEYS`) —; and
:func:`off_reference` is the diagnosis rule that names a curve leaving it.

Pure JSON and arithmetic: the dashboard reads the bands without torch.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gankit.diagnose.verdict import Verdict
from gankit.errors import GankitError

if TYPE_CHECKING:
    from gankit.diagnose.rules import History

BANDS_DIR = Path(__file__).parent / "bands"
"""Where the shipped bands live, one ``<preset>.json`` each (package data)."""

QUANTILES = (0.1, 0.5, 0.9)
"""The band's lower edge, centre and upper edge, as quantiles over seeds."""
SMOOTH_HALF = 2
"""Half-width of the centred running median over training records (5 records) applied to
each seed's curve before the quantiles, and to a run's curve before it is compared."""
REFERENCE_WINDOW = 5
"""Smoothed records in a row, at steps the band covers, that a curve must stay outside the
widened band for to have left it."""
REFERENCE_WIDEN = 1.0
"""The band is widened on each side by this many times its own width at the step: with
three seeds the 10–90 % range is narrow, and a fourth healthy seed often grazes it."""
REFERENCE_FLOOR = 0.5
"""And on each side by at least this many times the curve's typical width (the median over
steps of the band's width), so steps where the seeds happen to agree do not make it a
needle's eye."""
REFERENCE_RELATIVE = 0.1
"""And by at least this fraction of the band's median at the step: a curve that every seed
draws alike (d_acc pinned near 0.5) may still move by a tenth of itself."""

SHAPING_KEYS = (
    "task",
    "data",
    "noise",
    "generator",
    "discriminator",
    "objective",
    "regularisers",
    "augment",
    "train.batch_size",
    "train.d_steps",
    "train.critic_warmup",
    "train.g_optimizer",
    "train.d_optimizer",
    "train.lr_decay",
    "train.precision",
    "log.every",
)
"""The config keys (dotted; a section compares whole) that shape a run's curves: a run is
compared with its preset's band only when it equals the preset in each of them. The seed,
``train.steps`` (but see :data:`DECAY_KEY`), the sampler's moving average, the device,
samples, checkpoints and evaluations do not change the curves and are not compared; the
records are averages over ``log.every`` steps, so it is compared."""
DECAY_KEY = "train.steps"
"""Compared too when the preset's learning rates decay within the steps the band covers
(``train.lr_decay.start`` before its last step): the decay ends at ``train.steps``, so
before ``start`` the schedule does not depend on it."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_STATS = ("median", "lo", "hi")


class BandError(GankitError):
    """A reference band file that cannot be read."""


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by linear interpolation between order statistics
    (numpy's default, Hyndman & Fan 1996 type 7): with x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎ and h = (n − 1)q,
    x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋₊₁₎ − x₍⌊h⌋₎)."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def running_median(values: Sequence[float], half: int = SMOOTH_HALF) -> list[float]:
    """The centred running median: element i is the median of values[i − k … i + k] with
    k = min(``half``, i, n − 1 − i), so the window shrinks symmetrically at both ends and a
    trend is not shifted there. Element i no longer changes once the series holds
    i + min(half, i) + 1 values."""
    n = len(values)
    return [
        statistics.median(values[i - k : i + k + 1])
        for i in range(n)
        for k in [min(half, i, n - 1 - i)]
    ]


def summarise(
    curves: Sequence[Sequence[float]], quantiles: Sequence[float] = QUANTILES
) -> dict[str, list[float]]:
    """Per step, the median and the lower and upper quantiles over seeds of the already
    smoothed ``curves`` (one per seed, of equal length): ``{"median", "lo", "hi"}``."""
    lo_q, mid_q, hi_q = quantiles
    if len({len(c) for c in curves}) != 1:
        raise ValueError("every seed's curve must have the same steps")
    columns = list(zip(*curves, strict=True))
    return {
        "median": [quantile(c, mid_q) for c in columns],
        "lo": [quantile(c, lo_q) for c in columns],
        "hi": [quantile(c, hi_q) for c in columns],
    }


def reference_band(preset: str, directory: Path | None = None) -> dict[str, Any] | None:
    """The reference band of ``preset`` (from ``directory``, default :data:`BANDS_DIR`), or
    None when there is none (an unknown preset, a YAML file's label). Raises
    :class:`BandError` for a file that is not a valid band."""
    if not isinstance(preset, str) or not _NAME.fullmatch(preset):
        return None
    path = (BANDS_DIR if directory is None else Path(directory)) / f"{preset}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        band = json.loads(text)
    except ValueError as error:
        raise BandError(f"{path}: not JSON ({error})") from None
    problem = _problem(band)
    if problem:
        raise BandError(f"{path}: not a reference band: {problem}")
    return band


def differing_keys(config: Mapping[str, Any], band: Mapping[str, Any]) -> list[str]:
    """The keys of :data:`SHAPING_KEYS` (and :data:`DECAY_KEY` when the band's preset decays
    its learning rates) in which ``config`` (a run's resolved config as a dict, as in its
    config.yaml) differs from the preset the band was made from."""
    reference = band["config"]
    return [key for key, value in reference.items() if _lookup(config, key) != value]


def band_for_config(
    config: Mapping[str, Any] | None, directory: Path | None = None
) -> dict[str, Any] | None:
    """The band a run with this resolved ``config`` is compared with: its ``preset``'s,
    when the config differs from it in none of :func:`differing_keys`; else None."""
    if not isinstance(config, Mapping):
        return None
    band = reference_band(config.get("preset"), directory)
    if band is None or differing_keys(config, band):
        return None
    return band


def preset_config(config: Mapping[str, Any], steps_trained: int) -> dict[str, Any]:
    """What a band over the first ``steps_trained`` steps records of its preset's resolved
    ``config``: the value of each of :data:`SHAPING_KEYS`, and of :data:`DECAY_KEY` when the
    learning rates start decaying before ``steps_trained``."""
    decay = _lookup(config, "train.lr_decay")
    decays = isinstance(decay, Mapping) and decay.get("start", 0) < steps_trained
    keys = SHAPING_KEYS + ((DECAY_KEY,) if decays else ())
    return {key: _lookup(config, key) for key in keys}


def off_reference(history: History) -> Verdict | None:
    """A curve outside its preset's reference band, sustained: at each of the last
    :data:`REFERENCE_WINDOW` steps the band covers whose smoothed value is final (the run's
    curve smoothed as the band's seeds were, :func:`running_median`), below the band's
    lower edge or above its upper edge by more than the margin of :func:`margin`. Only for
    a run whose config matches the preset's (:func:`band_for_config`, set as
    ``History.band``). A warning: healthy runs of the same config never went there."""
    band = getattr(history, "band", None)
    if band is None:
        return None
    where = {step: i for i, step in enumerate(band["steps"])}
    found, first_off = [], None
    for curve, edges in band["curves"].items():
        excursion = _excursion(history, curve, edges, where)
        if excursion is None:
            continue
        start, step, value, i = excursion
        first_off = start if first_off is None else min(first_off, start)
        found.append(
            f"{curve} {value:.4g} at step {step} (outside since step {start}) against "
            f"{edges['lo'][i]:.4g}–{edges['hi'][i]:.4g}, median {edges['median'][i]:.4g}"
        )
    if not found:
        return None
    seeds = ", ".join(str(s) for s in band["seeds"])
    evidence = (
        f"outside the reference band of {band['preset']} (seeds {seeds}, smoothed, "
        f"beyond a margin) for {REFERENCE_WINDOW} records: " + "; ".join(found)
    )
    remedy = (
        f"this run does not behave like healthy runs of {band['preset']} with the same "
        "settings: look at its samples and other verdicts, check the data and the device, "
        f"try another seed or go back to a checkpoint before step {first_off}"
    )
    return Verdict("off_reference", "warning", history.step, evidence, remedy)


def margin(edges: Mapping[str, Sequence[float]], i: int, typical: float) -> float:
    """How far beyond the band's edges at index ``i`` a value may lie and still be normal:
    the largest of :data:`REFERENCE_WIDEN` × the band's width there, :data:`REFERENCE_FLOOR`
    × the curve's ``typical`` width, and :data:`REFERENCE_RELATIVE` × |median|."""
    width = edges["hi"][i] - edges["lo"][i]
    return max(
        REFERENCE_WIDEN * width,
        REFERENCE_FLOOR * typical,
        REFERENCE_RELATIVE * abs(edges["median"][i]),
    )


def _excursion(
    history: History, curve: str, edges: Mapping[str, Sequence[float]], where: dict[int, int]
) -> tuple[int, int, float, int] | None:
    """When ``curve`` is outside the widened band at its last :data:`REFERENCE_WINDOW`
    final smoothed values at band steps: (first step of that stretch outside, latest step,
    the smoothed value there, its band index); else None."""
    # the records up to the band's last step and the few that make its smoothing final
    end = bisect.bisect_right(history.train, max(where), key=lambda r: r["step"])
    covered = history.train[: end + SMOOTH_HALF]
    points = [(r["step"], v) for r in covered if _finite(v := r.get(curve))]
    n = len(points)
    final = [
        i for i, (step, _) in enumerate(points) if step in where and i + min(SMOOTH_HALF, i) < n
    ]
    if len(final) < REFERENCE_WINDOW:
        return None
    values = [v for _, v in points]
    typical = statistics.median(h - lo for h, lo in zip(edges["hi"], edges["lo"], strict=True))
    outside = []
    for i in reversed(final):
        k = min(SMOOTH_HALF, i, n - 1 - i)
        smoothed = statistics.median(values[i - k : i + k + 1])
        j = where[points[i][0]]
        allowed = margin(edges, j, typical)
        if edges["lo"][j] - allowed <= smoothed <= edges["hi"][j] + allowed:
            break
        outside.append((points[i][0], smoothed, j))
    if len(outside) < REFERENCE_WINDOW:
        return None
    step, value, j = outside[0]
    return outside[-1][0], step, value, j


def _lookup(config: Mapping[str, Any], dotted: str) -> Any:
    """``config``'s value at a dotted key, None where a level is missing."""
    value: Any = config
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _problem(band: Any) -> str | None:
    """What is wrong with a parsed band file, None when nothing is."""
    if not isinstance(band, dict):
        return "not an object"
    missing = [k for k in ("preset", "seeds", "steps", "curves", "config") if k not in band]
    if missing:
        return f"missing {', '.join(missing)}"
    steps = band["steps"]
    if not isinstance(steps, list) or not all(isinstance(s, int) for s in steps):
        return "steps is not a list of integers"
    if not isinstance(band["curves"], dict) or not isinstance(band["config"], dict):
        return "curves and config must be objects"
    for name, edges in band["curves"].items():
        if not isinstance(edges, dict) or any(
            not isinstance(edges.get(s), list) or len(edges[s]) != len(steps) for s in _STATS
        ):
            return f"curve {name} needs median, lo and hi with one value per step"
    return None
