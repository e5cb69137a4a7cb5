"""The ``gankit`` command line: train, sample, presets, info.

gankit train                         the main job (DCGAN on the embedded MNIST-5k)
gankit train ring-2d --set train.steps=3000 --device cpu
gankit train --resume runs/ring-2d-20260101-120000
gankit sample RUN -n 64 -o grid.png [--truncation 0.7]
gankit presets
gankit info RUN
gankit doctor RUN                    named failure modes, evidence and remedies (exit 0/1/3)
gankit eval RUN --metrics fid,kid,pr --seeds 3
gankit translate RUN INPUT -o OUTPUT
gankit sample RUN -n 10000 -o folder/  one PNG per sample
gankit interpolate RUN -o walk.gif   images along paths between z vectors (grid or GIF)
gankit neighbours RUN -o nn.png      samples beside their nearest training images
gankit export RUN -o generator.onnx  the sampler as ONNX (or .pt2: torch.export)
gankit project RUN image.png -o recon.png  GAN inversion: the z of an image
gankit download [NAME]
gankit make-data shapes DIR          coloured shapes as a folder of PNGs, one sub-folder a class
gankit estimate A B --divergence js  divergence between two sample sets (files, runs, sources)
gankit lab --list                    the executable-theory experiments
gankit dashboard [RUNS_DIR]          live web view of runs (127.0.0.1:8787; --port, --host)
gankit playground                    GAN Lab in the browser on gankit's Trainer (127.0.0.1:8788)
gankit lab optimal-d --out lab
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from gankit import __version__

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT
EXIT_SIGTERM = 143  # a scheduler's SIGTERM: 128 + SIGTERM


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a problem the user can fix ends in one ``error:`` line on stderr
    and exit status 2 (130 for Ctrl-C), never a traceback."""
    parser = _parser()
    args = parser.parse_args(argv)
    from gankit.errors import GankitError

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings(warnings.showwarning)
            return args.handler(args)
    except GankitError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`gankit info RUN | head -3`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # the file system refused: full, read-only, missing, not allowed
        where = f"{err.filename}: " if err.filename else ""
        return _fail(f"{where}{err.strerror or err}")
    except MemoryError:
        return _fail("out of memory: ask for fewer samples or a smaller batch")


