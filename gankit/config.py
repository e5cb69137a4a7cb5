"""Typed, validated run configuration: presets (YAML in the package) + ``key=value`` overrides.

One source of defaults serves the Python API and the CLI: the pydantic models below. A
preset only states what differs from them. Unknown keys, wrong types and unknown names
fail with one line naming the key and the allowed values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gankit.data import SOURCES
from gankit.errors import GankitError
from gankit.nets import DISCRIMINATORS, GENERATORS
from gankit.objectives import OBJECTIVES
from gankit.objectives.regularisers import RegularisersOptions
from gankit.optim import OPTIMIZERS, AdamOptions
from gankit.registry import Registry

DEFAULT_PRESET = "dcgan-mnist"


class ConfigError(GankitError, ValueError):
    """A configuration that cannot be run; the message names the key."""


def _choice(registry: Registry) -> Any:
    """A pydantic field type accepting any registered options model, chosen by ``name``."""
    members = tuple(entry.options for entry in registry)
    return Annotated[Union[members], Field(discriminator="name")]  # noqa: UP007


DataChoice = _choice(SOURCES)
GeneratorChoice = _choice(GENERATORS)
DiscriminatorChoice = _choice(DISCRIMINATORS)
ObjectiveChoice = _choice(OBJECTIVES)
OptimizerChoice = _choice(OPTIMIZERS)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoiseOptions(Section):
    """The prior p_z that G pushes forward."""

    dim: int = Field(100, ge=1, description="Dimension of z.")
    distribution: Literal["normal", "uniform"] = Field(
        "normal", description="z ~ N(0, I) or z ~ U(−1, 1)^dim."
    )


class EMAOptions(Section):
    """An exponential moving average of G's weights, θ̄ ← β·θ̄ + (1 − β)·θ after every G
    step (Yazıcı et al. 2019); sampling uses it when present."""

    decay: float = Field(0.999, gt=0, lt=1, description="β.")
    start: int = Field(0, ge=0, description="Step at which the average starts as a copy of G.")


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
    critic_warmup: CriticWarmupOptions | None = Field(
        None, description="More critic updates early and periodically (WGAN)."
    )
    g_optimizer: OptimizerChoice = Field(default_factory=AdamOptions)
    d_optimizer: OptimizerChoice = Field(default_factory=AdamOptions)
    ema: EMAOptions | None = Field(None, description="Moving average of G's weights.")
    lr_decay: LRDecayOptions | None = Field(
        None, description="Linear decay of both learning rates to 0 over the last steps."
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


class LogOptions(Section):
    every: int = Field(50, ge=1, description="Steps between metrics.jsonl lines.")
    tensorboard: bool = Field(True, description="Also write TensorBoard event files.")


class SampleOptions(Section):
    every: int = Field(500, ge=0, description="Steps between sample images (0: only at the end).")
    count: int = Field(64, ge=1, description="Samples per grid/plot, from a fixed z.")


class CheckpointOptions(Section):
    every: int = Field(500, ge=0, description="Steps between checkpoints (0: only at the end).")
    keep: int = Field(3, ge=1, description="How many recent checkpoints to keep.")


LOWER_IS_BETTER = ("fid", "kid", "largest_class_share", "class_reverse_kl")
HIGHER_IS_BETTER = ("precision", "recall", "density", "coverage", "is", "classes_covered")


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
        from gankit.metrics.reference import METRICS, VALUES_OF

        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; choose from {', '.join(METRICS)}")
        computed = [value for m in self.metrics for value in VALUES_OF[m]]
        if self.best is not None and self.best not in computed:
            raise ValueError(
                f"best={self.best!r} is not among the values computed: {', '.join(computed)}"
            )
        return self


class ConditionOptions(Section):
    """How a conditional GAN reads its label y (Mirza & Osindero 2014)."""

    embedding: Literal["onehot", "learned"] = Field(
        "onehot", description="y as a one-hot vector or a learned embedding of embed_dim values."
    )
    embed_dim: int = Field(16, ge=1, description="Size of the learned embedding.")
    discriminator: Literal["concat", "projection"] = Field(
        "concat",
        description="concat: y joined to D's input (extra channels for DCGAN); projection: "
        "D(x, y) = ψ(φ(x)) + ⟨V_y, φ(x)⟩ (Miyato & Koyama 2018).",
    )
    auxiliary_weight: float = Field(
        0.0,
        ge=0,
        description="Weight of the AC-GAN class loss, cross-entropy of an auxiliary classifier "
        "on D's features for real and generated samples (Odena et al. 2017); 0: none.",
    )


class TranslationOptions(Section):
    """Loss weights of image-to-image translation: pix2pix (Isola et al. 2017) for
    ``task: paired``, CycleGAN (Zhu et al. 2017) for ``task: unpaired``."""

    adversarial_weight: float = Field(
        1.0, ge=0, description="Weight of G's adversarial loss (0: L1 only, the ablation)."
    )
    l1_weight: float = Field(
        100.0, ge=0, description="pix2pix: λ of the L1 distance to the target (0: cGAN only)."
    )
    d_loss_factor: float = Field(
        0.5,
        gt=0,
        description="D's loss is multiplied by this; both papers halve it to slow D down.",
    )
    cycle_weight: float = Field(10.0, ge=0, description="CycleGAN: λ of the cycle loss.")
    identity_weight: float = Field(
        0.5, ge=0, description="CycleGAN: identity loss weight as a fraction of cycle_weight."
    )
    pool_size: int = Field(
        50,
        ge=0,
        description="CycleGAN: generated images kept per discriminator in a history pool "
        "(Shrivastava et al. 2017); 0: none.",
    )


NOISE_TASKS = ("unconditional", "conditional")
TRANSLATION_TASKS = ("paired", "unpaired")


class Config(Section):
    """Everything that defines a run; saved as ``config.yaml`` in its run directory."""

    preset: str | None = Field(None, description="The preset this config started from.")
    seed: int = Field(0, ge=0, description="Seeds weights, data order and noise.")
    device: str = Field("auto", description="auto (cuda → mps → cpu), cpu, cuda, cuda:N or mps.")
    task: Literal["unconditional", "conditional", "paired", "unpaired"] = Field(
        "unconditional",
        description="unconditional: G(z); conditional: G(z, y) and D(x, y) for the data's "
        "class labels (see condition); paired: pix2pix on aligned (input, target) pairs; "
        "unpaired: CycleGAN between two domains (see translation).",
    )
    condition: ConditionOptions = Field(
        default_factory=ConditionOptions, description="The label's path into G and D."
    )
    translation: TranslationOptions = Field(
        default_factory=TranslationOptions, description="pix2pix and CycleGAN loss weights."
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
    train: TrainOptions = Field(default_factory=TrainOptions)
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
    def _task_nets(self) -> Config:
        from gankit.nets import PATCH_DISCRIMINATORS, TRANSLATORS

        translating = self.task in TRANSLATION_TASKS
        if translating != (self.generator.name in TRANSLATORS):
            wanted = " or ".join(TRANSLATORS) if translating else "mlp or dcgan"
            raise ValueError(
                f"generator.name={self.generator.name} does not fit task={self.task}: use {wanted}"
            )
        if translating != (self.discriminator.name in PATCH_DISCRIMINATORS):
            wanted = " or ".join(PATCH_DISCRIMINATORS) if translating else "mlp or dcgan"
            raise ValueError(
                f"discriminator.name={self.discriminator.name} does not fit task={self.task}: "
                f"use {wanted}"
            )
        if translating:
            used = [k for k, v in self.regularisers.model_dump().items() if v is not None]
            unsupported = [f"regularisers.{k}" for k in used]
            unsupported += [key for key, value in (("train.ema", self.train.ema),) if value]
            if unsupported:
                raise ValueError(
                    f"task={self.task} does not take {', '.join(unsupported)} (made for GANs "
                    "that map noise to samples)"
                )
        return self

    @model_validator(mode="after")
    def _conditional_nets(self) -> Config:
        if self.task == "conditional" and getattr(self.discriminator, "pack", 1) > 1:
            raise ValueError(
                "discriminator.pack > 1 scores packs of samples, which do not share one label: "
                "use pack=1 with task=conditional"
            )
        if self.task == "conditional" and self.generator.name == "affine":
            raise ValueError("generator.name=affine cannot read a label: use mlp or dcgan")
        from gankit.metrics.reference import CONDITIONAL_METRICS

        asked = [m for m in CONDITIONAL_METRICS if self.eval is not None and m in self.eval.metrics]
        if asked and self.task != "conditional":
            raise ValueError(f"eval.metrics {', '.join(asked)} measure a conditional run")
        return self

    @model_validator(mode="after")
    def _batches_fill_packs(self) -> Config:
        pack = getattr(self.discriminator, "pack", 1)
        if self.train.batch_size % pack:
            raise ValueError(
                f"train.batch_size={self.train.batch_size} is not a multiple of "
                f"discriminator.pack={pack}: the discriminator scores packs of {pack} samples"
            )
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
    """The raw dict of a shipped preset, or of a YAML file when ``name`` is a path."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError(f"config file '{name}' does not exist")
        label = path.stem
    else:
        path = _preset_dir() / f"{name}.yaml"
        if not path.is_file():
            names = ", ".join(n for n, _ in list_presets())
            raise ConfigError(f"unknown preset '{name}'; choose one of: {names}")
        label = name
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys at the top level")
    raw.setdefault("preset", label)
    return raw


