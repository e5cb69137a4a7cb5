"""Build the reference bands of the shipped presets from real runs, and check that healthy
runs raise no warning.

For each preset, trains one run per seed with ``gankit train`` (one CPU thread each), reads
its training records, smooths each seed's curves by the centred running median of
``gankit.diagnose.bands.running_median`` and writes, at every logged step, the median and the
10 % / 90 % quantiles over seeds (linear interpolation) of every curve the preset logs to
``gankit/diagnose/bands/<preset>.json``, preset by preset. Then it replays ``gankit doctor``
over every run, with the new bands in place, and prints the false-positive table: preset,
seeds, steps and the warnings raised (code@step). ``--check-seeds`` trains further seeds
that do not make the band and diagnoses them as well (held out).

    OMP_NUM_THREADS=1 python scripts/make_reference_bands.py            # every preset
    OMP_NUM_THREADS=1 python scripts/make_reference_bands.py --presets ring-2d --steps 600

Runs already complete under ``--runs-root`` are reused, so an interrupted build continues.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from gankit.config import list_presets, resolve
from gankit.diagnose.bands import (
    BANDS_DIR,
    QUANTILES,
    SMOOTH_HALF,
    band_for_config,
    preset_config,
    running_median,
    summarise,
)
from gankit.train.diagnosis import diagnose_run
from gankit.train.rundir import RunDir

CAPS = {
    "acgan-mnist": 400,
    "cgan-mnist": 400,
    "cgan-projection-mnist": 400,
    "cyclegan-digits": 400,
    "dcgan-digits8x8": 400,
    "dcgan-mnist": 400,
    "gan": 400,
    "hinge": 400,
    "lsgan": 400,
    "nsgan": 400,
    "pix2pix-edges2digits": 400,
    "r3gan-mnist": 400,
    "sngan": 400,
    "wgan": 400,
    "wgan-gp": 350,
}
"""Steps trained per seed for the image and translation presets (the toy presets train at
their full length): a few hundred steps, at least 7 records at ``log.every = 50`` so that
``off_reference`` can judge 5 (its smoothing needs 2 more)."""
NEEDS_DATA = ("folder-32", "folder-64")
"""Presets that train on the user's own folder (data.path): no band can be shipped."""
SKIPPED_KEYS = ("step", "schema", "steps_per_s", "sample_diversity")
"""Record keys that are not curves: bookkeeping, speed, and the diversity measured only at
every 4th record."""
QUIET = ("log.tensorboard=false", "samples.every=0", "checkpoint.every=0")
"""Overrides that save time and change no curve: no TensorBoard files, samples and a
checkpoint only at the end (samples are drawn from generators of their own)."""
MAX_STEPS = 300
"""Steps kept per band: longer ones are thinned evenly (after smoothing)."""
DIGITS = 4
"""Significant digits kept in the band files."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shipped = [name for name, _ in list_presets() if name not in NEEDS_DATA]
    parser.add_argument("--presets", nargs="+", default=shipped, help="default: all shipped")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--check-seeds", nargs="*", type=int, default=[])
    parser.add_argument("--steps", type=int, help="cap every preset at N steps")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    parser.add_argument("--runs-root", type=Path, default=Path("runs/reference-bands"))
    parser.add_argument("--out", type=Path, default=BANDS_DIR)
    parser.add_argument("--table", type=Path, help="also write the table (markdown) here")
    args = parser.parse_args(argv)
    command = "python scripts/make_reference_bands.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    unknown = sorted(set(args.presets) - set(shipped))
    if unknown:
        parser.error(f"not a shipped preset with its own data: {', '.join(unknown)}")

    plan = {p: _steps(p, args.steps) for p in args.presets}
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        for preset in args.presets:
            jobs = [(preset, s) for s in args.seeds + args.check_seeds]
            list(pool.map(lambda job: _train(job, plan[job[0]], args.runs_root), jobs))
            band = make_band(preset, args.seeds, plan[preset], args.runs_root, command)
            path = args.out / f"{preset}.json"
            path.write_text(format_band(band), encoding="utf-8")
            print(f"wrote {path} ({path.stat().st_size} bytes)", flush=True)
    rows = [_doctor_row(p, args.seeds, plan[p], args.runs_root, args.out) for p in args.presets]
    rows += [
        _doctor_row(p, [s], plan[p], args.runs_root, args.out, True)
        for p in args.presets
        for s in args.check_seeds
    ]
    table = format_table(rows)
    print(table)
    print(f"{len(args.presets)} presets in {time.monotonic() - started:.0f} s")
    if args.table:
        args.table.write_text(table + "\n", encoding="utf-8")
    return 0


def _steps(preset: str, cap: int | None) -> int:
    """Steps trained for ``preset``: its own, at most :data:`CAPS` or ``--steps``."""
    steps = resolve(preset).train.steps
    limit = cap if cap is not None else CAPS.get(preset)
    return min(steps, limit) if limit else steps


def run_dir(root: Path, preset: str, seed: int, steps: int) -> Path:
    return root / f"{preset}-seed{seed}-steps{steps}"


def _train(job: tuple[str, int], steps: int, root: Path) -> None:
    """One run of the preset at ``seed``, unless a complete one is already there."""
    preset, seed = job[0], job[1]
    path = run_dir(root, preset, seed, steps)
    if _last_step(path) == steps:
        return
    if path.exists():
        raise SystemExit(f"{path}: an incomplete run is in the way; remove it")
    command = [sys.executable, "-m", "gankit", "train", preset, "--run-dir", str(path)]
    for setting in (f"seed={seed}", *QUIET):
        command += ["--set", setting]
    command += ["--no-progress", "--threads", "1"]
    if steps != resolve(preset).train.steps:
        command += ["--steps", str(steps)]
    began = time.monotonic()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{done.stderr[-2000:]}")
    print(f"{preset} seed {seed}: {steps} steps in {time.monotonic() - began:.0f} s", flush=True)


def _last_step(path: Path) -> int | None:
    try:
        records = RunDir.open(path).read_metrics()
    except Exception:  # noqa: BLE001 (any unreadable run is retrained)
        return None
    steps = [r["step"] for r in records if r["kind"] == "train"]
    return steps[-1] if steps else None


def curves_of(records: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """Every numeric curve of a run's training records, as (step, value) pairs: not the
    keys of :data:`SKIPPED_KEYS` nor learning rates."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for record in records:
        if record["kind"] != "train":
            continue
        for key, value in record.items():
            if key in SKIPPED_KEYS or "lr" in key.split("/")[-1].split("_"):
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                curves.setdefault(key, []).append((record["step"], float(value)))
    return curves


