"""Mode coverage of gankit's presets on the 2-D ring and grid (the VEEGAN/PacGAN protocol).

The protocol (Srivastava et al. 2017; Lin et al. 2018, §5 and Table 1): train on a mixture
of K isotropic Gaussians, draw 2,500 samples and score them with
:func:`gankit.metrics.mode_coverage`: the number of modes captured (at least one
high-quality sample nearest to them), the share of high-quality samples (within 3σ of their
nearest mode) and the reverse KL between the modes' histogram and the uniform one.

* ``ring``: 8 modes on a circle of radius 1, σ = 0.01;
* ``grid``: 25 modes on a 5×5 grid of spacing 2 (means in {−4, −2, 0, 2, 4}²), σ = 0.05.

Each (preset, data set, seed) is one run, on the CPU:

* the 2-D mixture presets (``ring-2d``, ``grid-2d``: an MLP generator on a mixture) run as
  they are, on the benchmark's data set; ``--steps``/``--batch-size`` change them only when
  given;
* every other preset (the DCGAN presets on MNIST) brings its ``objective``,
  ``regularisers`` and ``train`` section (optimisers, k, the critic warm-up, EMA); the
  architecture is the benchmark's, shared by all: z ∈ R², an MLP generator and an MLP
  discriminator, each 3 hidden layers of 256 units. The discriminator keeps the preset's
  normalisation when it is ``layer`` or ``none`` (else none), and its spectral norm,
  dropout and minibatch discrimination; the generator keeps its spectral norm. Such runs
  take ``--steps`` (3,000) generator steps on batches of ``--batch-size`` (256).

A run whose loss or weights become NaN/inf is counted as diverged and left out of the
scores. Wall-clock and CPU seconds (``time.process_time``, all threads) cover the whole
``gankit.train`` call, the final sample plot and checkpoint included.

``--costs`` adds the cost of each regulariser as a ratio to the plain non-saturating step,
timed in the same process: one ``Trainer`` per variant, warm-up steps, then the median over
repeats of ``Trainer.train_step()``, the variants interleaved within each repeat so that a
change in the machine's load touches them all alike. It does so on the ring with the
benchmark's MLPs, and on MNIST with the DCGAN nets (width 32, batch 64), where double
backpropagation through convolutions costs the most.

Run it from the repository root, on an idle machine::

    python benchmarks/mixtures.py --threads 2 --costs --json mixtures.json
    python benchmarks/mixtures.py --presets ring-2d --data ring --seeds 1 --steps 200 --costs

On a machine shared with other busy processes, give ``--threads 1``: torch's threads then
wait on each other, and the small MLP step ran 50× slower with 2 threads than with 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from train_step import cpu_model, load_average, positive

import gankit
from gankit.config import apply_overrides, list_presets, resolve
from gankit.errors import GankitError
from gankit.metrics import PROTOCOL_SAMPLES, mode_coverage
from gankit.train.rundir import RunDir
from gankit.train.trainer import Trainer

DEFAULT_PRESETS = "gan,nsgan,wgan,wgan-gp,sngan,lsgan,hinge,ring-2d,grid-2d"
DATASETS = {  # PacGAN's 2D-ring and 2D-grid (gankit's defaults, spelled out)
    "ring": {"name": "ring", "modes": 8, "radius": 1.0, "std": 0.01},
    "grid": {"name": "grid", "size": 5, "spacing": 2.0, "std": 0.05},
}
PROTOCOL_STEPS = 3000
PROTOCOL_BATCH_SIZE = 256
PROTOCOL_WIDTH = 256
PROTOCOL_DEPTH = 3
WARMUP_STEPS = 10
OUTPUT = {  # metrics every 100 steps, no TensorBoard, samples and checkpoint only at the end
    "log": {"every": 100, "tensorboard": False},
    "samples": {"every": 0},
    "checkpoint": {"every": 0, "keep": 1},
}
CARRIED_D_OPTIONS = ("spectral_norm", "dropout", "minibatch_discrimination")
PUBLISHED = {  # Lin et al. 2018 (PacGAN), Table 1: (model, modes, high quality %, reverse KL)
    "ring": [("GAN", 6.3, 98.2, 0.45)],
    "grid": [
        ("GAN", 17.3, 94.8, 0.70),
        ("PacGAN4", 24.8, 93.6, 0.04),
        ("VEEGAN", 24.6, 40.0, None),
    ],
}

RING_COST_VARIANTS = {  # overrides on top of the plain non-saturating config
    "plain": {},
    "gradient penalty (WGAN-GP)": {
        "objective.name": "wasserstein",
        "regularisers.gradient_penalty.weight": 10,
    },
    "R1": {"regularisers.r1.gamma": 10},
    "R2": {"regularisers.r2.gamma": 10},
    "consistency (+ dropout 0.5)": {
        "regularisers.consistency.weight": 2,
        "discriminator.dropout": 0.5,
    },
    "weight clipping": {"regularisers.weight_clip.clip": 0.01},
    "spectral norm": {"discriminator.spectral_norm": True},
    "minibatch discrimination": {"discriminator.minibatch_discrimination.kernels": 100},
    "feature matching": {"regularisers.feature_matching.weight": 1},
    "historical averaging": {"regularisers.historical_averaging.weight": 0.001},
    "instance noise": {"regularisers.instance_noise.std": 0.1},
    "EMA of G": {"train.ema.decay": 0.999},
}
DCGAN_COST_PRESET = "nsgan"
DCGAN_COST_SETTING = {
    "generator.width": 32,
    "discriminator.width": 32,
    "train.batch_size": 64,
    "device": "cpu",
    "log.tensorboard": False,
}
DCGAN_COST_VARIANTS = {
    "plain": {},
    "plain, D norm layer": {"discriminator.norm": "layer"},
    "gradient penalty (WGAN-GP), D norm layer": {
        "objective.name": "wasserstein",
        "regularisers.gradient_penalty.weight": 10,
        "discriminator.norm": "layer",
    },
    "R1, D norm layer": {"regularisers.r1.gamma": 10, "discriminator.norm": "layer"},
    "spectral norm, D norm none": {
        "discriminator.spectral_norm": True,
        "discriminator.norm": "none",
    },
}


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def data_sets(text: str) -> list[str]:
    names = comma_list(text)
    unknown = [name for name in names if name not in DATASETS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown data set(s) {unknown}; choose from ring, grid")
    return names


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--presets", type=comma_list, default=comma_list(DEFAULT_PRESETS), help=DEFAULT_PRESETS
    )
    parser.add_argument("--data", type=data_sets, default=list(DATASETS), help="ring,grid")
    parser.add_argument("--seeds", type=positive, default=3, help="runs per preset: seeds 0…n−1")
    parser.add_argument(
        "--steps",
        type=positive,
        help=f"generator steps per run (default {PROTOCOL_STEPS}; the 2-D presets' own)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive,
        help=f"batch size (default {PROTOCOL_BATCH_SIZE}; the 2-D presets' own)",
    )
    parser.add_argument("--threads", type=positive, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument(
        "--costs",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also time each regulariser's step against the plain one",
    )
    parser.add_argument("--cost-warmup", type=positive, default=20, help="untimed steps")
    parser.add_argument("--cost-steps", type=positive, default=50, help="timed steps per repeat")
    parser.add_argument("--cost-repeats", type=positive, default=5, help="the median counts")
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="keep the run directories here (default: temp)"
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    return args


# -- configs ----------------------------------------------------------------------------


def known_presets(names: list[str]) -> list[str]:
    """The names that are shipped presets, with a note for each one that is not."""
    shipped = {name for name, _ in list_presets()}
    for name in names:
        if name not in shipped:
            print(f"note: no preset '{name}' (yet); skipped")
    return [name for name in names if name in shipped]


def is_mixture_preset(preset: dict[str, Any]) -> bool:
    """An MLP generator trained on a 2-D mixture: the preset runs as it is."""
    return preset["generator"]["name"] == "mlp" and preset["data"]["name"] in DATASETS


def protocol_generator(preset_g: dict[str, Any]) -> dict[str, Any]:
    generator = {"name": "mlp", "width": PROTOCOL_WIDTH, "depth": PROTOCOL_DEPTH}
    if "spectral_norm" in preset_g:
        generator["spectral_norm"] = preset_g["spectral_norm"]
    return generator


def protocol_discriminator(preset_d: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's MLP critic with the preset's norm (layer/none) and its options that
    are on (spectral norm, dropout, minibatch discrimination)."""
    norm = preset_d.get("norm")
    discriminator = {
        "name": "mlp",
        "width": PROTOCOL_WIDTH,
        "depth": PROTOCOL_DEPTH,
        "norm": norm if norm in ("layer", "none") else "none",
    }
    discriminator.update({k: preset_d[k] for k in CARRIED_D_OPTIONS if preset_d.get(k)})
    return discriminator


