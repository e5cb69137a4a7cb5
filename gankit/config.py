"""Typed, validated run configuration: presets (YAML in the package) + ``key=value`` overrides.

One source of defaults serves the Python API and the CLI: the pydantic models below. A
preset only states what differs from them. Unknown keys, wrong types, unknown names,
non-finite numbers (inf, nan) and integers beyond 64 bits fail with one line naming the
key and the allowed values (and the closest ones, for a typo).

A registry-backed section (``data``, ``generator``, ``discriminator``, ``objective``,
``train.g_optimizer``, ``train.d_optimizer``) given without a ``name`` is the default
component of that section, so ``--set train.g_optimizer.lr=0.001`` on a preset that does
not name an optimiser tunes the default Adam. Setting a key of a section that is off
(``null``, e.g. ``train.ema``) switches it on with the defaults of its other keys.

A YAML file extends a preset or another file with ``base: NAME``, merged the same way
(:func:`merge`); ``preset:`` is only the record gankit writes into a run's config.yaml.
"""

from __future__ import annotations

import difflib
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gankit.augment import AUGMENTS
from gankit.data import SOURCES
from gankit.errors import ConfigError
from gankit.nets import DISCRIMINATORS, GENERATORS
from gankit.objectives import OBJECTIVES
from gankit.objectives.regularisers import RegularisersOptions
from gankit.optim import OPTIMIZERS, AdamOptions
from gankit.registry import Registry, did_you_mean
from gankit.tasks import TASKS
from gankit.train.distributed import DistributedOptions

DEFAULT_PRESET = "dcgan-mnist"

MAX_INT = 2**63 - 1
"""The largest integer a config takes (torch and numpy store seeds and sizes in 64 bits)."""

MAX_DEPTH = 32
"""Deepest nesting of a config tree; the real one is 4 levels deep."""

MAX_NODES = 100_000
"""Most values in a config tree (guards against YAML alias bombs)."""


def _choice(registry: Registry) -> Any:
    """A pydantic field type accepting any registered options model, chosen by ``name``."""
    return Annotated[_members_union(registry), Field(discriminator="name")]


def _members_union(registry: Registry) -> Any:
    return Union[tuple(entry.options for entry in registry)]  # noqa: UP007


DataChoice = _choice(SOURCES)
GeneratorChoice = _choice(GENERATORS)
DiscriminatorChoice = _choice(DISCRIMINATORS)
ObjectiveChoice = _choice(OBJECTIVES)
OptimizerChoice = _choice(OPTIMIZERS)
TaskChoice = _choice(TASKS)
AugmentChoice = Annotated[
    Union[(*(entry.options for entry in AUGMENTS), None)],  # noqa: UP007
    Field(discriminator="name"),
]


