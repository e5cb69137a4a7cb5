"""The playground's settings: what the page edits, as a view of one gankit config.

A session's state is a full :class:`~gankit.config.Config`; the page sees and edits

    {"data": {"name": "ring", ...source options}, "objective": {"name": ..., ...},
     "regularisers": {"gradient_penalty": {...} | None, ...}, "nets": {"width", "depth"},
     "z_dim", "optimiser", "lr_g", "lr_d", "d_steps", "batch_size", "seed"}

:func:`settings_of` reads these from a config and :func:`with_settings` writes a whole or
partial settings object back into one, so keys the settings do not show (a loaded config's
EMA, activation, learning-rate decay) are kept. Regularisers are the config's
``regularisers:`` section plus three that live in the discriminator: ``spectral_norm``,
``minibatch_discrimination`` and ``packing`` (``discriminator.pack``); the consistency term
needs dropout, so turning it on gives a discriminator without dropout
:data:`CONSISTENCY_DROPOUT`. Changes to what a step reads (objective, learning rates, k,
the optimisers, the loss-side regularisers) apply live; the rest needs new networks and
resets the session (:func:`reset_keys`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from gankit.config import Config, list_presets, resolve, validate
from gankit.data import SOURCES
from gankit.errors import GankitError
from gankit.objectives import OBJECTIVES, build_objective

PLAYGROUND_STEPS = 1_000_000
"""``train.steps`` of a session: play stops there (an export sets the iteration reached)."""

DATA = {
    "normal1d": "1-D Gaussian",
    "bimodal1d": "1-D two bumps",
    "gmm1d": "1-D three bumps",
    "ring": "2-D ring of 8 Gaussians",
    "grid": "2-D grid of 25 Gaussians",
    "moons": "2-D two moons",
    "spiral": "2-D spiral",
    "swissroll": "2-D swiss roll",
    "drawn": "2-D drawn by hand",
}
"""The data sources the playground offers (the toy sources of :mod:`gankit.data.toy`)."""

OBJECTIVE_LABELS = {
    "minimax": "minimax (saturating)",
    "nonsaturating": "non-saturating",
    "fgan": "f-GAN",
    "wasserstein": "Wasserstein",
    "least_squares": "least squares",
    "hinge": "hinge",
    "relativistic": "relativistic",
}

LOSS_REGULARISERS = {
    "weight_clip": ("weight clipping", {"clip": 0.01}),
    "gradient_penalty": ("gradient penalty", {"weight": 10.0, "target": 1.0, "one_sided": False}),
    "r1": ("R1 (real data)", {"gamma": 0.1, "every": 1}),
    "r2": ("R2 (generated data)", {"gamma": 0.1, "every": 1}),
    "consistency": ("consistency term", {"weight": 2.0, "feature_weight": 0.1, "margin": 0.0}),
    "instance_noise": (
        "instance noise",
        {"std": 0.1, "schedule": "linear", "anneal_steps": 2000},
    ),
}
"""Regularisers of the config's ``regularisers:`` section: label and the options a switch
turns on with (R1/R2 with γ = 0.1, as the grid-2d preset; instance noise annealed over a
fixed 2,000 steps, so that an export for any number of steps anneals alike)."""

NET_REGULARISERS = {
    "spectral_norm": ("spectral normalisation", {}),
    "minibatch_discrimination": ("minibatch discrimination", {"kernels": 8, "kernel_dim": 3}),
    "packing": ("packing (PacGAN)", {"pack": 2}),
}
"""Regularisers that are options of the discriminator: label and defaults (minibatch
discrimination with 8 kernels of dimension 3, as the mode-collapse lab experiment: the
paper's 100 × 5 would cost more than the rest of a frame)."""

CONSISTENCY_DROPOUT = 0.5
"""The dropout the consistency term turns on in a discriminator without it (Wei et al.
2018)."""

OPTIMISERS = ("adam", "rmsprop", "sgd")

LIVE_KEYS = (
    "objective",
    "train.g_optimizer",
    "train.d_optimizer",
    "train.d_steps",
    "train.critic_warmup",
    "regularisers.weight_clip",
    "regularisers.gradient_penalty",
    "regularisers.r1",
    "regularisers.r2",
    "regularisers.consistency",
    "regularisers.instance_noise",
    "regularisers.feature_matching",
)
"""Config keys a running session takes without new networks: what each step reads afresh."""

LIMITS = {
    "train.batch_size": 2048,
    "nets.width": 512,
    "nets.depth": 6,
    "noise.dim": 16,
    "train.d_steps": 50,
}
"""The largest values a session takes, so that one browser tab stays within a small share
of the machine's memory and CPU."""

TOY_GENERATORS = ("mlp", "affine")
SETTING_KEYS = (
    "data",
    "objective",
    "regularisers",
    "nets",
    "z_dim",
    "optimiser",
    "lr_g",
    "lr_d",
    "d_steps",
    "batch_size",
    "seed",
)


class SettingsError(GankitError, ValueError):
    """Settings, changes or a loaded config the playground cannot take."""


def base_config() -> Config:
    """The config every session starts from: the ring, MLPs of 64 × 2 units on both sides,
    z ∈ R², non-saturating loss, Adam(1e-3, β = (0.5, 0.999)) for both players, batch 256,
    on the CPU, logging every 100 steps without TensorBoard."""
    adam = {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}
    return validate(
        {
            "seed": 0,
            "device": "cpu",
            "data": {"name": "ring"},
            "noise": {"dim": 2},
            "generator": {"name": "mlp", "width": 64, "depth": 2},
            "discriminator": {"name": "mlp", "width": 64, "depth": 2},
            "objective": {"name": "nonsaturating"},
            "train": {
                "steps": PLAYGROUND_STEPS,
                "batch_size": 256,
                "g_optimizer": adam,
                "d_optimizer": dict(adam),
            },
            "log": {"every": 100, "tensorboard": False},
            "samples": {"every": 0, "count": 512},
            "checkpoint": {"every": 0, "keep": 1},
        }
    )


def options() -> dict[str, Any]:
    """What the page offers, from gankit's registries: ``/api/options`` less the scenes."""
    data = []
    for name, label in DATA.items():
        dim = 1 if name.endswith("1d") else 2
        data.append({"name": name, "label": label, "dim": dim})
    objectives = []
    for name in OBJECTIVES.names():
        defaults = OBJECTIVES.entry(name).options()
        objectives.append(
            {
                "name": name,
                "label": OBJECTIVE_LABELS.get(name, name),
                "divergence": build_objective(defaults).divergence,
                "options": defaults.model_dump(mode="json"),
            }
        )
    regularisers = [
        {"name": name, "label": label, "options": dict(defaults)}
        for name, (label, defaults) in {**LOSS_REGULARISERS, **NET_REGULARISERS}.items()
    ]
    return {
        "data": data,
        "objectives": objectives,
        "regularisers": regularisers,
        "optimisers": list(OPTIMISERS),
    }


def settings_of(config: Config) -> dict[str, Any]:
    """The settings the page shows for ``config``."""
    D, G = config.discriminator, config.generator
    regularisers: dict[str, Any] = {}
    for name in LOSS_REGULARISERS:
        value = getattr(config.regularisers, name)
        regularisers[name] = None if value is None else value.model_dump(mode="json")
    regularisers["spectral_norm"] = {} if getattr(D, "spectral_norm", False) else None
    minibatch = getattr(D, "minibatch_discrimination", None)
    regularisers["minibatch_discrimination"] = (
        None if minibatch is None else minibatch.model_dump(mode="json")
    )
    pack = getattr(D, "pack", 1)
    regularisers["packing"] = {"pack": pack} if pack > 1 else None
    sized = G if G.name == "mlp" else D
    return {
        "data": config.data.model_dump(mode="json"),
        "objective": config.objective.model_dump(mode="json"),
        "regularisers": regularisers,
        "nets": {"width": getattr(sized, "width", 0), "depth": getattr(sized, "depth", 0)},
        "z_dim": config.noise.dim,
        "optimiser": config.train.g_optimizer.name,
        "lr_g": config.train.g_optimizer.lr,
        "lr_d": config.train.d_optimizer.lr,
        "d_steps": config.train.d_steps,
        "batch_size": config.train.batch_size,
        "seed": config.seed,
    }


def with_settings(config: Config, settings: Mapping[str, Any]) -> Config:
    """``config`` with a whole or partial settings object written into it, checked.

    ``data`` and ``objective`` given with another ``name`` start from that component's
    defaults, otherwise their keys are laid over the current ones; a regulariser given as
    an object is switched on (its keys over the current or default options), as ``None``
    switched off."""
    if not isinstance(settings, Mapping):
        raise SettingsError(f"settings must be an object, not {_kind(settings)}")
    tree = config.to_dict()
    for key, value in settings.items():
        if key in ("data", "objective"):
            tree[key] = _section(tree[key], value, key)
        elif key == "regularisers":
            if not isinstance(value, Mapping):
                raise SettingsError(f"regularisers must be an object, not {_kind(value)}")
            for name, chosen in value.items():
                _set_regulariser(tree, name, chosen)
        elif key == "nets":
            _set_nets(tree, value)
        elif key == "z_dim":
            tree["noise"]["dim"] = value
        elif key == "optimiser":
            _set_optimiser(tree, value)
        elif key in ("lr_g", "lr_d"):
            tree["train"]["g_optimizer" if key == "lr_g" else "d_optimizer"]["lr"] = value
        elif key in ("d_steps", "batch_size"):
            tree["train"][key] = value
        elif key == "seed":
            tree["seed"] = value
        elif key != "scene":  # the session's own, not the config's
            known = ", ".join(SETTING_KEYS)
            raise SettingsError(f"unknown setting {key!r}; the settings are {known}")
    checked = validate(tree)
    check_limits(checked)
    return checked


def changes_to_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted changes (``{"regularisers.gradient_penalty.weight": 5, "lr_d": 1e-4}``) as a
    partial settings object, in the order given."""
    if not isinstance(changes, Mapping) or not changes:
        raise SettingsError('changes must be a non-empty object of "dotted.key": value')
    patch: dict[str, Any] = {}
    for dotted, value in changes.items():
        parts = dotted.split(".") if isinstance(dotted, str) else []
        if not parts or not all(parts) or len(parts) > 3:
            raise SettingsError(f"change key {dotted!r} is not a dotted setting such as lr_d")
        node = patch
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = copy.deepcopy(value)
    return patch


def reset_keys(before: Config, after: Config) -> list[str]:
    """The config keys changed from ``before`` to ``after`` that a running session cannot
    take live (they need new networks or data): empty when every change is live."""
    changed = _changed_keys(before.to_dict(), after.to_dict())
    return [
        key
        for key in changed
        if not any(key == live or key.startswith(f"{live}.") for live in LIVE_KEYS)
    ]


def check_limits(config: Config) -> None:
    """Refuse a config beyond :data:`LIMITS` or one the playground does not train (image
    data, other tasks, augmentation, networks other than MLPs and the affine generator)."""
    if config.task.name != "unconditional":
        raise SettingsError(f"task={config.task.name}: the playground trains unconditional GANs")
    if config.data.name not in DATA:
        raise SettingsError(
            f"data.name={config.data.name}: the playground trains on {', '.join(DATA)}"
        )
    if config.generator.name not in TOY_GENERATORS or config.discriminator.name != "mlp":
        raise SettingsError(
            f"generator.name={config.generator.name}, discriminator.name="
            f"{config.discriminator.name}: the playground trains an mlp or affine generator "
            "against an mlp discriminator"
        )
    if config.augment is not None:
        raise SettingsError("augment: the playground trains on points, which are not augmented")
    values = {
        "train.batch_size": config.train.batch_size,
        "nets.width": max(config.discriminator.width, getattr(config.generator, "width", 0)),
        "nets.depth": max(config.discriminator.depth, getattr(config.generator, "depth", 0)),
        "noise.dim": config.noise.dim,
        "train.d_steps": config.train.d_steps,
    }
    for key, value in values.items():
        if value > LIMITS[key]:
            raise SettingsError(f"{key}={value} is more than the playground takes ({LIMITS[key]})")


def load_config(text: str) -> Config:
    """The config of a YAML text (a file written by ``export.yaml``, a run's config.yaml or
    a user's file that may extend a shipped preset with ``base:``), checked for the
    playground; the device is the CPU. Anything else is refused in one line."""
    if not isinstance(text, str):
        raise SettingsError(f"yaml must be the text of a config, not {_kind(text)}")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"the config is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"a config is a mapping of keys, not {_kind(raw)}")
    raw.pop("preset", None)  # a run's record of where it started
    base = raw.get("base")
    presets = [name for name, _ in list_presets()]
    if base is not None and base not in presets:
        raise SettingsError(f"base: {base!r} is not a shipped preset ({', '.join(presets)})")
    config = resolve(raw)
    config = validate({**config.to_dict(), "device": "cpu"})
    check_limits(config)
    return config


def export_config(config: Config, iteration: int) -> tuple[Config, list[str]]:
    """The config that ``gankit train`` trains for the ``iteration`` steps a session made,
    and notes on what it cannot reproduce. Instance noise annealed over ``train.steps`` gets
    the session's horizon written out, so it anneals alike."""
    tree = config.to_dict()
    tree.pop("preset", None)
    notes = []
    noise = tree["regularisers"].get("instance_noise")
    if noise is not None and noise.get("anneal_steps") is None:
        noise["anneal_steps"] = config.train.steps
    if config.train.lr_decay is not None:
        notes.append(
            f"train.lr_decay is scheduled over train.steps={config.train.steps}: the export "
            f"trains {max(iteration, 1)} steps with another schedule"
        )
    if iteration == 0:
        notes.append("the session has not trained: the export trains 1 step")
    tree["train"]["steps"] = max(iteration, 1)
    return validate(tree), notes


def yaml_text(config: Config, notes: list[str]) -> str:
    """The config as YAML for a file (no ``preset:`` record), notes as comments on top."""
    tree = config.to_dict()
    tree.pop("preset", None)
    header = "".join(f"# note: {note}\n" for note in notes)
    return header + yaml.safe_dump(tree, sort_keys=False)


def _section(current: dict[str, Any], value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SettingsError(f"{key} must be an object with a name and options, not {_kind(value)}")
    name = value.get("name", current.get("name"))
    if key == "data" and name not in DATA:
        raise SettingsError(f"data.name={name!r}: choose one of {', '.join(DATA)}")
    if key == "data" and name not in SOURCES:
        raise SettingsError(f"data.name={name!r} is not a registered data source")
    if name != current.get("name"):
        return {**value, "name": name}
    return {**current, **value}


def _set_regulariser(tree: dict[str, Any], name: Any, chosen: Any) -> None:
    if chosen is not None and not isinstance(chosen, Mapping):
        raise SettingsError(
            f"regularisers.{name} must be an object of options or null, not {_kind(chosen)}"
        )
    D = tree["discriminator"]
    if name in LOSS_REGULARISERS:
        current = tree["regularisers"].get(name)
        if chosen is None:
            tree["regularisers"][name] = None
            return
        start = current if current is not None else LOSS_REGULARISERS[name][1]
        tree["regularisers"][name] = {**start, **chosen}
        if name == "consistency" and not D.get("dropout"):
            D["dropout"] = CONSISTENCY_DROPOUT
    elif name == "spectral_norm":
        D["spectral_norm"] = chosen is not None
    elif name == "minibatch_discrimination":
        start = D.get(name) or NET_REGULARISERS[name][1]
        D[name] = None if chosen is None else {**start, **chosen}
    elif name == "packing":
        D["pack"] = 1 if chosen is None else chosen.get("pack", NET_REGULARISERS[name][1]["pack"])
    else:
        known = [*LOSS_REGULARISERS, *NET_REGULARISERS]
        raise SettingsError(f"unknown regulariser {name!r}; choose from {', '.join(known)}")


def _set_nets(tree: dict[str, Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise SettingsError(f"nets must be an object of width and depth, not {_kind(value)}")
    unknown = sorted(set(value) - {"width", "depth"})
    if unknown:
        raise SettingsError(f"nets has no {', '.join(unknown)}; it sets width and depth")
    for key, size in value.items():
        tree["discriminator"][key] = size
        if tree["generator"]["name"] == "mlp":
            tree["generator"][key] = size


def _set_optimiser(tree: dict[str, Any], name: Any) -> None:
    if name not in OPTIMISERS:
        raise SettingsError(f"optimiser={name!r}: choose one of {', '.join(OPTIMISERS)}")
    for side in ("g_optimizer", "d_optimizer"):
        current = tree["train"][side]
        if current["name"] != name:
            tree["train"][side] = {"name": name, "lr": current["lr"]}


def _changed_keys(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested dicts."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return [] if before == after else [prefix.rstrip(".")]
    changed = []
    for key in sorted(set(before) | set(after), key=str):
        changed += _changed_keys(before.get(key), after.get(key), f"{prefix}{key}.")
    return changed


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