def _fail(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USER_ERROR


def _one_line_warnings(python_show):
    """A ``warnings.showwarning`` that prints gankit's own warnings (a ConfigWarning) as
    one ``warning:`` line on stderr, and others as ``python_show`` does."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if category.__module__.split(".")[0] == "gankit":
            print(f"warning: {' '.join(str(message).split())}", file=sys.stderr)
        else:
            python_show(message, category, filename, lineno, file, line)

    return show


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(prog="gankit", description="Train, measure and understand GANs.")
    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a GAN (no arguments: the main job)")
    train.add_argument("preset", nargs="?", help="preset name or YAML file (default: dcgan-mnist)")
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, dotted keys (repeatable): --set train.steps=500",
    )
    train.add_argument("--steps", type=int, help="shorthand for --set train.steps=N")
    train.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its checkpoint")
    train.add_argument(
        "--allow-config-change",
        action="store_true",
        help="with --resume: accept overrides that change the training itself",
    )
    train.add_argument(
        "--run-dir", help="exact run directory to create (refused if it exists and is not empty)"
    )
    train.add_argument("--runs-root", default="runs", help="where run directories go")
    train.add_argument(
        "--dry-run",
        action="store_true",
        help="print the resolved config and parameter counts, then exit",
    )
    train.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar: a plain line every log.every steps instead",
    )
    _threads_option(train)
    train.set_defaults(handler=_train)

    sample = commands.add_parser("sample", help="draw samples from a trained run")
    sample.add_argument("run", help="run directory")
    sample.add_argument(
        "-n",
        type=int,
        default=64,
        help="number of samples (a picture shows at most 10,000 images or 200,000 points; "
        ".npy takes any number, written in batches)",
    )
    sample.add_argument(
        "-o",
        "--output",
        default="samples.png",
        help="a picture: .png, or .jpg/.jpeg written as JPEG (an image grid or a point plot); "
        "or .npy, the raw float32 array (n, *shape) (default: samples.png; replaced if it "
        "exists); or, for an image run, a folder (ending in / or existing): one PNG per "
        "sample, 000042.png, in a sub-folder per class for a conditional run",
    )
    sample.add_argument(
        "--overwrite",
        action="store_true",
        help="with a folder output: replace sample files that exist (default: refuse, writing "
        "nothing)",
    )
    sample.add_argument("--seed", type=_seed, default=0, help="seed of z")
    sample.add_argument(
        "--checkpoint",
        help="a checkpoint folder of this run, or its name (e.g. step_00000020) "
        "(default: the newest that loads)",
    )
    sample.add_argument("--no-progress", action="store_true", help="no progress bar")
    _threads_option(sample)
    sample.add_argument(
        "--label",
        help="class of a conditional run, by name (e.g. a sub-folder's) or index 0..K-1; a "
        "name wins over an index (default: one class per row of the grid, labelled)",
    )
    sample.add_argument(
        "--truncation",
        type=_threshold,
        metavar="T",
        help="the truncation trick (BigGAN): z ~ N(0, I) with every |z_i| > T redrawn, "
        "e.g. 0.7 (less variety, higher fidelity; normal priors only; default: none)",
    )
    sample.set_defaults(handler=_sample)

    presets = commands.add_parser("presets", help="list the shipped presets")
    presets.set_defaults(handler=_presets)

    translate = commands.add_parser(
        "translate", help="translate images with a pix2pix or CycleGAN run"
    )
    translate.add_argument("run", help="run directory")
    translate.add_argument("input", help="an image file or a folder of images")
    translate.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (.png, .jpg, .jpeg), or folder for a folder input: each output keeps "
        "its input's name and extension (JPEG for .jpg/.jpeg)",
    )
    translate.add_argument(
        "--overwrite",
        action="store_true",
        help="replace output files that exist (default: refuse, writing nothing)",
    )
    translate.add_argument(
        "--direction",
        choices=("AtoB", "BtoA"),
        default="AtoB",
        help="BtoA: CycleGAN's second generator (default: AtoB)",
    )
    translate.add_argument("--seed", type=_seed, default=0, help="seed of pix2pix's dropout noise")
    translate.add_argument(
        "--no-dropout",
        action="store_true",
        help="pix2pix: switch dropout off when sampling (one output per input)",
    )
    translate.add_argument(
        "--checkpoint",
        help="a checkpoint folder of this run, or its name (default: the newest that loads)",
    )
    translate.add_argument(
        "--split-ab",
        action="store_true",
        help="inputs are A|B pairs, two images side by side (the pix2pix data sets): translate "
        "the half the run reads, A (left) for AtoB, B for BtoA (default: refuse A|B pairs)",
    )
    translate.set_defaults(handler=_translate)

    download = commands.add_parser(
        "download",
        help="download a public pix2pix/CycleGAN data set, or the FID Inception-v3 weights "
        "(inception), by name (never done implicitly)",
    )
    download.add_argument("name", nargs="?", help="data set or file name (omit to list them)")
    download.add_argument(
        "--root",
        help="folder to put it in (default: data for data sets; for files $GANKIT_CACHE, else "
        "~/.cache/gankit, where gankit looks for them)",
    )
    download.set_defaults(handler=_download)

    info = commands.add_parser("info", help="describe a run directory")
    info.add_argument("run", help="run directory")
    info.set_defaults(handler=_info)

    doctor = commands.add_parser(
        "doctor",
        help="diagnose a run: named failure modes with evidence and remedy",
        description="Replay the training-health rules (gankit.diagnose) over RUN/metrics.jsonl "
        "and print each verdict. Exit status 0: healthy, 1: warnings, 3: failed, 2: bad input.",
    )
    doctor.add_argument("run", help="run directory")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(handler=_doctor)

    evaluate = commands.add_parser(
        "eval",
        help="sample-quality metrics of a run, with their provenance (writes RUN/eval.json)",
    )
    evaluate.add_argument("run", help="run directory")
    evaluate.add_argument(
        "--metrics",
        help="comma-separated from fid,kid,pr,dc,is,classes,cacc,cfid,mem (default: all the "
        "extractor can compute but mem, the memorisation check, which needs a run trained on "
        "data.split=train; the others are named on stderr with why)",
    )
    evaluate.add_argument(
        "--extractor",
        choices=("digits", "inception", "folder"),
        help="features: the shipped digit classifier, the standard FID Inception-v3 (`gankit "
        "download inception` or --inception-weights), or the folder evaluator trained once "
        "on the run's own images into RUN/evaluator (default: digits for the embedded digit "
        "sets, folder for other images)",
    )
    evaluate.add_argument(
        "--inception-weights",
        metavar="PATH",
        help="the pytorch-fid Inception-v3 weights file (default: $GANKIT_INCEPTION_WEIGHTS, "
        "else where `gankit download inception` puts it)",
    )
    evaluate.add_argument("--samples", type=int, help="generated samples per seed")
    evaluate.add_argument("--seeds", type=int, default=1, help="z seeds 0..N−1: mean ± std")
    _threads_option(evaluate)
    evaluate.add_argument("-o", "--output", help="where to write (default: RUN/eval.json)")
    evaluate.add_argument(
        "--compare", metavar="EVAL_JSON", help="an earlier eval.json: warn where they differ"
    )
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bars")
    evaluate.set_defaults(handler=_eval)

    estimate = commands.add_parser(
        "estimate",
        help="estimate a divergence between two sample sets (trained critics or neighbours)",
        description="Estimate D(A‖B) by training critics on samples of A and B and "
        "evaluating their bound on held-out samples, or (kl, reverse_kl in 1-D and 2-D) from "
        "nearest-neighbour distances. A and B are sample files (.npy, .npz, .pt, .csv, .txt; "
        "one sample per row), run directories (samples of the generator) or data sources "
        "(NAME or NAME:KEY=VALUE,…, e.g. normal1d:mean=2).",
    )
    estimate.add_argument("a", help="samples of P")
    estimate.add_argument("b", help="samples of Q")
    estimate.add_argument(
        "--divergence",
        "-d",
        default="js",
        help="js, kl, reverse_kl, hellinger, pearson, neyman, tv or w1 (default: js)",
    )
    estimate.add_argument(
        "--samples", type=int, default=20_000, help="samples drawn from a source or a run"
    )
    estimate.add_argument("--holdout", type=float, default=0.25, help="held-out fraction")
    estimate.add_argument("--steps", type=int, default=2_000, help="critic training steps")
    estimate.add_argument(
        "--method",
        default="auto",
        help="auto (nearest neighbours for kl and reverse_kl in 1-D and 2-D, critics "
        "otherwise), critic or knn (kl, reverse_kl, pearson, neyman, hellinger)",
    )
    estimate.add_argument(
        "--critics",
        type=int,
        help="critics trained on bootstrap resamples, whose spread enters the interval "
        "(default: 5 for kl, reverse_kl, hellinger, pearson, neyman; 3 for js, tv, w1)",
    )
    estimate.add_argument("--seed", type=_seed, default=0)
    estimate.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    estimate.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    estimate.add_argument("--no-progress", action="store_true", help="no progress bar")
    estimate.set_defaults(handler=_estimate)

    lab = commands.add_parser(
        "lab",
        help="run an executable-theory experiment (--list to see them)",
        description="Run one lab experiment: it prints its numbers and writes "
        "OUT/NAME.png and OUT/NAME.json.",
    )
    lab.add_argument("name", nargs="?", help="experiment name")
    lab.add_argument("--list", action="store_true", help="list the experiments")
    lab.add_argument("--out", default="lab", help="folder for the figure and numbers")
    lab.add_argument("--seed", type=_seed, default=0)
    lab.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an experiment option (repeatable), e.g. --set steps=500",
    )
    lab.add_argument("--no-progress", action="store_true", help="no progress bars")
    lab.set_defaults(handler=_lab)
    make_data = commands.add_parser(
        "make-data",
        help="write a data set that gankit draws itself as a folder of PNG files",
        description="Write coloured shapes (circle, square, triangle, cross; gankit.data."
        "shapes) as FOLDER/<shape>/000042.png, one sub-folder per class, for the folder "
        "presets: gankit train folder-32 --set data.path=FOLDER.",
    )
    make_data.add_argument("name", choices=("shapes",), help="the data set (shapes)")
    make_data.add_argument("folder", help="a new or empty folder to write into")
    make_data.add_argument("--count", type=_positive, default=3000, help="images (default: 3000)")
    make_data.add_argument("--size", type=_positive, default=32, help="side in pixels (default 32)")
    make_data.add_argument("--seed", type=_seed, default=0, help="seed of the images (default: 0)")
    make_data.add_argument("--no-progress", action="store_true", help="no progress bar")
    make_data.set_defaults(handler=_make_data)
    dashboard = commands.add_parser(
        "dashboard",
        help="a local web app over a folder of runs: live status, curves, samples, config",
        description="Serve the dashboard of the run directories under RUNS_DIR (read-only) "
        "until Ctrl-C. Bound to 127.0.0.1 unless --host says otherwise.",
    )
    dashboard.add_argument(
        "runs_dir", nargs="?", default="runs", metavar="RUNS_DIR", help="default: runs"
    )
    dashboard.add_argument(
        "--port", type=_port, default=8787, help="TCP port (default: 8787; 0: a free one)"
    )
    dashboard.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)"
    )
    dashboard.set_defaults(handler=_dashboard)
    playground = commands.add_parser(
        "playground",
        help="GAN Lab in the browser: train toy GANs live with gankit's Trainer, step by step",
        description="Serve the playground until Ctrl-C: one live training session per browser "
        "tab (1-D and 2-D toy data, every objective and regulariser, theory scenes), "
        "exported as gankit YAML or a run directory. Bound to 127.0.0.1 unless --host "
        "says otherwise.",
    )
    playground.add_argument(
        "--port", type=_port, default=8788, help="TCP port (default: 8788; 0: a free one)"
    )
    playground.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine)"
    )
    playground.add_argument(
        "--runs-dir", default="runs", help="where exported runs go (default: runs)"
    )
    playground.add_argument(
        "--idle-minutes",
        type=_minutes,
        default=10.0,
        help="stop a session after this many minutes without a request from its tab (default 10)",
    )
    playground.add_argument(
        "--max-sessions",
        type=_positive,
        default=8,
        help="sessions (browser tabs) at once; more are refused (default: 8)",
    )
    playground.set_defaults(handler=_playground)
    _latent_commands(commands)
    return parser


def _threads_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--threads",
        type=_positive,
        metavar="N",
        help="CPU threads for torch (default: OMP_NUM_THREADS if set, else the cores the "
        "machine's load average leaves idle, at most the physical cores, at least 1)",
    )


class _OneLineErrors(argparse.ArgumentParser):
    """argparse whose usage errors are one line, as every other gankit error is."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"error: {message} (see `{self.prog} --help`)\n")


SEED_LIMIT = 2**63 - 1


def _seed(text: str) -> int:
    """A seed: an integer from 0 to 2**63 − 1 (what torch's generators accept)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: give an integer") from None
    if not 0 <= value <= SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"seed {value} is outside 0 … 2**63 − 1")
    return value


def _positive(text: str) -> int:
    """A count of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: give an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _port(text: str) -> int:
    """A TCP port, 0 … 65535 (0: the system picks a free one)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return value


def _minutes(text: str) -> float:
    """A number of minutes above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid minutes {text!r}: give a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"minutes {text} must be a positive number")
    return value