class Section(BaseModel):
    """Base of the config's own sections: unknown keys, inf and nan are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NoiseOptions(Section):
    """The prior p_z that G pushes forward."""

    dim: int = Field(100, ge=1, description="Dimension of z.")
    distribution: Literal["normal", "uniform"] = Field(
        "normal", description="z ~ N(0, I) or z ~ U(−1, 1)^dim."
    )


class EMAOptions(Section):
    """An exponential moving average of G's weights, θ̄ ← β·θ̄ + (1 − β)·θ after every G
    step (Yazıcı et al. 2019); sampling uses it when present.

    β is ``decay``, or comes from a half-life h in images (Karras et al. 2019, 2020):
    β = 0.5^(B / h) for batch size B, so a step's weight in the average halves every h
    images. With ``rampup`` r, h at step t is min(h, r·t·B) — t·B images seen before the
    step — so early on, while G changes fast, the average forgets quickly (StyleGAN2-ADA:
    h = 10,000 images, r = 0.05); ``decay`` β stands for h = B·ln 0.5 / ln β there. β is a
    function of the step, so a resumed run continues the same average."""

    decay: float | None = Field(
        None, gt=0, lt=1, description="β, fixed (0.999 when half_life_images is not given)."
    )
    half_life_images: float | None = Field(
        None, gt=0, description="h: β = 0.5^(train.batch_size / h), instead of decay."
    )
    rampup: float | None = Field(
        None, gt=0, description="r: the half-life ramps up as min(h, r · images seen); null: off."
    )
    start: int = Field(0, ge=0, description="Step at which the average starts as a copy of G.")

    @model_validator(mode="after")
    def _one_rate(self) -> EMAOptions:
        if self.decay is not None and self.half_life_images is not None:
            raise ValueError("give decay or half_life_images, not both")
        return self

    def beta_at(self, step: int, batch_size: int) -> float:
        """β of the update after generator step ``step`` (counted from 0)."""
        decay = 0.999 if self.decay is None else self.decay
        if self.half_life_images is None and self.rampup is None:
            return decay
        half_life = self.half_life_images or batch_size * math.log(0.5) / math.log(decay)
        if self.rampup is not None:
            half_life = min(half_life, self.rampup * step * batch_size)
        return 0.5 ** (batch_size / max(half_life, 1e-8))


class CriticWarmupOptions(Section):
    """WGAN's extra critic updates (Arjovsky et al. 2017, official code): ``d_steps``
    critic updates for the first ``first`` generator steps and at every ``every``-th."""

    d_steps: int = Field(100, ge=1, description="Critic updates on a warm-up step.")
    first: int = Field(25, ge=0, description="Generator steps that all warm up.")
    every: int = Field(500, ge=1, description="Every this many generator steps warm up too.")


class LRDecayOptions(Section):
    """Constant learning rates until ``start``, then a linear decay to 0 at the last step
    (as CycleGAN, Zhu et al. 2017, schedules them)."""

    start: int = Field(0, ge=0, description="Generator step at which the decay begins.")


class TrainOptions(Section):
    """Algorithm 1 of Goodfellow et al. (2014) and its optimisers.

    Separate learning rates for G and D are the two time-scale update rule (TTUR,
    Heusel et al. 2017)."""

    steps: int = Field(2000, ge=1, description="Generator updates (iterations of Algorithm 1).")
    batch_size: int = Field(64, ge=1, description="m: samples per minibatch, real and fake.")
    d_steps: int = Field(1, ge=1, description="k: discriminator updates per generator update.")
    max_seconds: float | None = Field(
        None,
        gt=0,
        description="A wall-clock budget: training (over all sessions) ends at the first step "
        "boundary after this many seconds, with a checkpoint, as if `steps` had been reached.",
    )
    critic_warmup: CriticWarmupOptions | None = Field(
        None, description="More critic updates early and periodically (WGAN)."
    )
    g_optimizer: OptimizerChoice = Field(default_factory=AdamOptions)
    d_optimizer: OptimizerChoice = Field(default_factory=AdamOptions)
    ema: EMAOptions | None = Field(None, description="Moving average of G's weights.")
    lr_decay: LRDecayOptions | None = Field(
        None, description="Linear decay of both learning rates to 0 over the last steps."
    )
    precision: Literal["fp32", "bf16", "fp16"] = Field(
        "fp32",
        description="Number format of the forward passes (gankit.train.precision): fp32; bf16 "
        "or fp16 under torch.autocast, fp16 with a gradient scaler per player.",
    )
    compile: bool = Field(
        False,
        description="torch.compile the networks of the training step (slow first steps while "
        "it compiles; not with gradient_penalty, r1 or r2, which need double backward).",
    )

    def d_steps_at(self, step: int) -> int:
        """Discriminator updates in generator step ``step`` (counted from 0)."""
        warmup = self.critic_warmup
        if warmup is not None and (step < warmup.first or step % warmup.every == 0):
            return warmup.d_steps
        return self.d_steps

    def lr_factor_at(self, step: int) -> float:
        """The multiple of the configured learning rates in generator step ``step``."""
        decay = self.lr_decay
        if decay is None or step < decay.start:
            return 1.0
        return max(0.0, 1 - (step - decay.start) / max(self.steps - decay.start, 1))


class MLflowOptions(Section):
    """One MLflow run per gankit run (gankit.train.trackers; ``pip install 'gankit[mlflow]'``)."""

    tracking_uri: str | None = Field(
        None,
        description="MLflow's tracking URI, as MLflow takes it; null: the store an earlier "
        "session of this run used, else $MLFLOW_TRACKING_URI, else ./mlruns (a local file store).",
    )
    experiment: str = Field(
        "gankit", min_length=1, description="The MLflow experiment of the run (created if missing)."
    )


class WandbOptions(Section):
    """One Weights & Biases run per gankit run (gankit.train.trackers;
    ``pip install 'gankit[wandb]'``)."""

    project: str = Field("gankit", min_length=1, description="The W&B project.")
    entity: str | None = Field(None, description="The W&B team or user (null: your default).")
    mode: Literal["offline", "online"] = Field(
        "offline",
        description="offline: written under RUN/wandb/ only, for `wandb sync` later; online: "
        "sent to W&B as training goes (after `wandb login`).",
    )


class LogOptions(Section):
    every: int = Field(50, ge=1, description="Steps between metrics.jsonl lines.")
    tensorboard: bool = Field(True, description="Also write TensorBoard event files.")
    diagnosis: bool = Field(
        True,
        description="Name failure modes as training goes (gankit.diagnose): verdicts in "
        "metrics.jsonl and on the progress line.",
    )
    mlflow: MLflowOptions | None = Field(
        None, description="Also send records and sample grids to MLflow (off when null)."
    )
    wandb: WandbOptions | None = Field(
        None, description="Also send records and sample grids to Weights & Biases (off when null)."
    )


class SampleOptions(Section):
    every: int = Field(500, ge=0, description="Steps between sample images (0: only at the end).")
    count: int = Field(64, ge=1, description="Samples per grid/plot, from a fixed z.")


class CheckpointOptions(Section):
    every: int = Field(500, ge=0, description="Steps between checkpoints (0: only at the end).")
    keep: int = Field(3, ge=1, description="How many recent checkpoints to keep.")


class EvalOptions(Section):
    """In-training evaluation (:class:`gankit.train.evaluation.Evaluator`)."""

    every: int = Field(500, ge=1, description="Steps between evaluations.")
    metrics: list[str] = Field(
        ["fid", "classes"],
        min_length=1,
        description="fid, kid, pr, dc, is, classes, cacc, cfid (conditional runs), mem.",
    )
    samples: int = Field(1000, ge=10, description="Generated samples per evaluation (fixed z).")
    best: str | None = Field(
        "fid",
        description="Keep the checkpoint with the best value of this metric in "
        "checkpoints/best (null: none).",
    )

    @model_validator(mode="after")
    def _known(self) -> EvalOptions:
        from gankit.metrics.registry import METRICS, VALUES_OF, direction

        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; choose from {', '.join(METRICS)}")
        computed = [value for m in self.metrics for value in VALUES_OF[m]]
        if self.best is not None and self.best not in computed:
            raise ValueError(
                f"best={self.best!r} is not among the values computed: {', '.join(computed)}"
            )
        if self.best is not None and direction(self.best) is None:
            ranked = [value for value in computed if direction(value) is not None]
            raise ValueError(
                f"best={self.best!r} has no better side (a diagnostic); choose from "
                f"{', '.join(ranked) or '(none computed)'} or null"
            )
        return self


class Config(Section):
    """Everything that defines a run; saved as ``config.yaml`` in its run directory."""

    preset: str | None = Field(None, description="The preset this config started from.")
    seed: int = Field(
        0, ge=0, le=MAX_INT, description="Seeds weights, data order and noise (0 … 2**63 − 1)."
    )
    device: str = Field("auto", description="auto (cuda → mps → cpu), cpu, cuda, cuda:N or mps.")
    task: TaskChoice = Field(
        default_factory=lambda: TASKS.entry("unconditional").options(),
        description="The game and its options (gankit.tasks): unconditional G(z); "
        "conditional G(z, y) and D(x, y) for the data's class labels; paired: pix2pix on "
        "aligned (input, target) pairs; unpaired: CycleGAN between two domains.",
    )
    data: DataChoice = Field(default_factory=lambda: SOURCES.entry("mnist5k").options())
    noise: NoiseOptions = Field(default_factory=NoiseOptions)
    generator: GeneratorChoice = Field(default_factory=lambda: GENERATORS.entry("dcgan").options())
    discriminator: DiscriminatorChoice = Field(
        default_factory=lambda: DISCRIMINATORS.entry("dcgan").options()
    )
    objective: ObjectiveChoice = Field(
        default_factory=lambda: OBJECTIVES.entry("nonsaturating").options()
    )
    regularisers: RegularisersOptions = Field(default_factory=RegularisersOptions)
    augment: AugmentChoice = Field(
        None,
        description="Differentiable augmentation of real and generated images before D "
        "(gankit.augment): diffaugment (Zhao et al. 2020) or ada (Karras et al. 2020); "
        "off when null. Images only; sampling never augments.",
    )
    train: TrainOptions = Field(default_factory=TrainOptions)
    distributed: DistributedOptions = Field(
        default_factory=DistributedOptions,
        description="How the processes of a torchrun launch talk (gankit.train.distributed).",
    )
    log: LogOptions = Field(default_factory=LogOptions)
    samples: SampleOptions = Field(default_factory=SampleOptions)
    checkpoint: CheckpointOptions = Field(default_factory=CheckpointOptions)
    eval: EvalOptions | None = Field(
        None, description="Sample-quality metrics during training (off when null)."
    )

    @model_validator(mode="after")
    def _evaluable(self) -> Config:
        if self.eval is not None:
            from gankit.metrics.reference import classifier_for

            # refuses data no shipped classifier can judge
            classifier_for(self.data, self.eval.metrics)
        return self

    @model_validator(mode="after")
    def _augment_fits(self) -> Config:
        if self.augment is not None and not getattr(TASKS.get(self.task.name), "augments", False):
            raise ValueError(
                f"augment.name={self.augment.name}: task={self.task.name} does not augment "
                "(the noise-to-sample tasks unconditional and conditional do); set augment=null"
            )
        return self

    @model_validator(mode="after")
    def _compilable(self) -> Config:
        """torch.compile's autograd cannot differentiate a gradient again (double backward),
        which the penalties on D's input gradient do."""
        double_backward = ("gradient_penalty", "r1", "r2")
        used = [name for name in double_backward if getattr(self.regularisers, name) is not None]
        if self.train.compile and used:
            keys = ", ".join(f"regularisers.{name}" for name in used)
            raise ValueError(
                f"train.compile=true cannot train {keys} (torch.compile does not support the "
                "double backward of a penalty on D's input gradient): set train.compile=false"
            )
        return self

    @model_validator(mode="after")
    def _task_fits(self) -> Config:
        TASKS.get(self.task.name).check_config(self)
        from gankit.metrics.registry import CONDITIONAL_METRICS

        asked = [m for m in CONDITIONAL_METRICS if self.eval is not None and m in self.eval.metrics]
        if asked and self.task.name != "conditional":
            raise ValueError(f"eval.metrics {', '.join(asked)} measure a conditional run")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-ready dict of every value, defaults included (``name`` first)."""
        return _name_first(self.model_dump(mode="json"))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _name_first(tree: Any) -> Any:
    if not isinstance(tree, dict):
        return tree
    ordered = {"name": tree["name"]} if "name" in tree else {}
    ordered.update({k: _name_first(v) for k, v in tree.items() if k != "name"})
    return ordered


# -- presets -------------------------------------------------------------------------------


def _preset_dir() -> Path:
    return Path(str(resources.files("gankit") / "presets"))


def list_presets() -> list[tuple[str, str]]:
    """(name, one-line summary) of every preset shipped with gankit, sorted by name."""
    out = []
    for path in sorted(_preset_dir().glob("*.yaml")):
        first = path.read_text().splitlines()[0] if path.stat().st_size else ""
        out.append((path.stem, first.lstrip("# ").strip()))
    return out


def load_preset(name: str) -> dict[str, Any]:
    """The raw dict of a shipped preset, or of a YAML file when ``name`` is a path.

    A file may start from another config: ``base: NAME`` names a shipped preset or another
    YAML file (relative to the file), loaded first (its own ``base:`` too); the file is laid
    over it by :func:`merge`, as ``--set`` overrides are. ``preset:`` records, in a run's
    ``config.yaml``, where the run started; a file that is not a run's saved config may not
    set it (it would only relabel the run): use ``base:``."""
    raw, label = _load_config(name, Path(), ())
    raw.setdefault("preset", label)
    return raw


def _load_config(
    name: str, directory: Path, chain: tuple[Path, ...], referrer: str = ""
) -> tuple[dict[str, Any], str]:
    """The raw dict of a preset or YAML file with its ``base:`` chain merged in, and its
    label; ``chain`` holds the files whose base is being loaded (to refuse a cycle) and
    ``referrer`` prefixes the errors of a base (``'mine.yaml': base: …``)."""
    path = Path(name).expanduser()
    is_file = path.suffix.lower() in (".yaml", ".yml")
    if is_file:
        path = directory / path
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            shown = path if referrer else name
            raise ConfigError(f"{referrer}config file '{shown}' {what}")
        label = path.stem
    else:
        path = _preset_dir() / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(f"{referrer}{_unknown_preset(name)}")
        label = name
    if path.resolve() in chain:
        names = [p.name for p in (*chain, path.resolve())]
        raise ConfigError(
            f"config files extend each other in a cycle ({' → '.join(names)}); remove one "
            "of these base: keys"
        )
    raw = _read_yaml(path)
    if raw is None:  # an empty file: all defaults
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: expected a mapping of config keys at the top level "
            f"(got {type(raw).__name__}), e.g. 'train: {{steps: 500}}'"
        )
    if is_file and "preset" in raw and not _is_run_config(path):
        given = _clip(str(raw["preset"]), 40)
        raise ConfigError(
            f"{path}: 'preset: {given}' does nothing in a config file (gankit writes it into "
            f"a run's config.yaml as a record); to start from that preset write "
            f"'base: {given}' instead, or delete the line"
        )
    return _extend(raw, str(path), path.parent, (*chain, path.resolve())), label


def _extend(
    raw: dict[str, Any], where: str, directory: Path, chain: tuple[Path, ...]
) -> dict[str, Any]:
    """``raw`` merged over the config its ``base:`` names (``raw`` itself without one);
    ``where`` names ``raw`` in errors and ``directory`` is where a base file's path starts."""
    if "base" not in raw:
        return raw
    raw = dict(raw)
    base = raw.pop("base")
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(
            f"{where}: base must name a preset or a YAML file (e.g. base: dcgan-mnist), "
            f"not {_short(base)}"
        )
    parent, _ = _load_config(base.strip(), directory, chain, f"{where}: base: ")
    parent.pop("preset", None)  # the extending config's own label says where a run started
    return merge(parent, raw)


