"""The ``gankit`` command line: train, sample, presets, info.

gankit train                         the main job (DCGAN on the embedded MNIST-5k)
gankit train ring-2d --set train.steps=3000 --device cpu
gankit train --resume runs/ring-2d-20260101-120000
gankit sample RUN -n 64 -o grid.png [--truncation 0.7]
gankit presets
gankit info RUN
gankit eval RUN --metrics fid,kid,pr --seeds 3
gankit translate RUN INPUT -o OUTPUT
gankit download [NAME]
gankit estimate A B --divergence js  divergence between two sample sets (files, runs, sources)
gankit lab --list                    the executable-theory experiments
gankit lab optimal-d --out lab
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

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


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(
        prog="gankit", description="Train, measure and understand GANs."
    )
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
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
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
        "exists)",
    )
    sample.add_argument("--seed", type=_seed, default=0, help="seed of z")
    sample.add_argument(
        "--checkpoint",
        help="a checkpoint folder of this run, or its name (e.g. step_00000020) "
        "(default: the newest that loads)",
    )
    sample.add_argument("--no-progress", action="store_true", help="no progress bar")
    sample.add_argument(
        "--label",
        type=int,
        help="class of a conditional run (default: one class per row of the grid)",
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
    translate.set_defaults(handler=_translate)

    download = commands.add_parser(
        "download",
        help="download a public pix2pix/CycleGAN data set by name (never done implicitly)",
    )
    download.add_argument("name", nargs="?", help="data set name (omit to list them)")
    download.add_argument("--root", default="data", help="folder to put it in (default: data)")
    download.set_defaults(handler=_download)

    info = commands.add_parser("info", help="describe a run directory")
    info.add_argument("run", help="run directory")
    info.set_defaults(handler=_info)

    evaluate = commands.add_parser(
        "eval",
        help="sample-quality metrics of a run, with their provenance (writes RUN/eval.json)",
    )
    evaluate.add_argument("run", help="run directory")
    evaluate.add_argument(
        "--metrics",
        help="comma-separated from fid,kid,pr,dc,is,classes,mem (default: all the extractor "
        "offers but mem, the memorisation check, which needs a run trained on "
        "data.split=train; classes needs the digit classifier)",
    )
    evaluate.add_argument(
        "--extractor",
        choices=("digits", "inception"),
        default="digits",
        help="features: the shipped digit classifier (default) or the standard FID "
        "Inception-v3 (needs --inception-weights)",
    )
    evaluate.add_argument(
        "--inception-weights",
        metavar="PATH",
        help="the pytorch-fid Inception-v3 weights file (default: $GANKIT_INCEPTION_WEIGHTS)",
    )
    evaluate.add_argument("--samples", type=int, help="generated samples per seed")
    evaluate.add_argument("--seeds", type=int, default=1, help="z seeds 0..N−1: mean ± std")
    evaluate.add_argument("-o", "--output", help="where to write (default: RUN/eval.json)")
    evaluate.add_argument(
        "--compare", metavar="EVAL_JSON", help="an earlier eval.json: warn where they differ"
    )
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
    return parser


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
    from gankit.config import resolve

    overrides = _overrides(args)
    if args.resume:
        if args.preset or args.dry_run:
            raise _usage("--resume takes its config from the run; give no preset or --dry-run")
        run = resume(
            args.resume,
            overrides,
            allow_config_change=args.allow_config_change,
            progress=not args.no_progress,
        )
    elif args.dry_run:
        _dry_run(resolve(args.preset, overrides))
        return 0
    else:
        run = train(
            args.preset,
            overrides,
            run_dir=args.run_dir,
            runs_root=args.runs_root,
            progress=not args.no_progress,
        )
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

    if args.n < 1:
        raise _usage("-n must be at least 1")
    run = load(args.run, checkpoint=args.checkpoint)
    _warn_skipped(run)
    path = run.save_samples(
        args.output,
        n=args.n,
        seed=args.seed,
        label=args.label,
        progress=not args.no_progress,
        truncation=args.truncation,
    )
    of_class = "" if args.label is None else f" of class {args.label}"
    truncated = "" if args.truncation is None else f", z truncated at {args.truncation:g}"
    print(
        f"wrote {args.n} samples{of_class} of {run.path} (step {run.step}, "
        f"{run.checkpoint.name}{truncated}) to {path}"
    )
    return 0


def _warn_skipped(run) -> None:
    """Say on stderr which newer checkpoints were unloadable, and which one was used."""
    for line in run.checkpoint_warnings():
        print(f"warning: {line}", file=sys.stderr)


def _translate(args: argparse.Namespace) -> int:
    from gankit.api import load
    from gankit.translate import translate_path

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
    )
    where = written[0] if len(written) == 1 else Path(args.output)
    print(
        f"translated {len(written)} image(s) {args.direction} with {run.path} "
        f"({run.checkpoint.name}): wrote {len(written)} file(s) to {where}"
    )
    return 0


def _download(args: argparse.Namespace) -> int:
    from gankit.data.downloads import PUBLIC_DATASETS, download_dataset

    if args.name is None:
        width = max(len(name) for name in PUBLIC_DATASETS)
        for name, entry in PUBLIC_DATASETS.items():
            print(f"{name:<{width}}  {entry.kind:<8} {entry.description}")
        return 0
    folder = download_dataset(args.name, args.root)
    kind = PUBLIC_DATASETS[args.name].kind
    key = "aligned --set data.path" if kind == "aligned" else "unpaired_folders --set data.path"
    print(f"{args.name} is in {folder}; train on it with --set data.name={key}={folder}/…")
    return 0


def _presets(args: argparse.Namespace) -> int:
    from gankit.config import DEFAULT_PRESET, list_presets

    entries = list_presets()
    width = max(len(name) for name, _ in entries)
    for name, summary in entries:
        mark = " (default)" if name == DEFAULT_PRESET else ""
        print(f"{name:<{width}}  {summary}{mark}")
    return 0


def _info(args: argparse.Namespace) -> int:
    import yaml

    from gankit.train.checkpoint import CheckpointError, list_checkpoints, load_checkpoint
    from gankit.train.rundir import RunDir
    from gankit.train.status import describe_status, read_status

    def name_of(config: dict, section: str) -> str:
        value = config.get(section)
        return str(value.get("name", "?")) if isinstance(value, dict) else "?"

    run = RunDir.open(args.run)
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
        print(f"data        {name_of(config, 'data')}")
        print(f"networks    G={name_of(config, 'generator')} D={name_of(config, 'discriminator')}")
        print(f"objective   {name_of(config, 'objective')}")
    entries = []
    for path in list_checkpoints(run.checkpoints_dir):
        try:
            load_checkpoint(path)  # verifies state.json and the tensor files' hashes
            entries.append(path.name)
        except CheckpointError as err:
            reason = str(err).removeprefix(f"{path}: ").removeprefix(f"{path}/")
            entries.append(f"{path.name} (unloadable: {reason})")
    print(f"checkpoints {', '.join(entries) or 'none'}")
    status = read_status(run.status_path)
    if status is not None:
        print(f"state       {describe_status(status)}")
    _print_summary(run.summary_path)
    return 0


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

    if args.seeds < 1:
        raise _usage("--seeds must be at least 1")
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
        progress=True,
    )
    path = write_evaluation(result, output)
    provenance = result["provenance"]
    if "real" in provenance:
        against = (
            f"{provenance['real']['count']} real ({provenance['real']['split']}), "
            f"{provenance['extractor']}"
        )
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
        problems.append(
            f"--divergence {args.divergence!r} is not one of: {', '.join(DIVERGENCES)}"
        )
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