def _threshold(text: str) -> float:
    """A truncation threshold: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid threshold {text!r}: give a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"threshold {text} must be a positive number")
    return value


def _overrides(args: argparse.Namespace) -> list[str]:
    overrides = list(args.overrides)
    if args.steps is not None:
        overrides.append(f"train.steps={args.steps}")
    if args.device is not None:
        overrides.append(f"device={args.device}")
    return overrides


def _train(args: argparse.Namespace) -> int:
    from gankit.api import resume, train
    from gankit.config import resolve, warn_inert
    from gankit.threads import set_threads
    from gankit.train.callbacks import PlainLog, StartLine
    from gankit.train.distributed import Ranks

    overrides = _overrides(args)
    if args.resume and (args.preset or args.dry_run):
        raise _usage("--resume takes its config from the run; give no preset or --dry-run")
    if args.dry_run:
        config = resolve(args.preset, overrides)
        _dry_run(config)
        warn_inert(config)
        return 0
    threads = set_threads(args.threads)
    # --no-progress: plain log lines instead of the bar
    report = PlainLog(threads) if args.no_progress else StartLine(threads)
    if args.resume:
        run = resume(
            args.resume,
            overrides,
            allow_config_change=args.allow_config_change,
            callbacks=[report],
            progress=not args.no_progress,
        )
    else:
        run = train(
            args.preset,
            overrides,
            run_dir=args.run_dir,
            runs_root=args.runs_root,
            callbacks=[report],
            progress=not args.no_progress,
        )
    if not Ranks.current().is_main:  # rank 0 reports for the run
        return EXIT_INTERRUPTED if run.status == "interrupted" else 0
    _print_summary(run.dir.summary_path)
    if run.status == "interrupted":
        print(f"resume with: gankit train --resume {run.path}", file=sys.stderr)
        summary = json.loads(run.dir.summary_path.read_text())
        return EXIT_SIGTERM if summary.get("signal") == "SIGTERM" else EXIT_INTERRUPTED
    return 0


def _dry_run(config) -> None:
    import torch

    from gankit.data import build_source
    from gankit.devices import select_device
    from gankit.nets import count_parameters
    from gankit.train.build import build_networks, data_info
    from gankit.train.memory import check_memory

    print(config.to_yaml(), end="")
    device = select_device(config.device)
    source = build_source(config.data)
    info = data_info(config, source)
    check_memory(config, info, device)  # before building networks that cannot fit
    torch.manual_seed(config.seed)
    networks = build_networks(config, info)
    print(f"# device: {device}")
    print(f"# data: {source.kind} of shape {tuple(source.shape)}")
    for name, network in networks.items():
        print(f"# {name} parameters: {count_parameters(network):,}")
    field = getattr(networks["discriminator"], "receptive_field", None)
    if field is not None:
        print(f"# discriminator receptive field: {field}×{field} pixels per patch logit")


def _sample(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.threads import set_threads

    if args.n < 1:
        raise _usage("-n must be at least 1")
    set_threads(args.threads)
    run = load(args.run, checkpoint=args.checkpoint)
    _warn_skipped(run)
    label = None if args.label is None else _label(run, args.label)
    folder = args.output.endswith(("/", os.sep)) or Path(args.output).expanduser().is_dir()
    if folder and run.data_info.get("kind") != "points":  # points: save_samples refuses
        from gankit.latent.sample_files import save_sample_files

        save_sample_files(
            run,
            args.output,
            args.n,
            args.seed,
            label,
            args.truncation,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
        path = Path(args.output).expanduser()
    else:
        path = run.save_samples(
            args.output,
            n=args.n,
            seed=args.seed,
            label=label,
            progress=not args.no_progress,
            truncation=args.truncation,
        )
    of_class = ""
    if label is not None:
        index = run.class_index(label)
        names = run.class_names
        of_class = f" of class {names[index]} ({index})" if names else f" of class {index}"
    truncated = "" if args.truncation is None else f", z truncated at {args.truncation:g}"
    print(
        f"wrote {args.n} samples{of_class} of {run.path} (step {run.step}, "
        f"{run.checkpoint.name}{truncated}) to {path}"
    )
    return 0


def _label(run, text: str) -> int | str:
    """``--label``: a class name of the run, else an index given as digits, else the text
    (which the run refuses, naming its classes)."""
    names = run.class_names or []
    if text in names or not text.strip().lstrip("+-").isdigit():
        return text
    return int(text)


def _warn_skipped(run) -> None:
    """Say on stderr which newer checkpoints were unloadable, and which one was used."""
    for line in run.checkpoint_warnings():
        print(f"warning: {line}", file=sys.stderr)


def _translate(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.translate import input_half, translate_path

    run = load(args.run, checkpoint=args.checkpoint)
    _warn_skipped(run)
    written = translate_path(
        run,
        args.input,
        args.output,
        args.direction,
        args.seed,
        not args.no_dropout,
        overwrite=args.overwrite,
        split_ab=args.split_ab,
    )
    where = written[0] if len(written) == 1 else Path(args.output)
    halves = ""
    if args.split_ab:
        halves = f" (the {input_half(run, args.direction)} half of each A|B pair)"
    print(
        f"translated {len(written)} image(s){halves} {args.direction} with {run.path} "
        f"({run.checkpoint.name}): wrote {len(written)} file(s) to {where}"
    )
    return 0


def _download(args: argparse.Namespace) -> int:
    from gankit.data.downloads import (
        PUBLIC_DATASETS,
        PUBLIC_FILES,
        cached_file,
        download_dataset,
        download_file,
    )

    if args.name is None:
        entries = [(n, e.kind, e.description) for n, e in PUBLIC_DATASETS.items()]
        entries += [(n, "weights", e.description) for n, e in PUBLIC_FILES.items()]
        width = max(len(name) for name, _, _ in entries)
        for name, kind, description in entries:
            print(f"{name:<{width}}  {kind:<8} {description}")
        return 0
    if args.name in PUBLIC_FILES:
        path = download_file(args.name, args.root)
        found = (
            "finds it there"
            if path == cached_file(args.name)
            else f"needs --inception-weights {path}"
        )
        print(
            f"{args.name}: {path} (sha256 {PUBLIC_FILES[args.name].sha256} verified); "
            f"`gankit eval RUN --extractor inception` {found}"
        )
        return 0
    folder = download_dataset(args.name, args.root or "data")
    kind = PUBLIC_DATASETS[args.name].kind
    key = "aligned --set data.path" if kind == "aligned" else "unpaired_folders --set data.path"
    print(f"{args.name} is in {folder}; train on it with --set data.name={key}={folder}/…")
    return 0


def _make_data(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from gankit.data.shapes import SHAPES, ShapesOptions, write_shapes

    try:
        options = ShapesOptions(count=args.count, size=args.size, seed=args.seed)
    except ValidationError as err:
        first = err.errors()[0]
        raise _usage(f"--{first['loc'][0]} {first['input']}: {first['msg']}") from None
    written = write_shapes(
        args.folder, options.count, options.size, options.seed, progress=not args.no_progress
    )
    preset = "folder-32" if options.size <= 32 else "folder-64"
    print(
        f"wrote {len(written)} {options.size}×{options.size} images of {', '.join(SHAPES)} "
        f"(seed {options.seed}) to {args.folder}, one sub-folder per shape; train on them with "
        f"`gankit train {preset} --set data.path={args.folder}`"
    )
    return 0


def _presets(args: argparse.Namespace) -> int:
    from gankit.config import DEFAULT_PRESET, list_presets

    entries = list_presets()
    width = max(len(name) for name, _ in entries)
    for name, summary in entries:
        mark = " (default)" if name == DEFAULT_PRESET else ""
        print(f"{name:<{width}}  {summary}{mark}")
    return 0


DOCTOR_EXIT = {"ok": 0, "warning": 1, "failed": 3}
"""``gankit doctor``'s exit status for a run's worst verdict."""


def _doctor(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from gankit.diagnose import worst_severity
    from gankit.train.diagnosis import diagnose_run
    from gankit.train.rundir import RunDir

    run = RunDir.open(args.run)
    changes, active = diagnose_run(run)
    severity = worst_severity(changes)
    if args.json:
        report = {
            "run": str(run.path),
            "severity": severity,
            "verdicts": [asdict(v) for v in changes],
            "active": [asdict(v) for v in active],
        }
        print(json.dumps(report, indent=2))
        return DOCTOR_EXIT[severity]
    if not changes:
        print(f"{run.path}: healthy (no failure mode fired)")
    for verdict in changes:
        print(f"step {verdict.step}  {verdict.mark} ({verdict.severity})")
        if verdict.severity != "ok":
            print(f"  evidence: {verdict.evidence}\n  remedy:   {verdict.remedy}")
    now = ", ".join(v.mark for v in active) or "healthy"
    print(f"now: {now}; worst: {severity}")
    return DOCTOR_EXIT[severity]


def _info(args: argparse.Namespace) -> int:
    import yaml

    from gankit.train.checkpoint import CheckpointError, list_checkpoints, load_checkpoint
    from gankit.train.rundir import RunDir
    from gankit.train.status import describe_status, read_status

    def name_of(config: dict, section: str) -> str:
        value = config.get(section)
        return str(value.get("name", "?")) if isinstance(value, dict) else "?"

    run = RunDir.open(args.run)
    entries, data = [], None
    for path in list_checkpoints(run.checkpoints_dir):
        try:
            checkpoint = load_checkpoint(path)  # verifies state.json and the tensors' hashes
            entries.append(path.name)
            data = checkpoint.state.get("data")  # what the newest loadable one trained on
        except CheckpointError as err:
            reason = str(err).removeprefix(f"{path}: ").removeprefix(f"{path}/")
            entries.append(f"{path.name} (unloadable: {reason})")
    print(f"run         {run.path}")
    try:
        config = yaml.safe_load(run.config_path.read_text(encoding="utf-8"))
        problem = None if isinstance(config, dict) else "not a mapping"
    except (OSError, ValueError, yaml.YAMLError) as err:
        mark = getattr(err, "problem_mark", None)
        problem = " ".join(str(getattr(err, "problem", None) or err).split())
        if mark is not None:
            problem += f" at line {mark.line + 1}, column {mark.column + 1}"
        config = None
    if problem is not None:
        print(f"config      unreadable ({run.config_path.name}: {problem})")
    else:
        print(f"preset      {config.get('preset')}")
        task = config.get("task", "unconditional")  # a section; a name in format 1
        print(f"task        {task.get('name') if isinstance(task, dict) else task}")
        print(f"data        {_describe_data(config.get('data'), data)}")
        print(f"networks    G={name_of(config, 'generator')} D={name_of(config, 'discriminator')}")
        print(f"objective   {name_of(config, 'objective')}")
    print(f"checkpoints {', '.join(entries) or 'none'}")
    _print_classes(data)
    status = read_status(run.status_path)
    if status is not None:
        print(f"state       {describe_status(status)}")
    _print_summary(run.summary_path)
    return 0


def _describe_data(section, data) -> str:
    """What a run trained on, for ``gankit info``: the ``data:`` section's name, where
    the data is and its size, and from a checkpoint's data record the shape, channels
    and classes: ``folder (path my_images): 64×64 images, 3 channels, classes not used``."""
    if not isinstance(section, dict):
        return "?"
    where = [
        f"{key} {section[key]}"
        for key in ("path", "images", "labels", "inputs", "targets")
        if isinstance(section.get(key), str)
    ]
    line = str(section.get("name", "?")) + (f" ({', '.join(where)})" if where else "")
    shape = data.get("shape") if isinstance(data, dict) else None
    if not isinstance(shape, list) or not shape:  # no checkpoint yet: the config's size
        size = section.get("size")
        return line + (f": size {size}" if isinstance(size, int) else "")
    if len(shape) == 3:
        facts = [f"{shape[1]}×{shape[2]} images", _channels(shape[0])]
        given = data.get("input_shape")
        if isinstance(given, list) and len(given) == 3:
            facts.append(f"inputs {given[1]}×{given[2]} with {_channels(given[0])}")
    else:
        facts = [f"{'×'.join(map(str, shape))}-D points"]
    classes, names = data.get("classes") or 0, data.get("class_names")
    if classes and isinstance(names, list) and names:
        shown = ", ".join(map(str, names[:5])) + (", …" if len(names) > 5 else "")
        facts.append(f"{classes} classes ({shown})")
    else:
        facts.append(f"{classes} classes" if classes else "classes not used")
    return f"{line}: {', '.join(facts)}"


CLASS_NAMES_SHOWN = 20


def _print_classes(data) -> None:
    """The ``classes`` line of ``gankit info`` for a conditional run: each label's index
    and name, as ``gankit sample --label`` takes them, from its newest loadable checkpoint."""
    classes = data.get("classes") if isinstance(data, dict) else 0
    if not classes:
        return
    names = data.get("class_names")
    if names:
        shown = ", ".join(f"{i} {name}" for i, name in enumerate(names[:CLASS_NAMES_SHOWN]))
        more = len(names) - CLASS_NAMES_SHOWN
        shown += f" and {more} more" if more > 0 else ""
    else:
        shown = f"0–{classes - 1} (this checkpoint, of an earlier gankit, stores no names)"
    print(f"classes     {shown}")


def _channels(count) -> str:
    return f"{count} channel{'s' * (count != 1)}"


def _eval(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.evaluate import (
        EVAL_FILE,
        evaluate,
        provenance_differences,
        read_evaluation,
        write_evaluation,
    )
    from gankit.files import check_output
    from gankit.threads import set_threads

    if args.seeds < 1:
        raise _usage("--seeds must be at least 1")
    set_threads(args.threads)
    run = load(args.run)
    _warn_skipped(run)
    # refuse an output that cannot be written, or a --compare that cannot be read, up front
    output = check_output(args.output or Path(args.run) / EVAL_FILE)
    earlier = read_evaluation(args.compare) if args.compare else None
    result = evaluate(
        run,
        args.metrics.split(",") if args.metrics else None,
        samples=args.samples,
        seeds=range(args.seeds),
        extractor=args.extractor,
        inception_weights=args.inception_weights,
        progress=not args.no_progress,
    )
    path = write_evaluation(result, output)
    provenance = result["provenance"]
    if "real" in provenance:
        extractor = provenance["extractor"]
        if extractor == "folder":
            model = provenance["extractor_model"]
            score = "view retrieval" if model.startswith("SimCLR") else "accuracy"
            extractor = (
                f"folder evaluator {provenance['extractor_path']} ({model}, held-out "
                f"{score} {provenance['extractor_accuracy']:.3f})"
            )
        against = f"{provenance['real']['count']} real ({provenance['real']['split']}), {extractor}"
    else:  # a translation run: its held-out inputs
        against = f"{provenance['inputs']['source']} inputs ({provenance['inputs']['split']})"
    print(
        f"{provenance['run']} at step {provenance['checkpoint_step']} "
        f"({provenance['checkpoint']}): "
        f"{provenance['generated']['count_per_seed']} generated × {args.seeds} seed(s) vs "
        f"{against}"
    )
    if provenance.get("extractor_standard_weights") is False:
        print(
            "warning: these Inception-v3 weights are not the standard FID file; the numbers "
            "are not comparable with published FIDs",
            file=sys.stderr,
        )
    skipped = provenance.get("skipped_metrics")
    if skipped:
        reasons: dict[str, list[str]] = {}
        for name, reason in skipped.items():
            reasons.setdefault(reason, []).append(name)
        shown = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in reasons.items())
        print(f"note: not computed: {shown}", file=sys.stderr)
    for name, value in result["metrics"].items():
        spread = f" ± {value['std']:.4f}" if args.seeds > 1 else ""
        print(f"  {name:<20} {value['mean']:.4f}{spread}")
    print(f"wrote {path}")
    if earlier is not None:
        for line in provenance_differences(result, earlier):
            print(f"warning: computed differently from {args.compare}: {line}", file=sys.stderr)
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from gankit.data.samples import resolve_samples
    from gankit.estimate import (
        COMMAND_LINE_CRITICS,
        DIVERGENCES,
        MAX_SEED,
        METHODS,
        RATIO_DIVERGENCES,
        check_estimate_memory,
        estimate,
    )
    from gankit.metrics.divergences import exact_reference

    problems = []
    if args.divergence not in DIVERGENCES:
        problems.append(f"--divergence {args.divergence!r} is not one of: {', '.join(DIVERGENCES)}")
    if args.method not in METHODS:
        problems.append(f"--method {args.method!r} is not one of: {', '.join(METHODS)}")
    if args.samples < 4:
        problems.append(f"--samples must be at least 4, got {args.samples}")
    if args.steps < 1:
        problems.append(f"--steps must be at least 1, got {args.steps}")
    if not 0 < args.holdout < 1:
        problems.append(f"--holdout must lie strictly between 0 and 1, got {args.holdout}")
    if not 0 <= args.seed <= MAX_SEED:
        problems.append(f"--seed must lie in 0 … 2**64 − 1, got {args.seed}")
    if args.critics is not None and args.critics < 1:
        problems.append(f"--critics must be at least 1, got {args.critics}")
    if problems:
        raise _usage("; ".join(problems))
    p = resolve_samples(args.a, args.seed)
    q = resolve_samples(args.b, (args.seed + 1) % (MAX_SEED + 1))
    critics = args.critics
    if critics is None and args.divergence not in RATIO_DIVERGENCES:
        critics = COMMAND_LINE_CRITICS
    options = {"method": args.method, "samples": args.samples, "critics": critics}
    check_estimate_memory(p, q, args.divergence, **options, option="--samples")
    result = estimate(
        p,
        q,
        args.divergence,
        **options,
        holdout=args.holdout,
        steps=args.steps,
        seed=args.seed,
        device=args.device,
        progress=not args.no_progress,
    )
    print(result)
    exact = exact_reference(p, q, args.divergence)
    if exact is not None:
        print(f"exact value (quadrature): {exact:.4f}")
    if args.json:
        record = result.to_dict() | {"a": args.a, "b": args.b, "exact": exact}
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from gankit.app.dashboard import make_server

    root = Path(args.runs_dir)
    if not root.is_dir():
        return _fail(f"runs folder '{root}' does not exist")
    return _serve(
        lambda: make_server(root, args.host, args.port), args, f"gankit dashboard of {root}"
    )


def _playground(args: argparse.Namespace) -> int:
    from gankit.app.playground import make_server

    return _serve(
        lambda: make_server(
            args.host, args.port, args.runs_dir, args.idle_minutes, args.max_sessions
        ),
        args,
        "gankit playground",
    )


def _serve(start: Callable[[], Any], args: argparse.Namespace, title: str) -> int:
    """Start a web app's server (``start()``), print its URL and serve until Ctrl-C; a
    port that cannot be bound is one error line (exit 2)."""
    try:
        server = start()
    except OSError as err:
        return _fail(
            f"cannot serve on {args.host}:{args.port} ({err.strerror or err}): "
            "choose another --port, or --port 0 for a free one"
        )
    print(f"{title} at {server.url} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def _lab(args: argparse.Namespace) -> int:
    from gankit.config import parse_override
    from gankit.lab import EXPERIMENTS, run_experiment

    if args.list or not args.name:
        width = max(len(entry.name) for entry in EXPERIMENTS)
        for entry in EXPERIMENTS:
            print(f"{entry.name:<{width}}  {entry.summary}")
        return 0
    options = dict(parse_override(text) for text in args.options)
    result = run_experiment(
        args.name, out_dir=args.out, seed=args.seed, progress=not args.no_progress, **options
    )
    print(result)
    return 0


def _latent_commands(commands) -> None:
    """interpolate, neighbours, export, project: tools for a trained run's latent space."""
    interpolate = commands.add_parser(
        "interpolate",
        help="images along paths between latent vectors: a grid (rows = paths) or a GIF",
        description="Walk between z vectors: random pairs (--paths, --seed), the z of two "
        "`gankit sample --seed S -n 1` (--from-seed/--to-seed), or key points from .npy files "
        "(--z, e.g. what `gankit project` writes). A conditional run gets one row per class "
        "along each path, or --label.",
    )
    interpolate.add_argument("run", help="run directory")
    interpolate.add_argument(
        "-o",
        "--output",
        required=True,
        help=".png/.jpg/.jpeg: a grid, a row per path and a column per step (a plot of the "
        "paths for a run of points); .gif: an animation, one frame per step",
    )
    interpolate.add_argument(
        "--paths", type=_positive, help="random paths from --seed (default: 4)"
    )
    interpolate.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seed of the random ends: path i runs from sample 2i to sample 2i+1 of `gankit "
        "sample -n 2·paths --seed SEED`",
    )
    interpolate.add_argument(
        "--from-seed",
        type=_seed,
        metavar="A",
        help="start at the z of `gankit sample --seed A -n 1`",
    )
    interpolate.add_argument(
        "--to-seed", type=_seed, metavar="B", help="end at the z of `gankit sample --seed B -n 1`"
    )
    interpolate.add_argument(
        "--z",
        nargs="+",
        metavar="FILE.npy",
        help="key points z0, z1, … from .npy files of shape (k, noise.dim) or (noise.dim,), "
        "joined in order; path i runs from z_i to z_i+1",
    )
    interpolate.add_argument(
        "--steps",
        type=_positive,
        help="points along each path, ends included: the grid's columns or the GIF's frames "
        "(default: 8 for a grid, 32 for a GIF)",
    )
    interpolate.add_argument(
        "--method",
        choices=("slerp", "lerp"),
        help="spherical or linear (default: slerp for a normal prior, lerp for a uniform one)",
    )
    interpolate.add_argument("--label", help="class of a conditional run (default: every class)")
    interpolate.add_argument(
        "--truncation", type=_threshold, metavar="T", help="truncation of the random z (as sample)"
    )
    interpolate.add_argument("--fps", type=float, default=12.0, help="GIF frames per second")
    interpolate.add_argument(
        "--bounce", action="store_true", help="GIF: go back along the path too (a seamless loop)"
    )
    interpolate.add_argument("--checkpoint", help="a checkpoint folder of this run, or its name")
    _threads_option(interpolate)
    interpolate.set_defaults(handler=_interpolate)

    neighbours = commands.add_parser(
        "neighbours",
        help="generated samples beside their nearest training images (is G copying?)",
    )
    neighbours.add_argument("run", help="run directory")
    neighbours.add_argument("-o", "--output", default="neighbours.png", help="the panel (.png)")
    neighbours.add_argument("-n", type=_positive, default=8, help="samples, one per row")
    neighbours.add_argument("-k", type=_positive, default=5, help="neighbours per sample")
    neighbours.add_argument("--seed", type=_seed, default=0, help="seed of z")
    neighbours.add_argument("--label", help="class of a conditional run (default: in turn)")
    neighbours.add_argument("--truncation", type=_threshold, metavar="T")
    neighbours.add_argument(
        "--pixels-only",
        action="store_true",
        help="pixel distances only, even where a shipped digit classifier's features exist",
    )
    neighbours.add_argument("--checkpoint", help="a checkpoint folder of this run, or its name")
    _threads_option(neighbours)
    neighbours.set_defaults(handler=_neighbours)

    export = commands.add_parser(
        "export", help="the sampler (EMA G) as an ONNX file or a torch.export program"
    )
    export.add_argument("run", help="run directory")
    export.add_argument(
        "-o",
        "--output",
        required=True,
        help="generator.onnx (needs `pip install 'gankit[export]'`) or generator.pt2 "
        "(torch.export); replaced if it exists",
    )
    export.add_argument(
        "--no-check", action="store_true", help="do not run the written file against the run"
    )
    export.add_argument("--checkpoint", help="a checkpoint folder of this run, or its name")
    _threads_option(export)
    export.set_defaults(handler=_export)

    project = commands.add_parser(
        "project", help="GAN inversion: the z whose image is nearest to a given image"
    )
    project.add_argument("run", help="run directory of an image run")
    project.add_argument("image", help="the image (.png, .jpg, .jpeg), resized to the run's size")
    project.add_argument(
        "-o",
        "--output",
        default="projected.png",
        help="the reconstruction; a .json report and the z (.npy) are written beside it "
        "(default: projected.png)",
    )
    project.add_argument("--steps", type=_positive, default=500, help="Adam steps")
    project.add_argument("--restarts", type=_positive, default=4, help="random starts")
    project.add_argument("--lr", type=float, default=0.05, help="Adam's learning rate")
    project.add_argument("--seed", type=_seed, default=0, help="seed of the starts")
    project.add_argument(
        "--label", help="class of a conditional run (default: try every class, keep the best)"
    )
    project.add_argument(
        "--noise",
        action="store_true",
        help="also optimise additive noise maps on G's layers below the image's size",
    )
    project.add_argument(
        "--noise-weight", type=float, default=1.0, help="penalty on the noise maps' mean square"
    )
    project.add_argument("--no-progress", action="store_true", help="no progress bar")
    project.add_argument("--checkpoint", help="a checkpoint folder of this run, or its name")
    _threads_option(project)
    project.set_defaults(handler=_project)