def _is_run_config(path: Path) -> bool:
    """Whether ``path`` is the config.yaml that gankit saved into a run directory."""
    run = path.parent
    return path.name == "config.yaml" and (
        (run / "checkpoints").is_dir() or (run / "metrics.jsonl").is_file()
    )


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid over ``base`` (copies), section by section, as ``--set`` overrides are
    applied (:func:`apply_overrides`): a value or a list replaces the one below it; a
    section merges key by key, so overriding one option keeps the section's component and
    its other options; a section whose ``name`` changes starts from that component's
    defaults (the old component's options are dropped); a section that is off (null) is
    switched on by keys given for it; ``task: NAME`` counts as ``task: {name: NAME}``."""
    renamed = "name" in over and base.get("name") not in (None, over["name"])
    tree = {} if renamed else _deep_copy(base)
    for key, value in over.items():
        below = tree.get(key)
        if key == "task" and isinstance(below, str) and isinstance(value, Mapping):
            below = {"name": below}
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            tree[key] = merge(below, value)
        else:
            tree[key] = _deep_copy(value)
    return tree


def _unknown_preset(name: str) -> str:
    names = [n for n, _ in list_presets()]
    # a family's prefix (dcgan → dcgan-mnist) before the closest spelling (wgn → wgan)
    close = [n for n in names if name and n.startswith(f"{name}-")][:3]
    close = close or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return (
            f"unknown preset '{name}'; did you mean {' or '.join(close)}? "
            "(gankit presets lists them all)"
        )
    file = " (a config file must end in .yaml or .yml)" if Path(name).is_file() else ""
    return f"unknown preset '{name}'; choose one of: {', '.join(names)}{file}"


def _read_yaml(path: Path) -> Any:
    """The YAML tree of a config file, or a one-line ConfigError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"config file '{path}' cannot be read: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"config file '{path}' is not UTF-8 text (byte 0x{data[err.start]:02x} at offset "
            f"{err.start}); save it as UTF-8 YAML"
        ) from None
    try:
        tree = _load_yaml(text)
    except _YAMLProblem as problem:
        raise ConfigError(f"{path}: not valid YAML{problem}") from None
    _check_tree(tree, str(path))
    return tree


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader reading ``1e-4`` and ``1e11`` as numbers, as YAML 1.2 does
    (YAML 1.1 wants a dot, ``1.0e-4``, and PyYAML would give the string ``'1e-4'``), and
    refusing a key given twice in one mapping (PyYAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        problem=f"key '{key_node.value}' is given twice in one mapping",
                        problem_mark=key_node.start_mark,
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class _YAMLProblem(Exception):
    """Why a text is not valid YAML; ``str()`` reads `` at line 2, column 7: …``."""


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _YAMLProblem(f"{at}: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise _YAMLProblem(f": {' '.join(str(err).split())}") from None
    except RecursionError:
        raise _YAMLProblem(
            f": nested too deeply (a config is at most {MAX_DEPTH} levels deep)"
        ) from None
    except (ValueError, OverflowError) as err:  # e.g. an integer of over 4300 digits
        raise _YAMLProblem(f": {' '.join(str(err).split())}") from None


def _check_tree(tree: Any, where: str) -> None:
    """Refuse trees no config can be: non-string keys, deep nesting, a huge number of
    values (a YAML alias bomb) or a tree that contains itself."""
    stack: list[tuple[Any, int, str]] = [(tree, 0, "")]
    count = 0
    while stack:
        node, depth, path = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ConfigError(
                f"{where}: more than {MAX_NODES:,} values (repeated YAML aliases?); a config "
                "has a few hundred"
            )
        if depth > MAX_DEPTH:
            raise ConfigError(
                f"{where}: '{path[:60]}…' is nested more than {MAX_DEPTH} levels deep; a config "
                "is a few levels of sections (e.g. train.g_optimizer.lr)"
            )
        if isinstance(node, Mapping):
            for key, value in node.items():
                if not isinstance(key, str):
                    inside = f" in '{path}'" if path else ""
                    raise ConfigError(
                        f"{where}: key {_short(key)}{inside} is not a name; config keys are "
                        "names such as steps (quote it if it is meant as one)"
                    )
                stack.append((value, depth + 1, f"{path}.{key}" if path else key))
        elif isinstance(node, (list, tuple)):
            stack.extend((value, depth + 1, f"{path}[{i}]") for i, value in enumerate(node))


# -- overrides -----------------------------------------------------------------------------


def parse_override(text: str) -> tuple[str, Any]:
    """``"train.steps=500"`` → ``("train.steps", 500)``; values are parsed as YAML."""
    if not isinstance(text, str):
        raise ConfigError(f"override {_short(text)} is not a string of the form key=value")
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"override '{_clip(text)}' is not of the form key=value (e.g. train.steps=500)"
        )
    try:
        return key.strip(), _load_yaml(value)
    except _YAMLProblem as problem:
        raise ConfigError(
            f"override '{_clip(text)}': cannot parse the value '{_clip(value)}'{problem}"
        ) from None


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str] | Mapping[str, Any]) -> dict:
    """Set dotted keys in a nested dict (a copy).

    Setting a key below a section that is missing or off (null) creates the section.
    Setting a section's ``name`` to a different value (``data.name=ring``) empties that
    section first, so options of the previous choice do not leak into the new one; give
    ``name`` before the options that go with it."""
    tree = _deep_copy(raw)
    items = overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    for dotted, value in items:
        *parents, leaf = _split_key(dotted)
        _check_tree(value, f"override '{_clip(dotted)}'")
        node = tree
        for i, key in enumerate(parents):
            child = node.get(key)
            if child is None:  # a section that is off (null) is switched on by its keys
                child = node[key] = {}
            if node is tree and key == "task" and isinstance(child, str):
                child = node[key] = {"name": child}  # ``task: conditional`` names the task
            if not isinstance(child, dict):
                raise ConfigError(
                    f"override '{_clip(dotted)}': '{'.'.join(parents[: i + 1])}' is a value, "
                    f"not a section (it is {_short(child)})"
                )
            node = child
        if leaf == "name" and parents and node.get("name") not in (None, value):
            node.clear()
        node[leaf] = _deep_copy(value)
    return tree


