"""One-click theory scenes: the set-ups of the lab's experiments (:mod:`gankit.lab`) as
playground sessions, each with one sentence of what to watch.

A scene is a config (laid over the playground's base config), the players that play
trains (``discriminator``: G stays as the scene set it, so D can be watched against a
fixed G), an optional fixed view box, and hooks: :meth:`Scene.networks` for networks no
config names (the bilinear game's linear critic), :meth:`Scene.prepare` to set G's weights
from the scene's parameters (the segments' offset θ, which the page may drag live) and
:meth:`Scene.trace` for a pair of parameters the page can plot over time.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from gankit.app.playground.settings import SettingsError, base_config, check_limits
from gankit.config import Config, resolve
from gankit.lab.mode_collapse import mode_collapse, variant_config
from gankit.lab.optimal_d import MODEL as OPTIMAL_D_MODEL
from gankit.nets import build_generator
from gankit.nets.discriminator import Discriminator

SEGMENT_POINTS = 41
"""Points drawn along the data's segment {0} × [0, 1] in the JS-vs-W scene."""
SEGMENT_JITTER = 0.01
SEGMENT_WIDTH = 1e-3
"""σ of G's x coordinate in the JS-vs-W scene: G's segment is this thin."""
SATURATION_START = (5.0, 0.5)
"""(μ, σ) of the affine G the saturation scene starts from, far from N(0, 1)."""
BILINEAR_START = (1.0, 0.0)
"""(θ, ψ): G's point and D's slope at the start of the bilinear game."""
BILINEAR_WIDTH = 1e-3
"""σ of the bilinear game's G(z) = θ + σz: a point mass for the eye."""
BILINEAR_DATA_STD = 1e-3
"""σ of the data around 0 in the bilinear game."""


class Scene:
    """A named set-up; see the module docstring."""

    def __init__(
        self,
        name: str,
        title: str,
        watch: str,
        config: Mapping[str, Any],
        players: str = "both",
        bounds: list[float] | None = None,
        parameters: Mapping[str, float] | None = None,
    ) -> None:
        self.name, self.title, self.watch = name, title, watch
        self.overrides = dict(config)
        self.players = players
        """``both``: play trains whole iterations; ``discriminator``: D alone."""
        self.bounds = bounds
        self.parameters = dict(parameters or {})
        """The scene's own settings (``scene.<name>`` changes) and their defaults."""

    def config(self) -> Config:
        """The scene's config: its keys over the playground's base config."""
        config = resolve(base_config(), self.overrides)
        check_limits(config)
        return config

    def networks(self, config: Config) -> dict[str, nn.Module] | None:
        """Networks the config cannot name, built from torch's global generator (seeded by
        the caller), or None to let the task build them."""
        return None

    def prepare(self, trainer: Any, parameters: Mapping[str, float]) -> None:
        """Set what the scene fixes by hand (G's weights) from its ``parameters``."""

    def trace(self, trainer: Any) -> list[float] | None:
        """Two numbers to follow over time, or None."""
        return None

    def check(self, parameters: Mapping[str, Any]) -> dict[str, float]:
        """The scene's parameters with ``parameters`` laid over them, checked."""
        unknown = sorted(set(parameters) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise SettingsError(f"scene {self.name} has no {', '.join(unknown)} (it has {known})")
        out = dict(self.parameters)
        for key, value in parameters.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"scene.{key} must be a number, not {value!r}")
            if not math.isfinite(value) or abs(value) > 10:
                raise SettingsError(f"scene.{key} must lie in [-10, 10], got {value}")
            out[key] = float(value)
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "watch": self.watch,
            "parameters": dict(self.parameters),
        }


class Segments(Scene):
    """Arjovsky et al. (2017), Example 1 (:mod:`gankit.lab.js_vs_w`): data uniform on
    {0} × [0, 1], G uniform on {θ} × [0, 1]; D trains against the fixed G."""

    def prepare(self, trainer: Any, parameters: Mapping[str, float]) -> None:
        G = trainer.generator  # affine: G(z) = μ + σ ⊙ z, z ~ U(−1, 1)²
        with torch.no_grad():
            G.loc.copy_(torch.tensor([parameters["theta"], 0.5]))
            G.log_scale.copy_(torch.tensor([math.log(SEGMENT_WIDTH), math.log(0.5)]))


class Bilinear(Scene):
    """The bilinear game of :mod:`gankit.lab.bilinear` played by a GAN (the Dirac GAN of
    Mescheder et al. 2018): data at 0, G(z) = θ (a point), a linear critic D(x) = ψx + b,
    the Wasserstein losses and plain SGD, so the updates are those of ψ·θ."""

    def networks(self, config: Config) -> dict[str, nn.Module]:
        generator = build_generator(config.generator, config.noise.dim, (1,), "none")
        return {"generator": generator, "discriminator": Discriminator(nn.Flatten(), 1, None)}

    def prepare(self, trainer: Any, parameters: Mapping[str, float]) -> None:
        theta, psi = BILINEAR_START
        linear = trainer.discriminator.head[0]
        with torch.no_grad():
            trainer.generator.loc.fill_(theta)
            linear.weight.fill_(psi)
            linear.bias.zero_()

    def trace(self, trainer: Any) -> list[float]:
        theta = float(trainer.generator.loc.detach().reshape(-1)[0])
        psi = float(trainer.discriminator.head[0].weight.detach().reshape(-1)[0])
        return [theta, psi]