def make_band(
    preset: str, seeds: list[int], steps: int, root: Path, command: str
) -> dict[str, Any]:
    """The band of ``preset`` from its runs at ``seeds``: the curves every seed logs at
    every step, smoothed per seed, summarised per step over seeds, thinned to at most
    :data:`MAX_STEPS` steps. Constant curves are left out."""
    runs = [curves_of(RunDir.open(run_dir(root, preset, s, steps)).read_metrics()) for s in seeds]
    grid = [step for step, _ in runs[0]["d_loss"]]
    keep = _thinned(len(grid))
    curves = {}
    for name in sorted(set.intersection(*(set(r) for r in runs))):
        series = [r[name] for r in runs]
        if any([step for step, _ in s] != grid for s in series):
            continue
        values = [[v for _, v in s] for s in series]
        if not all(math.isfinite(v) for seed in values for v in seed):
            raise SystemExit(f"{preset}: {name} is not finite in a healthy run")
        if max(max(seed) for seed in values) == min(min(seed) for seed in values):
            continue
        stats = summarise([running_median(seed) for seed in values], QUANTILES)
        curves[name] = {k: [_round(v[i]) for i in keep] for k, v in stats.items()}
    preset_steps = resolve(preset).train.steps
    return {
        "preset": preset,
        "seeds": seeds,
        "steps": [grid[i] for i in keep],
        "curves": curves,
        "quantiles": list(QUANTILES),
        "smoothing": (
            f"centred running median over {2 * SMOOTH_HALF + 1} training records per seed "
            "(the window shrinks symmetrically at both ends), before the quantiles"
        ),
        "steps_trained": steps,
        "preset_steps": preset_steps,
        "config": preset_config(resolve(preset).to_dict(), steps),
        "command": command,
        "torch": torch.__version__,
    }


def _thinned(n: int) -> list[int]:
    """At most :data:`MAX_STEPS` indices of ``n``, evenly spaced, first and last kept."""
    if n <= MAX_STEPS:
        return list(range(n))
    return sorted({round(i * (n - 1) / (MAX_STEPS - 1)) for i in range(MAX_STEPS)})


def _round(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def format_band(band: dict[str, Any]) -> str:
    """The band as JSON with one line per top-level key and per curve."""
    lines = []
    for key, value in band.items():
        if key == "curves":
            inner = [f"    {json.dumps(n)}: {json.dumps(c)}" for n, c in value.items()]
            lines.append('  "curves": {\n' + ",\n".join(inner) + "\n  }")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _doctor_row(
    preset: str, seeds: list[int], steps: int, root: Path, bands: Path, held_out: bool = False
) -> dict[str, Any]:
    """``gankit doctor``'s warnings over the runs of ``preset`` at ``seeds``, compared with
    the band in ``bands``."""
    warnings, compared = [], []
    for seed in seeds:
        run = RunDir.open(run_dir(root, preset, seed, steps))
        config = json.loads(json.dumps(_config(run)))
        compared.append(band_for_config(config, bands) is not None)
        changes, _ = diagnose_run(run, band_directory=bands)
        warnings += [f"{v.code}@{v.step} (seed {seed})" for v in changes if v.severity != "ok"]
    return {
        "preset": preset,
        "seeds": seeds,
        "steps": steps,
        "held_out": held_out,
        "compared": all(compared),
        "warnings": warnings,
    }


def _config(run: RunDir) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(run.config_path.read_text(encoding="utf-8"))


def format_table(rows: list[dict[str, Any]]) -> str:
    """The false-positive table, in markdown."""
    lines = [
        "| preset | seeds | steps | band compared | warnings raised |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        seeds = ", ".join(str(s) for s in row["seeds"]) + (" (held out)" if row["held_out"] else "")
        warned = ", ".join(row["warnings"]) or "none"
        compared = "yes" if row["compared"] else "no"
        lines.append(f"| {row['preset']} | {seeds} | {row['steps']} | {compared} | {warned} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