def _split_key(dotted: Any) -> list[str]:
    if not isinstance(dotted, str):
        raise ConfigError(f"override key {_short(dotted)} is not a dotted name such as train.steps")
    parts = [part.strip() for part in dotted.split(".")]
    if not all(parts):
        raise ConfigError(
            f"override key '{_clip(dotted)}' has an empty part; write dotted names such as "
            "train.steps"
        )
    if len(parts) > MAX_DEPTH:
        raise ConfigError(
            f"override key '{_clip(dotted)}' has {len(parts)} parts; a config is at most "
            f"{MAX_DEPTH} levels deep (e.g. train.g_optimizer.lr)"
        )
    return parts


def _deep_copy(tree: Any) -> Any:
    if isinstance(tree, Mapping):
        return {k: _deep_copy(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_deep_copy(v) for v in tree]
    return tree


# -- validation ----------------------------------------------------------------------------


def validate(raw: Mapping[str, Any]) -> Config:
    """A :class:`Config` from a raw dict, or a one-line :class:`ConfigError`.

    A registry-backed section without a ``name`` is read as the section's default
    component (see the module docstring)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"config: expected a mapping of config keys, got {type(raw).__name__} {_short(raw)}"
        )
    _check_tree(raw, "config")
    tree = _with_default_names(_task_section(_deep_copy(raw)), Config)
    try:
        config = Config.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(_describe(err, tree)) from None
    dumped = config.model_dump()
    _check_int_range(dumped, "")
    _check_no_bool_numbers(tree, dumped, "")
    return config


def resolve(
    preset: str | Mapping[str, Any] | Config | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
) -> Config:
    """Preset name / YAML path / dict / Config, plus overrides → validated Config.

    A dict may extend a preset or a file with ``base:`` (a file path from the working
    directory; the preset is then the base's name), as a YAML file does
    (:func:`load_preset`)."""
    if preset is None:
        preset = DEFAULT_PRESET
    if isinstance(preset, Config):
        raw = preset.to_dict()
    elif isinstance(preset, Mapping):
        _check_tree(preset, "config")
        raw = _extend(dict(preset), "config", Path(), ())
        if isinstance(preset.get("base"), str):
            raw.setdefault("preset", Path(preset["base"].strip()).stem)  # where it started
    else:
        raw = load_preset(str(preset))
    if isinstance(overrides, str):  # one override, not its characters
        overrides = [overrides]
    return validate(apply_overrides(raw, overrides))


class ConfigWarning(UserWarning):
    """A valid config with a setting that has no effect (the CLI prints it as one
    ``warning:`` line)."""


def warn_inert(config: Config) -> None:
    """Warn about settings that can never take effect in ``config``: a learning-rate decay
    that starts at or after the last step (step ``train.steps − 1``; the factor at step
    ``start`` is still 1, see :meth:`TrainOptions.lr_factor_at`). Called when a training
    is about to start (``gankit.train``, ``gankit.resume``, ``gankit train --dry-run``),
    once its config has been checked in full, so that a refused config gets one error
    line and no warning."""
    decay, steps = config.train.lr_decay, config.train.steps
    if decay is not None and decay.start >= steps - 1:
        earlier = f"train.lr_decay.start below {steps - 1} or " if steps > 1 else ""
        warnings.warn(
            f"train.lr_decay.start={decay.start} with train.steps={steps}: the learning rates "
            f"never decay (the decay starts after step {decay.start} and the last step is "
            f"{steps - 1}); set {earlier}train.lr_decay=null",
            ConfigWarning,
            stacklevel=2,
        )


LEGACY_TASK_SECTIONS = {
    "conditional": "condition",
    "paired": "translation",
    "unpaired": "translation",
}
"""Where configs of checkpoint format 1 kept a task's options: ``task`` was a name and the
options sat in a ``condition:`` or ``translation:`` section of their own."""


def _task_section(tree: dict) -> dict:
    """``tree`` with its task as one ``task: {name: …, options…}`` section.

    A task given by name alone (``task: paired``, ``--set task=paired``) becomes a section;
    the ``condition:`` and ``translation:`` sections of format-1 configs (and overrides of
    their keys) move into it, keeping the options the task has and dropping those it never
    read (format 1 wrote both sections, with defaults, into every config)."""
    task = tree.get("task", {"name": "unconditional"})
    if isinstance(task, str):
        task = {"name": task}
    legacy = {key: tree.pop(key) for key in ("condition", "translation") if key in tree}
    if not isinstance(task, dict):
        return {**tree, "task": task}  # validation names the wrong value
    name = task.get("name", "unconditional")
    if not isinstance(name, str):
        return {**tree, "task": task}  # validation names the wrong value
    moved = legacy.get(LEGACY_TASK_SECTIONS.get(name, ""))
    if isinstance(moved, dict) and name in TASKS and TASKS.entry(name).options is not None:
        known = TASKS.entry(name).options.model_fields
        task = {**task, **{k: v for k, v in moved.items() if k in known and k != "name"}}
    return {**tree, "task": task}


def _refresh_task_choice() -> None:
    """Let :class:`Config` accept every registered task, those registered later too."""
    Config.model_fields["task"].annotation = _members_union(TASKS)
    Config.model_rebuild(force=True)


TASKS.on_register(_refresh_task_choice)


def _with_default_names(tree: dict, model: type[BaseModel]) -> dict:
    """``tree`` where every registry-backed section that has no ``name`` names the default
    component of its field (``train.g_optimizer: {lr: 0.001}`` → Adam with that lr)."""
    out = dict(tree)
    for key, value in tree.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is None or not isinstance(value, dict):
            continue
        if "name" not in value and len(_members(field.annotation)) > 1:
            default = field.get_default(call_default_factory=True)
            name = getattr(default, "name", None)
            if isinstance(name, str):
                value = {"name": name, **value}
        inner = _pick_model(field.annotation, value)
        out[key] = _with_default_names(value, inner) if inner is not None else value
    return out


def _check_int_range(tree: Any, path: str) -> None:
    """Refuse integers that do not fit in 64 bits (torch, numpy and the seeding take
    int64), naming the key."""
    if isinstance(tree, int) and not isinstance(tree, bool) and not -MAX_INT - 1 <= tree <= MAX_INT:
        raise ConfigError(
            f"{path or 'config'}: {_short(tree)} does not fit in 64 bits; use at most "
            f"{MAX_INT:,} (2**63 − 1)"
        )
    if isinstance(tree, dict):
        for key, value in tree.items():
            _check_int_range(value, f"{path}.{key}" if path else str(key))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            _check_int_range(value, f"{path}[{i}]")


def _clip(text: str, limit: int = 80) -> str:
    """User text quoted in a message, shortened to ``limit`` characters."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _check_no_bool_numbers(given: Any, value: Any, path: str) -> None:
    """Refuse true/false given for a number (pydantic would read them as 1 and 0)."""
    if isinstance(given, bool) and not isinstance(value, bool):
        raise ConfigError(
            f"{path or 'config'}: expects a number, not {str(given).lower()} (true/false are for "
            "switches)"
        )
    if isinstance(given, Mapping) and isinstance(value, Mapping):
        for key, item in given.items():
            if key in value:
                _check_no_bool_numbers(item, value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(given, (list, tuple)) and isinstance(value, (list, tuple)):
        for i, (item, checked) in enumerate(zip(given, value, strict=False)):
            _check_no_bool_numbers(item, checked, f"{path}[{i}]")


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, shortened for a one-line message."""
    if isinstance(value, int) and value.bit_length() > 4000:  # repr refuses > 4300 digits
        return f"an integer of about {math.floor(value.bit_length() * math.log10(2)) + 1} digits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 (a repr that fails must not hide the real problem)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _describe(err: ValidationError, raw: Mapping[str, Any]) -> str:
    """One line for the first validation error, with the key path and the valid choices."""
    first = err.errors()[0]
    path = _user_path(first["loc"], raw)
    dotted = ".".join(map(str, path)) or "config"
    more = f" (and {err.error_count() - 1} more problem(s))" if err.error_count() > 1 else ""
    kind, given = first["type"], first.get("input")
    message = first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        model = _model_at(path[:-1], raw)
        valid = list(model.model_fields) if model else []
        parent = ".".join(map(str, path[:-1]))
        hint = did_you_mean(path[-1], valid, prefix=f"{parent}." if parent else "")
        listed = ", ".join(valid) or "?"
        return f"unknown config key '{dotted}'; valid keys here: {listed}{hint}{more}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        registry = _REGISTRY_OF_SECTION.get(str(path[-1]) if path else "")
        names = registry.names() if registry else []
        node = _node_at(raw, path)
        tag = node.get("name") if isinstance(node, Mapping) else None
        if tag is None:
            return f"{dotted}.name is not set; choose one of: {', '.join(names)}{more}"
        return (
            f"{dotted}.name: unknown choice '{tag}'; choose one of: {', '.join(names)}"
            f"{did_you_mean(tag, names)}{more}"
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(path, raw) or _model_at(path, {})
        key = "KEY"
        if path and str(path[-1]) in _REGISTRY_OF_SECTION:
            key = "name"
        elif model is not None and model.model_fields:
            key = next(iter(model.model_fields))
        return (
            f"{dotted} is a section, not {_short(given)}; set its keys, e.g. {dotted}.{key}=…{more}"
        )
    if kind == "missing":
        section = _node_at(raw, path[:-1])
        name = section.get("name") if isinstance(section, Mapping) else None
        parent = ".".join(map(str, path[:-1]))
        by = f" by {parent}.name={name}" if name is not None else ""
        return f"{dotted}: required{by}; set it, e.g. {dotted}=…{more}"
    if kind == "int_parsing_size":
        return f"{dotted}: {_short(given)} is too large; use at most {MAX_INT:,} (2**63 − 1){more}"
    if kind == "finite_number":
        return (
            f"{dotted}: must be a finite number, not {_short(given)} (inf and nan are "
            f"refused){more}"
        )
    if kind == "literal_error" and isinstance(given, str):
        choices = re.findall(r"'([^']*)'", first.get("ctx", {}).get("expected", ""))
        return f"{dotted}: {message} (got {_short(given)}){did_you_mean(given, choices)}{more}"
    if not path:  # a check across sections: its message names the keys
        return f"{message}{more}"
    got = "" if isinstance(given, Mapping) else f" (got {_short(given)})"
    return f"{dotted}: {message}{got}{more}"


_REGISTRY_OF_SECTION = {
    "task": TASKS,
    "augment": AUGMENTS,
    "data": SOURCES,
    "generator": GENERATORS,
    "discriminator": DISCRIMINATORS,
    "objective": OBJECTIVES,
    "g_optimizer": OPTIMIZERS,
    "d_optimizer": OPTIMIZERS,
}


def _user_path(loc: tuple, raw: Mapping[str, Any]) -> list:
    """Drop the union tags pydantic inserts into error locations (``data.ring.std``)."""
    path: list = []
    node: Any = raw
    for part in loc:
        if isinstance(node, Mapping) and part not in node and node.get("name") == part:
            continue
        path.append(part)
        node = node.get(part) if isinstance(node, Mapping) else None
    return path


def _node_at(raw: Any, path: list) -> Any:
    node = raw
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _model_at(path: list, raw: Mapping[str, Any]) -> type[BaseModel] | None:
    """The options model that validates the section at ``path``."""
    model: type[BaseModel] = Config
    node: Any = raw
    for key in path:
        field = model.model_fields.get(str(key))
        if field is None:
            return None
        node = node.get(key) if isinstance(node, Mapping) else None
        model = _pick_model(field.annotation, node)
        if model is None:
            return None
    return model


def _members(annotation: Any) -> list[type[BaseModel]]:
    """The options models a field of type ``annotation`` accepts."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    return [m for m in get_args(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]


def _pick_model(annotation: Any, node: Any) -> type[BaseModel] | None:
    members = _members(annotation)
    if len(members) == 1:  # a section, or an optional one, e.g. ``ModelOptions | None``
        return members[0]
    name = node.get("name") if isinstance(node, Mapping) else None
    for member in members:
        if member.model_fields.get("name") and member.model_fields["name"].default == name:
            return member
    return None