def _mode_collapse_config(variant: str) -> dict[str, Any]:
    """The mode-collapse experiment's config of ``variant`` at its default settings, as
    overrides of the playground's base config."""
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(mode_collapse).parameters.items()
        if name in inspect.signature(variant_config).parameters
    }
    config = variant_config(variant, **defaults)
    train = config["train"]
    overrides = {
        key: config[key]
        for key in ("seed", "data", "noise", "generator", "discriminator", "objective")
    }
    overrides["regularisers"] = config.get("regularisers", {})
    for key in ("batch_size", "d_steps", "g_optimizer", "d_optimizer"):
        if key in train:
            overrides[f"train.{key}"] = train[key]
    return overrides


_DIRAC = {
    "data": {"name": "normal1d", "mean": 0.0, "std": BILINEAR_DATA_STD},
    "noise": {"dim": 1},
    "generator": {"name": "affine", "init_mean": BILINEAR_START[0], "init_std": BILINEAR_WIDTH},
    "discriminator": {"name": "mlp", "width": 1, "depth": 1},
    "objective": {"name": "wasserstein"},
    "train.batch_size": 64,
    "train.g_optimizer": {"name": "sgd", "lr": 0.1},
    "train.d_optimizer": {"name": "sgd", "lr": 0.1},
}
_SEGMENT_POINTS = [[0.0, i / (SEGMENT_POINTS - 1)] for i in range(SEGMENT_POINTS)]

SCENES: dict[str, Scene] = {
    scene.name: scene
    for scene in (
        Scene(
            "optimal-d",
            "The optimal discriminator",
            "G is held at N(0, 1): watch D settle onto D* = p_data/(p_data + p_G) wherever "
            "samples fall, and its estimate climb to the exact JS (Goodfellow et al. 2014, "
            "Prop. 1).",
            {
                "data": {"name": "bimodal1d"},
                "noise": {"dim": 1},
                "generator": {
                    "name": "affine",
                    "init_mean": float(OPTIMAL_D_MODEL.modes[0, 0]),
                    "init_std": float(OPTIMAL_D_MODEL.component_stds[0, 0]),
                },
            },
            players="discriminator",
        ),
        Segments(
            "js-vs-w",
            "JS against W1 on parallel segments",
            "Drag θ: with the segments apart D's JS estimate climbs to log 2 and, under the "
            "minimax loss, G's arrows shrink to nothing: JS gives G no slope; switch the "
            "objective to wasserstein with the gradient penalty and the estimate follows "
            "W1 = |θ| with arrows towards the data (Arjovsky et al. 2017, Example 1).",
            {
                "data": {"name": "drawn", "points": _SEGMENT_POINTS, "jitter": SEGMENT_JITTER},
                "objective": {"name": "minimax"},
                "noise": {"dim": 2, "distribution": "uniform"},
                "generator": {"name": "affine"},
            },
            players="discriminator",
            bounds=[-1.25, 1.25, -0.75, 1.75],
            parameters={"theta": 0.5},
        ),
        Scene(
            "saturation",
            "Saturation of the minimax loss",
            "With the minimax loss D soon rejects G's samples (D(G(z)) → 0) and the arrows on "
            "them shrink to nothing, so G stalls far from the data; switch the objective to "
            "nonsaturating and the same D pulls G over (Goodfellow et al. 2014, §3).",
            {
                "data": {"name": "normal1d"},
                "noise": {"dim": 1},
                "generator": {
                    "name": "affine",
                    "init_mean": SATURATION_START[0],
                    "init_std": SATURATION_START[1],
                },
                "objective": {"name": "minimax"},
                "train.d_steps": 5,
            },
            bounds=[-4.0, 8.0, 0.0, 1.0],
        ),
        Bilinear(
            "bilinear",
            "The bilinear game",
            "G's point θ and D's slope ψ circle the equilibrium (0, 0) and never settle: "
            "alternating gradient steps on ψ·θ stay on an ellipse (see the trace); turn on R1 "
            "and they spiral in (Mescheder et al. 2018).",
            _DIRAC,
            bounds=[-2.5, 2.5, 0.0, 1.0],
        ),
        Scene(
            "mode-collapse",
            "Mode collapse",
            "G learns 10× faster than D (1e-3 against 1e-4): its samples gather on one or two "
            "modes of the ring and hop between them, and the coverage chart stays low; the "
            "three scenes that follow are the same game with one fix each.",
            _mode_collapse_config("plain"),
        ),
        Scene(
            "mode-collapse-minibatch",
            "Mode collapse, fixed by minibatch discrimination",
            "The same game, but D sees how close each sample lies to the rest of its batch: "
            "a clump is easy to reject, and the coverage chart climbs towards 8 of 8 modes "
            "(Salimans et al. 2016).",
            _mode_collapse_config("minibatch"),
        ),
        Scene(
            "mode-collapse-wgan-gp",
            "Mode collapse, fixed by WGAN-GP",
            "The same ring with a Wasserstein critic and the gradient penalty (k = 5): the "
            "critic's surface slopes towards every uncovered mode and G spreads over them "
            "(Gulrajani et al. 2017).",
            _mode_collapse_config("wgan-gp"),
        ),
        Scene(
            "mode-collapse-pacgan",
            "Mode collapse, fixed by packing",
            "The same game, but D scores packs of 4 samples: a pack from a collapsed G looks "
            "nothing like four real samples, and coverage rises (PacGAN, Lin et al. 2018).",
            _mode_collapse_config("pack4"),
        ),
    )
}
"""Every scene by name, in the order the page lists them."""


def scene(name: Any) -> Scene:
    """The scene ``name``, or a one-line refusal listing them."""
    if name not in SCENES:
        raise SettingsError(f"unknown scene {name!r}; choose one of {', '.join(SCENES)}")
    return SCENES[name]
