"""How fast gankit trains, measured against how fast this machine multiplies matrices.

Prints, in one run:

1. the fp32 matmul rate: GFLOP/s of ``torch.mm`` on square n×n matrices (FLOPs = 2·n³),
   median over repeats after a warm-up, at torch's current thread count; the best size
   is the reference rate;
2. for the DCGAN step (preset ``dcgan-mnist``: 28×28 MNIST-5k, batch 64; as shipped, and
   with both nets at width 32 as the main job had them before) and the 2-D MLP step
   (preset ``ring-2d``, its own batch size): steps/s, samples/s (real samples consumed,
   batch_size·d_steps·steps/s), GFLOP/s and that rate as a percentage of the reference.

A step is one ``Trainer.train_step()``: k discriminator updates and one generator update,
forward and backward. Its FLOPs are counted once with ``torch.utils.flop_counter`` — only
matmuls and convolutions, as 2 FLOPs per multiply-add, the same convention as 2·n³; the
time covers everything (BatchNorm, activations, the optimiser steps). The project's target
is a DCGAN step at ≥ 70% of the matmul rate on CPU; this script reports, it never asserts.
On CUDA, cuDNN may run convolutions in TF32 while ``torch.mm`` stays fp32, so a
percentage above 100 is possible there.

Run it from the repository root::

    python benchmarks/train_step.py                  # CPU, torch's default thread count
    python benchmarks/train_step.py --threads 1 --width 64 --json bench.json
    python benchmarks/train_step.py --device cuda
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
from torch.utils.flop_counter import FlopCounterMode

from gankit.config import resolve
from gankit.devices import select_device
from gankit.errors import GankitError
from gankit.train.rundir import RunDir
from gankit.train.trainer import Trainer

DCGAN_PRESET = "dcgan-mnist"
MLP_PRESET = "ring-2d"
TARGET_FRACTION = 0.70  # of the matmul rate, for the DCGAN step on CPU
EARLIER_WIDTH = 32
"""G's and D's width in the main job before it was retuned (38 % of the matmul rate then)."""
MATMUL_SECONDS_PER_REPEAT = 0.25


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    parser.add_argument("--threads", type=positive, help="torch.set_num_threads (default: torch's)")
    parser.add_argument(
        "--width", type=positive, help=f"width of both DCGAN nets (default: {DCGAN_PRESET}'s)"
    )
    parser.add_argument(
        "--steps", type=positive, help="timed steps per repeat (default: --seconds)"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="timed seconds per benchmark, all repeats"
    )
    parser.add_argument(
        "--repeats", type=positive, default=3, help="timed repeats; the median counts"
    )
    parser.add_argument("--warmup", type=positive, default=5, help="untimed steps before timing")
    parser.add_argument("--sizes", type=positive, nargs="+", default=[1024, 2048], help="matmul n")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    try:
        args.device = select_device(args.device)
    except GankitError as err:
        parser.error(str(err))
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    return args


# -- timing ---------------------------------------------------------------------------------


def synchronizer(device: torch.device) -> Callable[[], None]:
    """Waits for queued device work, so that the clock reads finished work."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def seconds_per_call(fn: Callable[[], Any], calls: int, sync: Callable[[], None]) -> float:
    sync()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync()
    return (time.perf_counter() - start) / calls


def calls_for(seconds: float, per_call: float) -> int:
    return max(1, math.ceil(seconds / per_call))


# -- the machine ----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown"
    names = (line.partition(":")[2].strip() for line in lines if line.startswith("model name"))
    return next(names, "unknown")