# -- overrides -----------------------------------------------------------------------------


def parse_override(text: str) -> tuple[str, Any]:
    """``"train.steps=500"`` → ``("train.steps", 500)``; values are parsed as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override '{text}' is not of the form key=value (e.g. train.steps=500)")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        raise ConfigError(f"override '{text}': cannot parse the value '{value}'") from None


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str] | Mapping[str, Any]) -> dict:
    """Set dotted keys in a nested dict (a copy).

    Setting a section's ``name`` to a different value (``data.name=ring``) empties that
    section first, so options of the previous choice do not leak into the new one; give
    ``name`` before the options that go with it."""
    tree = _deep_copy(raw)
    items = overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    for dotted, value in items:
        *parents, leaf = dotted.split(".")
        node = tree
        for i, key in enumerate(parents):
            child = node.get(key)
            if child is None:  # a section that is off (null) is switched on by its keys
                child = node[key] = {}
            if not isinstance(child, dict):
                raise ConfigError(
                    f"override '{dotted}': '{'.'.join(parents[: i + 1])}' is a value, not a section"
                )
            node = child
        if leaf == "name" and parents and node.get("name") not in (None, value):
            node.clear()
        node[leaf] = value
    return tree


def _deep_copy(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _deep_copy(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_deep_copy(v) for v in tree]
    return tree


# -- validation ----------------------------------------------------------------------------


def validate(raw: Mapping[str, Any]) -> Config:
    """A :class:`Config` from a raw dict, or a one-line :class:`ConfigError`."""
    try:
        return Config.model_validate(dict(raw))
    except ValidationError as err:
        raise ConfigError(_describe(err, raw)) from None


def resolve(
    preset: str | Mapping[str, Any] | Config | None = None,
    overrides: Iterable[str] | Mapping[str, Any] = (),
) -> Config:
    """Preset name / YAML path / dict / Config, plus overrides → validated Config."""
    if preset is None:
        preset = DEFAULT_PRESET
    if isinstance(preset, Config):
        raw = preset.to_dict()
    elif isinstance(preset, Mapping):
        raw = dict(preset)
    else:
        raw = load_preset(str(preset))
    return validate(apply_overrides(raw, overrides))


def _describe(err: ValidationError, raw: Mapping[str, Any]) -> str:
    """One line for the first validation error, with the key path and the valid choices."""
    first = err.errors()[0]
    path = _user_path(first["loc"], raw)
    dotted = ".".join(map(str, path)) or "config"
    more = f" (and {err.error_count() - 1} more problem(s))" if err.error_count() > 1 else ""
    if first["type"] == "extra_forbidden":
        model = _model_at(path[:-1], raw)
        valid = ", ".join(model.model_fields) if model else "?"
        return f"unknown config key '{dotted}'; valid keys here: {valid}{more}"
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        registry = _REGISTRY_OF_SECTION.get(path[-1] if path else "")
        names = ", ".join(registry.names()) if registry else ""
        given = first.get("ctx", {}).get("tag", "nothing")
        return f"{dotted}.name: unknown choice '{given}'; choose one of: {names}{more}"
    if not path:  # a check across sections: its message names the keys
        return f"{first['msg'].removeprefix('Value error, ')}{more}"
    return f"{dotted}: {first['msg']} (got {first.get('input')!r}){more}"


_REGISTRY_OF_SECTION = {
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


def _pick_model(annotation: Any, node: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is Annotated:
        return _pick_model(get_args(annotation)[0], node)
    members = [m for m in get_args(annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(members) == 1:  # an optional section, e.g. ``ModelOptions | None``
        return members[0]
    name = node.get("name") if isinstance(node, Mapping) else None
    for member in members:
        if member.model_fields.get("name") and member.model_fields["name"].default == name:
            return member
    return None