def protocol_train(preset_train: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    return {
        **preset_train,
        "steps": args.steps or PROTOCOL_STEPS,
        "batch_size": args.batch_size or PROTOCOL_BATCH_SIZE,
    }


def image_preset_on_points(preset: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The preset's objective, regularisers and training with the benchmark's MLPs."""
    return {
        "preset": preset["preset"],
        "noise": {"dim": 2},
        "generator": protocol_generator(preset["generator"]),
        "discriminator": protocol_discriminator(preset["discriminator"]),
        "objective": preset["objective"],
        "regularisers": preset["regularisers"],
        "train": protocol_train(preset["train"], args),
    }


def mixture_preset(preset: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The preset as it is, but for ``--steps``/``--batch-size`` when given."""
    config = {k: v for k, v in preset.items() if k not in ("data", "seed", *OUTPUT)}
    config["train"] = {**preset["train"]}
    if args.steps:
        config["train"]["steps"] = args.steps
    if args.batch_size:
        config["train"]["batch_size"] = args.batch_size
    return config


def run_config(
    preset: dict[str, Any], data: str, seed: int, args: argparse.Namespace
) -> dict[str, Any]:
    """The config of one benchmark run (see the module docstring)."""
    if is_mixture_preset(preset):
        config = mixture_preset(preset, args)
    else:
        config = image_preset_on_points(preset, args)
    return {**config, "data": DATASETS[data], "seed": seed, "device": "cpu", **OUTPUT}


# -- runs -------------------------------------------------------------------------------


def train_and_score(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Train one run and score ``PROTOCOL_SAMPLES`` of its samples, with its times."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        run = gankit.train(config, run_dir=run_dir, progress=False)
    except gankit.TrainingDiverged as err:
        record: dict[str, Any] = {"diverged": True, "message": str(err)}
    else:
        if run.status == "interrupted":
            raise KeyboardInterrupt
        source = run.source
        samples = run.sample(PROTOCOL_SAMPLES, seed=config["seed"])
        score = mode_coverage(samples, source.modes, source.component_stds[:, 0])
        record = {
            "diverged": False,
            "modes_captured": score.modes_captured,
            "modes_total": score.modes_total,
            "high_quality": score.high_quality,
            "reverse_kl": score.reverse_kl,
            "mode_shares": score.mode_shares,
        }
    record["wall_s"] = time.perf_counter() - wall
    record["cpu_s"] = time.process_time() - cpu
    return record


def warm_up(config: dict[str, Any], out: Path) -> None:
    """An untimed run of a few steps, so that the first timed run pays no one-time costs
    (lazy imports, the first plot, torch's first calls)."""
    short = {**config, "train": {**config["train"], "steps": WARMUP_STEPS}}
    gankit.train(short, run_dir=out / "warm-up", progress=False)


def describe_run(record: dict[str, Any]) -> str:
    times = f"{record['wall_s']:.1f} s (CPU {record['cpu_s']:.1f} s)"
    if record["diverged"]:
        return f"diverged, {times}: {record['message']}"
    return (
        f"{record['modes_captured']}/{record['modes_total']} modes, "
        f"{record['high_quality']:.1%} high quality, reverse KL {record['reverse_kl']:.3f}, "
        f"{times}"
    )


def run_benchmark(
    presets: dict[str, dict[str, Any]], args: argparse.Namespace, out: Path
) -> list[dict[str, Any]]:
    """Every (data set, preset, seed) run, as records with their labels."""
    runs: list[dict[str, Any]] = []
    if not presets:
        return runs
    warm_up(run_config(next(iter(presets.values())), args.data[0], 0, args), out)
    for data in args.data:
        for name, preset in presets.items():
            for seed in range(args.seeds):
                config = run_config(preset, data, seed, args)
                record = train_and_score(config, out / f"{data}-{name}-seed{seed}")
                train = config["train"]
                labels = {"data": data, "preset": name, "seed": seed}
                sizes = {"steps": train["steps"], "batch_size": train["batch_size"]}
                runs.append({**labels, **sizes, **record})
                print(f"{data:<5} {name:<12} seed {seed}: {describe_run(record)}", flush=True)
    return runs


# -- summaries ----------------------------------------------------------------------------

SCORES = ("modes_captured", "high_quality", "reverse_kl")


def mean_std(values: list[float]) -> dict[str, float] | None:
    """Mean and sample standard deviation (0 for one value), NaN if a value is NaN (a seed
    without a high-quality sample has no reverse KL); None for no values."""
    if not values:
        return None
    if any(math.isnan(v) for v in values):
        return {"mean": math.nan, "std": math.nan, "n": len(values)}
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": spread, "n": len(values)}


def summarise(runs: list[dict[str, Any]], data: str, preset: str) -> dict[str, Any]:
    """Scores over the seeds that completed; times over all of them."""
    mine = [r for r in runs if r["data"] == data and r["preset"] == preset]
    done = [r for r in mine if not r["diverged"]]
    return {
        "data": data,
        "preset": preset,
        "steps": mine[0]["steps"],
        "batch_size": mine[0]["batch_size"],
        "seeds": len(mine),
        "diverged": len(mine) - len(done),
        "modes_total": done[0]["modes_total"] if done else None,
        **{key: mean_std([r[key] for r in done]) for key in SCORES},
        "wall_s": statistics.fmean(r["wall_s"] for r in mine),
        "cpu_s": statistics.fmean(r["cpu_s"] for r in mine),
    }


def pm(stat: dict[str, float] | None, spec: str, scale: float = 1.0) -> str:
    """``mean ± std`` (just the mean for one seed or NaN), ``–`` when every seed diverged."""
    if stat is None:
        return "–"
    mean = f"{stat['mean'] * scale:{spec}}"
    if stat["n"] == 1 or math.isnan(stat["mean"]):
        return mean
    return f"{mean} ± {stat['std'] * scale:{spec}}"


def table_cells(row: dict[str, Any]) -> list[str]:
    return [
        row["preset"],
        str(row["steps"]),
        str(row["batch_size"]),
        pm(row["modes_captured"], ".1f"),
        pm(row["high_quality"], ".1f", 100),
        pm(row["reverse_kl"], ".2f"),
        f"{row['diverged']}/{row['seeds']}",
        f"{row['wall_s']:.1f}",
        f"{row['cpu_s']:.1f}",
    ]


def published_cells(model: str, modes: float, quality: float, kl: float | None) -> list[str]:
    kl_text = "n.a." if kl is None else f"{kl:.2f}"
    figures = [f"{modes:.1f}", f"{quality:.1f}", kl_text]
    return [f"{model} (PacGAN paper)", "", "", *figures, "", "", ""]


HEADINGS = [
    "preset",
    "steps",
    "batch",
    "modes",
    "high quality %",
    "reverse KL",
    "diverged",
    "wall s",
    "CPU s",
]


def print_table(data: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{data}: {DATASETS[data]}")
    print("mean ± std over the seeds that did not diverge; times per seed, all seeds;")
    print("reverse KL nan: a seed without any high-quality sample")
    lines = [HEADINGS, *(table_cells(row) for row in rows)]
    published = [published_cells(*row) for row in PUBLISHED[data]]
    widths = [max(len(line[i]) for line in lines + published) for i in range(len(HEADINGS))]
    for line in lines:
        print(aligned(line, widths))
    print("published, Lin et al. 2018 (PacGAN), Table 1:")
    for line in published:
        print(aligned(line, widths))


def aligned(cells: list[str], widths: list[int]) -> str:
    """The first column left-aligned, the figures right-aligned."""
    first, *rest = zip(cells, widths, strict=True)
    return "  ".join([f"{first[0]:<{first[1]}}", *(f"{c:>{w}}" for c, w in rest)]).rstrip()


def print_markdown(summary: dict[str, list[dict[str, Any]]]) -> None:
    print("\nmarkdown:")
    print("| data | " + " | ".join(HEADINGS) + " |")
    print("|---" * (len(HEADINGS) + 1) + "|")
    for data, rows in summary.items():
        for row in rows:
            print(f"| {data} | " + " | ".join(table_cells(row)) + " |")
        for published in PUBLISHED[data]:
            print(f"| {data} | " + " | ".join(published_cells(*published)) + " |")


# -- costs ------------------------------------------------------------------------------


def ring_cost_base(args: argparse.Namespace) -> dict[str, Any]:
    """The plain non-saturating config on the ring with the benchmark's MLPs."""
    plain = image_preset_on_points(resolve("nsgan").to_dict(), args)
    return {**plain, "data": DATASETS["ring"], "device": "cpu", **OUTPUT}


def dcgan_cost_base() -> dict[str, Any]:
    return resolve(DCGAN_COST_PRESET, DCGAN_COST_SETTING).to_dict()


def build_trainers(
    base: dict[str, Any], variants: dict[str, dict[str, Any]], tmp: Path
) -> dict[str, Trainer | str]:
    """One Trainer per variant, or the one-line reason it cannot be built."""
    trainers: dict[str, Trainer | str] = {}
    for i, (variant, overrides) in enumerate(variants.items()):
        try:
            config = resolve(apply_overrides(base, overrides))
            trainers[variant] = Trainer(config, RunDir.create(tmp, f"cost-{i}"), progress=False)
        except GankitError as err:
            trainers[variant] = str(err)
    return trainers


def seconds_per_step(step: Callable[[], Any], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def time_trainers(trainers: dict[str, Trainer | str], args: argparse.Namespace) -> dict:
    """Seconds per ``train_step`` of every buildable trainer, in interleaved repeats."""
    ready = {k: t for k, t in trainers.items() if isinstance(t, Trainer)}
    for trainer in ready.values():
        seconds_per_step(trainer.train_step, args.cost_warmup)
    times: dict[str, list[float]] = {variant: [] for variant in ready}
    for _ in range(args.cost_repeats):
        for variant, trainer in ready.items():
            times[variant].append(seconds_per_step(trainer.train_step, args.cost_steps))
    return times


def measure_costs(
    base: dict[str, Any], variants: dict[str, dict[str, Any]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """ms per step of each variant and its ratio to the plain one."""
    with tempfile.TemporaryDirectory() as tmp:
        trainers = build_trainers(base, variants, Path(tmp))
        times = time_trainers(trainers, args)
    plain = statistics.median(times["plain"]) if "plain" in times else math.nan
    rows = []
    for variant, overrides in variants.items():
        row: dict[str, Any] = {"variant": variant, "overrides": overrides}
        if variant in times:
            median = statistics.median(times[variant])
            row.update(
                ms_per_step=1000 * median,
                ms_per_step_repeats=[1000 * t for t in times[variant]],
                ratio=median / plain,
            )
        else:
            row["error"] = trainers[variant]
        rows.append(row)
    return rows


def print_costs(title: str, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\ncost per step, {title}")
    print(f"(median of {args.cost_repeats} × {args.cost_steps} steps after {args.cost_warmup})")
    width = max(len(row["variant"]) for row in rows)
    print(f"{'variant':<{width}}  {'ms/step':>8}  {'× plain':>7}")
    for row in rows:
        if "error" in row:
            print(f"{row['variant']:<{width}}  n/a ({row['error']})")
        else:
            print(f"{row['variant']:<{width}}  {row['ms_per_step']:>8.2f}  {row['ratio']:>7.2f}")


def run_costs(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    batch = args.batch_size or PROTOCOL_BATCH_SIZE
    ring = measure_costs(ring_cost_base(args), RING_COST_VARIANTS, args)
    print_costs(f"ring, MLP {PROTOCOL_WIDTH}×{PROTOCOL_DEPTH}, batch {batch}", ring, args)
    dcgan = measure_costs(dcgan_cost_base(), DCGAN_COST_VARIANTS, args)
    print_costs(f"{DCGAN_COST_PRESET} on MNIST-5k, DCGAN width 32, batch 64", dcgan, args)
    return {"ring": ring, "dcgan_mnist": dcgan}


# -- main -------------------------------------------------------------------------------


def print_header(load: float | None) -> None:
    print(f"torch {torch.__version__}, CPU, threads {torch.get_num_threads()}: {cpu_model()}")
    if load is not None:
        print(f"load average (1 min) at start: {load:.2f} on {os.cpu_count()} logical CPUs")


def resolve_presets(names: list[str]) -> dict[str, dict[str, Any]]:
    """Each preset's full config dict; a preset that does not validate is skipped."""
    presets = {}
    for name in known_presets(names):
        try:
            presets[name] = resolve(name).to_dict()
        except GankitError as err:
            print(f"note: preset '{name}' does not load ({err}); skipped")
    return presets


def main() -> None:
    args = parse_args()
    load = load_average()
    print_header(load)
    presets = resolve_presets(args.presets)
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_benchmark(presets, args, args.out or Path(tmp))
    summary = {data: [summarise(runs, data, name) for name in presets] for data in args.data}
    for data, rows in summary.items():
        print_table(data, rows)
    print_markdown(summary)
    costs = run_costs(args) if args.costs else None
    if args.json:
        figures = {
            "torch": torch.__version__,
            "cpu": cpu_model(),
            "threads": torch.get_num_threads(),
            "load_average_at_start": load,
            "protocol_samples": PROTOCOL_SAMPLES,
            "data_sets": {data: DATASETS[data] for data in args.data},
            "configs": {
                f"{data}/{name}": run_config(preset, data, 0, args)
                for data in args.data
                for name, preset in presets.items()
            },
            "runs": runs,
            "summary": summary,
            "published": PUBLISHED,
            "costs": costs,
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