def load_average() -> float | None:
    """The 1-minute load average, where the OS reports one: a busy machine measures low."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_model()


def matmul_gflops(n: int, device: torch.device, repeats: int) -> float:
    """Median GFLOP/s of fp32 ``torch.mm`` on n×n matrices."""
    a, b, out = (torch.randn(n, n, device=device) for _ in range(3))
    sync = synchronizer(device)

    def mm() -> None:
        torch.mm(a, b, out=out)

    once = seconds_per_call(mm, 2, sync)  # warm-up, and a first estimate
    calls = calls_for(MATMUL_SECONDS_PER_REPEAT, once)
    times = [seconds_per_call(mm, calls, sync) for _ in range(repeats)]
    return 2 * n**3 / statistics.median(times) / 1e9


# -- training steps -------------------------------------------------------------------------


def step_flops(trainer: Trainer) -> int:
    """Matmul and convolution FLOPs of one ``train_step``, forward and backward."""
    counter = FlopCounterMode(display=False)
    with counter:
        trainer.train_step()
    return counter.get_total_flops()


def bench_step(
    preset: str, overrides: dict[str, Any], args: argparse.Namespace, reference: float
) -> dict[str, Any]:
    """Throughput of one preset's training step; ``reference`` is the matmul GFLOP/s."""
    config = resolve(preset, {"device": str(args.device), "log.tensorboard": False, **overrides})
    sync = synchronizer(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(config, RunDir(tmp), progress=False)
        once = seconds_per_call(trainer.train_step, args.warmup, sync)
        flops = step_flops(trainer)
        steps = args.steps or calls_for(args.seconds / args.repeats, once)
        times = [seconds_per_call(trainer.train_step, steps, sync) for _ in range(args.repeats)]
    steps_per_s = 1 / statistics.median(times)
    gflops = flops * steps_per_s / 1e9
    return {
        "preset": preset,
        "network": config.generator.name,
        "width": f"{config.generator.width}/{config.discriminator.width}",
        "batch_size": config.train.batch_size,
        "d_steps": config.train.d_steps,
        "gflop_per_step": flops / 1e9,
        "timed_steps_per_repeat": steps,
        "steps_per_s": steps_per_s,
        "steps_per_s_repeats": [1 / t for t in times],
        "samples_per_s": config.train.batch_size * config.train.d_steps * steps_per_s,
        "gflops": gflops,
        "fraction_of_matmul": gflops / reference,
    }


# -- report ---------------------------------------------------------------------------------


def print_header(args: argparse.Namespace, load: float | None) -> None:
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    print(f"{args.device.type.upper()}: {device_name(args.device)}")
    if load is not None:
        print(f"load average (1 min) at start: {load:.2f} on {os.cpu_count()} logical CPUs")


def print_matmul(rates: dict[int, float]) -> None:
    print("\nfp32 torch.mm (FLOPs = 2·n³)")
    print(f"{'n':>6}  {'GFLOP/s':>8}")
    for n, rate in rates.items():
        print(f"{n:>6}  {rate:>8.1f}")
    print(f"reference (best): {max(rates.values()):.1f} GFLOP/s")


COLUMNS = (  # heading, key, width, format ("" for text, left-aligned)
    ("preset", "preset", 12, ""),
    ("net", "network", 5, ""),
    ("G/D width", "width", 9, ""),
    ("batch", "batch_size", 5, "d"),
    ("k", "d_steps", 2, "d"),
    ("GFLOP/step", "gflop_per_step", 10, ".3f"),
    ("timed", "timed_steps_per_repeat", 5, "d"),
    ("steps/s", "steps_per_s", 8, ".2f"),
    ("samples/s", "samples_per_s", 9, ".0f"),
    ("GFLOP/s", "gflops", 8, ".1f"),
    ("% matmul", "fraction_of_matmul", 8, ".1%"),
)


def print_steps(results: list[dict[str, Any]], repeats: int) -> None:
    print("\ntraining step: k D updates + 1 G update, forward and backward")
    print(f"(timed = steps per repeat; rates are the median of {repeats} repeats)")
    lines: list[list[str]] = [[] for _ in range(len(results) + 1)]
    for head, key, width, spec in COLUMNS:
        align = ">" if spec else "<"
        lines[0].append(f"{head:{align}{width}}")
        for line, result in zip(lines[1:], results, strict=True):
            line.append(f"{result[key]:{align}{width}{spec}}")
    for line in lines:
        print("  ".join(line))


def print_target(dcgan: dict[str, Any]) -> None:
    fraction = dcgan["fraction_of_matmul"]
    verdict = "met" if fraction >= TARGET_FRACTION else "not met"
    print(
        f"\ntarget: DCGAN step >= {TARGET_FRACTION:.0%} of the matmul rate on CPU; "
        f"measured {fraction:.1%} ({verdict})"
    )


def main() -> None:
    args = parse_args()
    load = load_average()
    print_header(args, load)
    rates = {n: matmul_gflops(n, args.device, args.repeats) for n in args.sizes}
    print_matmul(rates)
    reference = max(rates.values())
    widths = (args.width,) * 2 if args.width else ()  # else the preset's own G and D widths
    dcgan = dict(zip(("generator.width", "discriminator.width"), widths, strict=False))
    results = [bench_step(DCGAN_PRESET, dcgan, args, reference)]
    if not args.width:  # the earlier main job's nets, for the before-and-after comparison
        earlier = {"generator.width": EARLIER_WIDTH, "discriminator.width": EARLIER_WIDTH}
        results.append(bench_step(DCGAN_PRESET, earlier, args, reference))
    results.append(bench_step(MLP_PRESET, {}, args, reference))
    print_steps(results, args.repeats)
    print_target(results[0])
    if args.json:
        figures = {
            "torch": torch.__version__,
            "device": str(args.device),
            "device_name": device_name(args.device),
            "threads": torch.get_num_threads(),
            "load_average_at_start": load,
            "matmul_gflops": {str(n): rate for n, rate in rates.items()},
            "reference_gflops": reference,
            "target_fraction": TARGET_FRACTION,
            "steps": results,
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