def _interpolate(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.latent import interpolate as walk
    from gankit.threads import set_threads

    kind = walk.output_kind(args.output)
    if kind == "animation":
        walk.check_fps(args.fps)
    ends_from_seeds = args.from_seed is not None or args.to_seed is not None
    if ends_from_seeds and (args.from_seed is None or args.to_seed is None):
        raise _usage("give both --from-seed and --to-seed")
    if sum([ends_from_seeds, args.z is not None, args.paths is not None]) > 1:
        raise _usage("choose one source of ends: --paths, --from-seed/--to-seed or --z")
    set_threads(args.threads)
    run = load(args.run, checkpoint=args.checkpoint)
    _warn_skipped(run)
    label = None if args.label is None else _label(run, args.label)
    if args.z is not None:
        if args.truncation is not None:
            raise _usage("--truncation applies to z drawn from seeds, not to --z files")
        start, end = walk.keypoint_endpoints(walk.read_latents(run, args.z))
    elif ends_from_seeds:
        start, end = walk.seed_endpoints(run, args.from_seed, args.to_seed, args.truncation)
    else:
        start, end = walk.random_endpoints(run, args.paths or 4, args.seed, args.truncation)
    points = run.data_info.get("kind") == "points"
    if points and kind == "animation":
        raise _usage(
            f"{run.path} generates points: an animation needs an image run; write a .png plot "
            "of the paths"
        )
    steps = args.steps or walk.DEFAULT_STEPS[kind]
    method = args.method or walk.default_method(run)
    images = walk.interpolate(run, start, end, steps, method, label)
    if points:
        path = walk.plot_paths(run, images, args.output)
    elif kind == "animation":
        columns = walk.grid_columns(run, label, len(images))
        path = walk.save_animation(images, args.output, args.fps, columns, args.bounce)
    else:
        path = walk.save_grid(images, args.output)
    print(
        f"wrote {len(start)} {method} path(s) of {steps} steps ({len(images)} row(s)) of "
        f"{run.path} (step {run.step}, {run.checkpoint.name}) to {path}"
    )
    return 0


def _neighbours(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.latent.neighbours import PICTURES, find_neighbours, save_panel
    from gankit.threads import set_threads

    if Path(args.output).suffix.lower() not in PICTURES:
        raise _usage(f"{args.output}: name a .png, .jpg or .jpeg file for the panel")
    set_threads(args.threads)
    run = load(args.run, checkpoint=args.checkpoint)
    _warn_skipped(run)
    label = None if args.label is None else _label(run, args.label)
    found = find_neighbours(
        run,
        k=args.k,
        n=args.n,
        seed=args.seed,
        label=label,
        truncation=args.truncation,
        features=not args.pixels_only,
    )
    title = f"{run.path.name} step {run.step}: {args.n} samples and their {args.k} nearest"
    path = save_panel(found, args.output, title)
    print(
        f"wrote {args.n} samples of {run.path} with their {args.k} nearest training images "
        f"(of {len(found.train)}) to {path}"
    )
    for space in found.spaces:
        first = space.distances[:, 0]
        print(
            f"  {space.description}: nearest at median {float(first.median()):.4g}, "
            f"min {float(first.min()):.4g}"
        )
    print("  a held-out test of copying: gankit eval RUN --metrics mem (data.split=train runs)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.latent.export import check_onnx_installed, export_format, export_sampler
    from gankit.threads import set_threads

    if export_format(args.output) == "onnx":
        check_onnx_installed()  # before loading the run
    set_threads(args.threads)
    run = load(args.run, checkpoint=args.checkpoint)
    _warn_skipped(run)
    done = export_sampler(run, args.output, check=not args.no_check)
    dim, shape = run.config.noise.dim, tuple(run.data_info.get("shape") or ())
    inputs = f"z (batch, {dim})" + (", label (batch,) int64" if run.classes else "")
    which = "G's moving average" if run.sampler is not run.generator else "G"
    print(
        f"exported {which} of {run.path} (step {run.step}, {run.checkpoint.name}) to "
        f"{done.path} ({done.format}): inputs {inputs}, output samples (batch, "
        f"{', '.join(map(str, shape))})"
    )
    if done.max_difference is not None:
        print(f"  checked: max |file − Run.sample| = {done.max_difference:.2g} on 5 z")
    elif not args.no_check:
        print("  not checked: onnxruntime is not installed (pip install 'gankit[export]')")
    return 0


def _project(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.latent.project import output_files, project, read_target, save_projection
    from gankit.threads import set_threads

    output_files(args.output)  # refuses a bad extension before any work
    set_threads(args.threads)
    run = load(args.run, checkpoint=args.checkpoint)
    _warn_skipped(run)
    label = None if args.label is None else _label(run, args.label)
    target, notes = read_target(run, args.image)
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    found = project(
        run,
        target,
        steps=args.steps,
        restarts=args.restarts,
        lr=args.lr,
        seed=args.seed,
        label=label,
        noise=args.noise,
        noise_weight=args.noise_weight,
        progress=not args.no_progress,
    )
    settings = {
        "image": str(args.image),
        "steps": args.steps,
        "restarts": args.restarts,
        "lr": args.lr,
        "seed": args.seed,
        "noise": args.noise,
        "noise_weight": args.noise_weight if args.noise else None,
        "notes": notes,
    }
    written = save_projection(run, found, args.output, settings)
    of_class = "" if found.label is None else f", class {found.label}"
    print(
        f"projected {args.image} onto {run.path} (step {run.step}{of_class}): MSE "
        f"{found.mse:.4g}, PSNR {found.psnr:.2f} dB in the data range [−1, 1] (random samples: "
        f"MSE {found.random_mse:.4g})"
    )
    print(f"  wrote {', '.join(str(p) for p in written.values())}")
    return 0


def _print_summary(path) -> None:
    """The summary.json lines of ``gankit info`` and ``gankit train``; a summary that cannot
    be read or lacks a field is reported in one line as unreadable."""

    def number(value) -> str:
        return "nan" if value is None else f"{value:.3f}"  # null: a non-finite value

    if not path.is_file():
        print("summary     none yet (the run has not finished a session)")
        return
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        last = summary.get("last_metrics") or {}
        lines = [
            f"status      {summary['status']} at step {summary['step']}/{summary['steps']} "
            f"in {summary['wall_seconds']:.0f} s on {summary['device']}"
        ]
        if last:
            shown = ", ".join(
                f"{k}={number(last[k])}"
                for k in ("d_loss", "g_loss", "d_real", "d_fake")
                if k in last
            )
            lines.append(f"last        {shown}")
        evaluation = summary.get("last_evaluation")
        if evaluation:
            shown = ", ".join(
                f"{key.removeprefix('eval/')}={number(value)}"
                for key, value in evaluation.items()
                if key.startswith("eval/")
            )
            lines.append(f"evaluation  step {evaluation['step']}: {shown}")
        lines.append(f"samples     {summary['final_samples']}")
        lines.append(f"checkpoint  {summary['checkpoint']}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        problem = f"no {err}" if isinstance(err, KeyError) else " ".join(str(err).split())
        print(f"summary     unreadable ({path.name}: {problem})")
        return
    print("\n".join(lines))


def _usage(message: str):
    from gankit.errors import GankitError

    return GankitError(message)


if __name__ == "__main__":
    sys.exit(main())
