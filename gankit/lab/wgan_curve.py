"""A loss curve that means something: WGAN-GP's critic tracks sample quality, the standard
GAN's discriminator does not (Arjovsky, Chintala & Bottou 2017, Fig. 3–4).

Two runs on MNIST-5k share the generator, an MLP on flattened 28×28 images (two hidden
layers with BatchNorm, the same initial weights in both runs), and the discriminator's
architecture (an MLP without normalisation); they differ in the game:

* **WGAN-GP** (Gulrajani et al. 2017): Wasserstein objective, gradient penalty λ = 10, five
  critic steps per generator step, Adam β = (0.5, 0.9). The learning rates are 2·10⁻⁴ for G
  and 5·10⁻⁴ for the critic (two time scales, Heusel et al. 2017). A critic's value estimates
  W1 only near its optimum; with the paper's 10⁻⁴ for both, this small critic falls behind the
  generator early on (its estimate dips to a fraction of its later value while the samples are
  still poor, then climbs back), and the faster critic keeps up.
* the **standard GAN** with the non-saturating generator loss, one D step per G step,
  Adam(2·10⁻⁴, β = (0.5, 0.999)) for both (DCGAN's settings).

Before training, ``holdout`` of the 5,000 digits are set aside; the runs train on the rest.
At ``evals`` evenly spaced steps of each run a callback measures, on the held-out digits and
on ``holdout`` samples from a fixed z (G in eval mode):

* the training critic's **divergence estimate** on those sets: for WGAN-GP the W1 estimate
  E_real[f] − E_fake[f]; for the GAN the JS estimate (E log D(x) + E log(1 − D(G(z))) +
  log 4)/2. The Trainer's own ``divergence_estimate``, averaged over the log window (the
  ``every`` training minibatches before the evaluation), is recorded as ``logged``;
* a **fresh JS estimate**: a discriminator trained afresh on that checkpoint's samples against
  the held-out digits (:func:`gankit.estimate.estimate`: an MLP of width 64, ``js_steps``
  Adam steps on 75 % of each set, the bound evaluated on the other 25 %), for both runs.
  Every JS estimate is a lower bound on JS ≤ log 2 ≈ 0.693 nats;
* **sample quality**, independent of every critic: the Fréchet distance (Heusel et al. 2017)
  between generated and held-out digits in the 64 penultimate features of a digit classifier
  (an MLP trained here for a few seconds on the training digits' labels; gankit ships no
  classifier): ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½), lower is better. The floor is the
  same distance between as many training digits and the held-out ones. Also recorded: the
  exact W1 by optimal transport between ``n_quality`` generated and ``n_quality`` held-out
  digits in pixel space (pixels in [−1, 1]). Pixel distances reward blur at this sample size:
  real digits blurred by a Gaussian of σ = 1 pixel, or pulled halfway to their class mean, lie
  closer to the held-out digits (pixel W1 ≈ 11.5 and 11.1) than unaltered real digits do
  (≈ 12.5), while the feature distance grows from ≈ 4 to ≈ 33 and 16. So the Fréchet distance
  is the quality measure the correlations use; pixel W1 is reported beside it.

The claim is that the W1 estimate and the quality measure fall together (Spearman rank
correlation near +1 over the evaluation points) while the GAN's JS estimate does not follow
quality. Both runs train on one torch thread: the networks are small, and intra-op threads
cost more than they gain on shared cores.

The runs are started with ``data: mnist5k`` and a callback swaps the Trainer's data source
for the training subset before the first step, so ``config.yaml`` in their run directories
(``<out_dir>/runs/wgan-gp`` and ``<out_dir>/runs/gan``) names the full set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from scipy import stats
from torch import Tensor, nn
from tqdm.auto import tqdm

from gankit.api import train
from gankit.data.base import TensorImageSource
from gankit.data.images import Mnist5kOptions, mnist5k
from gankit.estimate import estimate
from gankit.lab.base import (
    LabError,
    LabResult,
    experiment,
    finish,
    fresh_run_dir,
    single_thread,
)
from gankit.metrics.divergences import wasserstein1_empirical
from gankit.metrics.frechet import frechet_distance_features
from gankit.nets.modes import evaluating
from gankit.prior import Prior
from gankit.seeding import derive_seed
from gankit.train.callbacks import Callback
from gankit.viz import image_grid, new_figure

if TYPE_CHECKING:
    from gankit.train.trainer import Trainer

LOG2 = math.log(2.0)
PRESET = "wgan-curve"
GAMES = ("wgan-gp", "gan")
FEATURES = 64  # the classifier's penultimate width: the space of the Fréchet distance
CLASSIFIER_STEPS = 500
JS_WIDTH = 64


# -- the two runs ----------------------------------------------------------------------------


def run_config(
    game: str, *, seed: int, steps: int, every: int, width: int, z_dim: int, batch_size: int
) -> dict[str, Any]:
    """The full config of one run, ``game`` "wgan-gp" or "gan"; G, its initial weights and
    D's architecture are the same in both."""
    config: dict[str, Any] = {
        "preset": PRESET,
        "seed": seed,
        "device": "cpu",
        "data": {"name": "mnist5k"},
        "noise": {"dim": z_dim},
        "generator": {"name": "mlp", "width": width, "depth": 2, "norm": "batch"},
        "discriminator": {"name": "mlp", "width": width, "depth": 2},
        "log": {"every": every, "tensorboard": False},
        "samples": {"every": 0, "count": 64},
        "checkpoint": {"every": 0, "keep": 1},
    }
    if game == "wgan-gp":
        config["objective"] = {"name": "wasserstein"}
        config["regularisers"] = {"gradient_penalty": {"weight": 10.0}}
        config["train"] = {
            "steps": steps,
            "batch_size": batch_size,
            "d_steps": 5,
            "g_optimizer": {"name": "adam", "lr": 2e-4, "betas": [0.5, 0.9]},
            "d_optimizer": {"name": "adam", "lr": 5e-4, "betas": [0.5, 0.9]},
        }
    elif game == "gan":
        adam = {"name": "adam", "lr": 2e-4, "betas": [0.5, 0.999]}
        config["objective"] = {"name": "nonsaturating"}
        config["train"] = {
            "steps": steps,
            "batch_size": batch_size,
            "d_steps": 1,
            "g_optimizer": adam,
            "d_optimizer": dict(adam),
        }
    else:
        raise LabError(f"wgan-curve: unknown game {game!r}; choose one of: {', '.join(GAMES)}")
    return config


@dataclass
class HeldOut:
    """The digits no run trains on, in [−1, 1], with their labels."""

    images: Tensor  # (n, 1, 28, 28)
    labels: Tensor  # (n,)


def split_holdout(
    source: TensorImageSource, holdout: int, seed: int
) -> tuple[TensorImageSource, HeldOut]:
    """(a source of the other images, the ``holdout`` held-out ones), split by a random
    permutation drawn from ``seed``."""
    if not 2 <= holdout <= len(source) - 2:
        raise LabError(f"wgan-curve: holdout must lie in [2, {len(source) - 2}], got {holdout}")
    assert source.labels is not None
    order = torch.randperm(
        len(source), generator=torch.Generator().manual_seed(derive_seed(seed, "holdout"))
    )
    kept, held = order[holdout:], order[:holdout]
    training = TensorImageSource(
        source.images[kept],
        source.labels[kept],
        source.class_names,
        name=f"{source.name} without {holdout} held-out images",
    )
    images = source.images[held].float().div(127.5).sub(1.0)
    return training, HeldOut(images, source.labels[held])


# -- the quality measure ---------------------------------------------------------------------


def train_classifier(
    source: TensorImageSource, seed: int, steps: int = CLASSIFIER_STEPS
) -> nn.Module:
    """A digit classifier 784 → 256 → 64 → 10 (ReLU) trained with Adam(10⁻³) on minibatches
    of 128 labelled images of ``source``; returns its feature map (everything but the last
    layer), in eval mode. The global RNG is left as it was."""
    assert source.labels is not None
    generator = torch.Generator().manual_seed(derive_seed(seed, "classifier"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "classifier_init"))
        features = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, FEATURES), nn.ReLU()
        )
        head = nn.Linear(FEATURES, len(source.class_names or range(10)))
    optimiser = torch.optim.Adam([*features.parameters(), *head.parameters()], lr=1e-3)
    for _ in range(steps):
        index = torch.randint(len(source), (128,), generator=generator)
        x = source.images[index].float().div(127.5).sub(1.0)
        loss = F.cross_entropy(head(features(x)), source.labels[index])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    classifier = nn.Sequential(features, head).eval()
    classifier.requires_grad_(False)
    return classifier


@torch.no_grad()
def feature_distance(classifier: nn.Module, x: Tensor, y: Tensor) -> float:
    """The Fréchet distance (:func:`gankit.metrics.frechet.frechet_distance_features`)
    between ``x`` and ``y`` in the classifier's penultimate features."""
    features = classifier[0]
    return frechet_distance_features(features(x), features(y))


# -- measuring during training ---------------------------------------------------------------


@torch.no_grad()
def _generate(generator: nn.Module, z: Tensor) -> Tensor:
    with evaluating(generator):
        return generator(z).float().cpu()


@torch.no_grad()
def _critic_outputs(discriminator: nn.Module, x: Tensor) -> Tensor:
    with evaluating(discriminator):
        return discriminator(x).reshape(-1).double()


@dataclass
class Probe:
    """What is measured at each evaluation point, the same way for both runs."""

    held_out: HeldOut
    z: Tensor
    classifier: nn.Module
    n_quality: int
    js_steps: int
    seed: int

    def measure(self, trainer: Trainer) -> dict[str, Any]:
        """The training critic's estimate on the held-out digits against G(z), the quality
        measures and the fresh JS estimate. Draws nothing from the Trainer's random streams
        and leaves the global RNG as it was."""
        real = self.held_out.images
        fake = _generate(trainer.generator, self.z.to(trainer.device))
        device = trainer.device
        real_out = _critic_outputs(trainer.discriminator, real.to(device))
        fake_out = _critic_outputs(trainer.discriminator, fake.to(device))
        n = self.n_quality
        point: dict[str, Any] = {
            "critic": float(trainer.objective.divergence_estimate(real_out, fake_out)),
            "quality": feature_distance(self.classifier, fake, real),
            "pixel_w1": wasserstein1_empirical(fake[:n].numpy(), real[:n].numpy()),
        }
        if self.js_steps > 0:
            result = estimate(
                real,
                fake,
                "js",
                samples=len(real),
                steps=self.js_steps,
                batch_size=256,
                width=JS_WIDTH,
                eval_every=self.js_steps,
                bootstrap=200,
                seed=self.seed,
                device="cpu",
            )
            point["fresh_js"] = result.value
            point["fresh_js_ci"] = list(result.ci)
            point["fresh_js_accuracy"] = result.holdout_accuracy
        return point


class CurveCallback(Callback):
    """Trains on ``training`` instead of the configured source and every ``every`` steps
    appends ``probe.measure`` and the last logged ``divergence_estimate`` to ``points``."""

    def __init__(self, training: TensorImageSource, probe: Probe, every: int, bar: Any) -> None:
        self.training = training
        self.probe = probe
        self.every = every
        self.bar = bar
        self.record: dict[str, Any] = {}
        self.points: list[dict[str, Any]] = []

    def on_fit_start(self, trainer: Trainer) -> None:
        trainer.source = self.training.to(trainer.device)

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self.record = record

    def on_step_end(self, trainer: Trainer, step: int) -> None:
        self.bar.update(1)
        if step % self.every == 0:
            current = self.record.get("step") == step
            logged = self.record.get("divergence_estimate") if current else None
            self.points.append({"step": step, "logged": logged, **self.probe.measure(trainer)})


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation of two equal-length sequences (NaN if either is constant
    or shorter than 3)."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


# -- the experiment --------------------------------------------------------------------------


@experiment(
    "wgan-curve",
    "WGAN-GP's critic estimate of W1 falls with sample quality; the GAN's JS estimate does not",
)
def wgan_curve(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    steps: int = 1000,
    gan_steps: int = 2000,
    evals: int = 10,
    width: int = 128,
    z_dim: int = 64,
    batch_size: int = 64,
    holdout: int = 1000,
    n_quality: int = 500,
    js_steps: int = 100,
) -> LabResult:
    """Train WGAN-GP for ``steps`` and the GAN for ``gan_steps`` generator steps (the GAN's
    are about five times cheaper) on MNIST-5k less ``holdout`` digits, measuring both at
    ``evals`` evenly spaced steps; ``js_steps`` Adam steps train each fresh JS discriminator
    (0 skips it)."""
    if evals < 3 or steps % evals or gan_steps % evals or steps < evals or gan_steps < evals:
        raise LabError(
            f"wgan-curve: needs evals ≥ 3 dividing both steps and gan_steps; got evals={evals}, "
            f"steps={steps}, gan_steps={gan_steps}"
        )
    if not 2 <= n_quality <= holdout // 2 or min(width, z_dim, batch_size) < 1 or js_steps < 0:
        raise LabError(
            "wgan-curve: needs 2 ≤ n_quality ≤ holdout / 2 (the pixel-W1 floor compares two "
            "disjoint halves of the held-out digits), width, z_dim, batch_size ≥ 1 and "
            f"js_steps ≥ 0; got n_quality={n_quality}, holdout={holdout}, width={width}, "
            f"z_dim={z_dim}, batch_size={batch_size}, js_steps={js_steps}"
        )
    with single_thread():
        source = mnist5k(Mnist5kOptions())
        training, held_out = split_holdout(source, holdout, seed)
        classifier = train_classifier(training, seed)
        z = Prior(z_dim).sample(holdout, torch.Generator().manual_seed(derive_seed(seed, "z")))
        probe = Probe(held_out, z, classifier, n_quality, js_steps, seed)
        reference = training.images[:holdout].float().div(127.5).sub(1.0)
        floors = {
            "quality": feature_distance(classifier, reference, held_out.images),
            "pixel_w1": wasserstein1_empirical(
                held_out.images[:n_quality].numpy(),
                held_out.images[n_quality : 2 * n_quality].numpy(),
            ),
        }
        with torch.no_grad():
            logits = classifier(held_out.images)
        accuracy = float((logits.argmax(dim=1) == held_out.labels).double().mean())
        curves: dict[str, list[dict[str, Any]]] = {}
        grids: dict[str, np.ndarray] = {}
        runs_root = Path(out_dir) / "runs"
        bar = tqdm(total=steps + gan_steps, desc="wgan-curve", unit="step", disable=not progress)
        with bar:
            for game, game_steps in (("wgan-gp", steps), ("gan", gan_steps)):
                every = game_steps // evals
                config = run_config(
                    game,
                    seed=seed,
                    steps=game_steps,
                    every=every,
                    width=width,
                    z_dim=z_dim,
                    batch_size=batch_size,
                )
                callback = CurveCallback(training, probe, every, bar)
                run = train(
                    config,
                    run_dir=fresh_run_dir(runs_root / game, PRESET),
                    callbacks=[callback],
                    progress=False,
                )
                curves[game] = callback.points
                grids[game] = image_grid(_generate(run.generator, z[:36]), nrow=6)
    numbers = _numbers(curves, floors, accuracy, seed, steps, gan_steps, holdout, n_quality)
    lines = _report(numbers)
    figure = _draw(curves, floors, grids)
    return finish("wgan-curve", numbers, lines, figure, out_dir)


def _numbers(
    curves: dict[str, list[dict[str, Any]]],
    floors: dict[str, float],
    accuracy: float,
    seed: int,
    steps: int,
    gan_steps: int,
    holdout: int,
    n_quality: int,
) -> dict[str, Any]:
    """Every curve, and the correlations and summaries behind each claim."""
    numbers: dict[str, Any] = {
        "seed": seed,
        "steps": steps,
        "gan_steps": gan_steps,
        "holdout": holdout,
        "n_quality": n_quality,
        "classifier_holdout_accuracy": accuracy,
        "quality_floor": floors["quality"],
        "pixel_w1_floor": floors["pixel_w1"],
        "log2": LOG2,
    }
    for game, key in (("wgan-gp", "wgan_gp"), ("gan", "gan")):
        points = curves[game]
        numbers[key] = {name: [p[name] for p in points] for name in points[0]}
        critic = [p["critic"] for p in points]
        quality = [p["quality"] for p in points]
        numbers[f"{key}_critic_first_last"] = [critic[0], critic[-1]]
        numbers[f"{key}_quality_first_last"] = [quality[0], quality[-1]]
        numbers[f"{key}_pixel_w1_first_last"] = [points[0]["pixel_w1"], points[-1]["pixel_w1"]]
        numbers[f"{key}_spearman_critic_quality"] = spearman(critic, quality)
        pixel = [p["pixel_w1"] for p in points]
        numbers[f"{key}_spearman_critic_pixel_w1"] = spearman(critic, pixel)
        if "fresh_js" in points[0]:
            fresh = [p["fresh_js"] for p in points]
            numbers[f"{key}_fresh_js_mean"] = float(np.mean(fresh))
            numbers[f"{key}_fresh_js_range"] = [min(fresh), max(fresh)]
            numbers[f"{key}_fresh_js_max_gap_to_log2"] = max(LOG2 - v for v in fresh)
            numbers[f"{key}_spearman_fresh_js_quality"] = spearman(fresh, quality)
            hits = [p["fresh_js_accuracy"] for p in points]
            numbers[f"{key}_fresh_js_accuracy_range"] = [min(hits), max(hits)]
    js = [p["critic"] for p in curves["gan"]]
    numbers["gan_js_mean"] = float(np.mean(js))
    numbers["gan_js_range"] = [min(js), max(js)]
    return numbers


def _report(n: dict[str, Any]) -> list[str]:
    """One line per finding."""
    w_critic = n["wgan_gp_critic_first_last"]
    w_quality, g_quality = n["wgan_gp_quality_first_last"], n["gan_quality_first_last"]
    lines = [
        f"quality = Fréchet distance in a digit classifier's features ({FEATURES}-d; "
        f"{n['classifier_holdout_accuracy']:.1%} held-out accuracy) to {n['holdout']} held-out "
        f"digits; training vs held-out digits: {n['quality_floor']:.1f}",
        f"WGAN-GP, {n['steps']} steps: critic's W1 estimate {w_critic[0]:.2f} → "
        f"{w_critic[1]:.2f}, quality {w_quality[0]:.0f} → {w_quality[1]:.0f}; Spearman "
        f"ρ(W1 estimate, quality) = {n['wgan_gp_spearman_critic_quality']:+.2f} "
        f"(with pixel W1: {n['wgan_gp_spearman_critic_pixel_w1']:+.2f})",
        f"GAN, {n['gan_steps']} steps: training D's JS estimate mean {n['gan_js_mean']:.3f}, "
        f"range {n['gan_js_range'][0]:.3f}–{n['gan_js_range'][1]:.3f} (log 2 = {LOG2:.3f}); "
        f"quality {g_quality[0]:.0f} → {g_quality[1]:.0f}; Spearman ρ(JS estimate, quality) = "
        f"{n['gan_spearman_critic_quality']:+.2f}",
    ]
    if "gan_fresh_js_mean" in n:
        low, high = n["gan_fresh_js_accuracy_range"]
        lines.append(
            f"GAN, a D trained afresh on each checkpoint: JS estimate mean "
            f"{n['gan_fresh_js_mean']:.3f}, never more than {n['gan_fresh_js_max_gap_to_log2']:.3f}"
            f" below log 2, held-out accuracy {low:.1%}–{high:.1%}: it separates every checkpoint"
            " almost perfectly, whatever the quality"
        )
        low, high = n["wgan_gp_fresh_js_range"]
        acc_low, acc_high = n["wgan_gp_fresh_js_accuracy_range"]
        lines.append(
            f"WGAN-GP, the same fresh D: JS estimate {high:.3f} → down to {low:.3f} (held-out "
            f"accuracy {acc_high:.1%} → {acc_low:.1%}); Spearman ρ with quality "
            f"{n['wgan_gp_spearman_fresh_js_quality']:+.2f}: once samples get hard to separate, "
            "a fresh D's JS estimate falls too"
        )
    lines.append(
        f"pixel W1 ({n['n_quality']} vs {n['n_quality']} digits, [−1, 1]): WGAN-GP "
        f"{n['wgan_gp_pixel_w1_first_last'][0]:.2f} → {n['wgan_gp_pixel_w1_first_last'][1]:.2f}"
        f", GAN {n['gan_pixel_w1_first_last'][0]:.2f} → {n['gan_pixel_w1_first_last'][1]:.2f}; "
        f"two disjoint sets of real digits: {n['pixel_w1_floor']:.2f}"
    )
    return lines


def _draw(
    curves: dict[str, list[dict[str, Any]]], floors: dict[str, float], grids: dict[str, np.ndarray]
) -> Figure:
    """WGAN-GP's W1 estimate and quality; the GAN's JS estimates and quality; the fresh D's
    JS estimate against quality for both runs; final samples of both runs."""
    figure = new_figure(21, 5.2)
    layout = figure.add_gridspec(1, 4, width_ratios=[1, 1, 1, 1.25])
    panels = [figure.add_subplot(layout[0, i]) for i in range(4)]
    for axes, game in zip(panels[:2], ("wgan-gp", "gan"), strict=True):
        points = curves[game]
        steps = [p["step"] for p in points]
        critic_label = {
            "wgan-gp": "critic's W1 estimate (held-out)",
            "gan": "training D's JS estimate (held-out)",
        }[game]
        axes.plot(steps, [p["critic"] for p in points], "o-", color="tab:red", label=critic_label)
        if game == "wgan-gp":
            axes.set(ylabel="W1 estimate (pixels in [−1, 1])", title="WGAN-GP", ylim=(0, None))
        else:
            if "fresh_js" in points[0]:
                axes.plot(
                    steps,
                    [p["fresh_js"] for p in points],
                    "^-",
                    color="tab:purple",
                    label="fresh D's JS estimate",
                )
            axes.axhline(LOG2, color="k", ls="--", lw=1, label="log 2")
            axes.set(
                ylabel="JS estimate (nats)", ylim=(0, 0.75), title="standard GAN (non-saturating)"
            )
        axes.set_xlabel("generator step")
        quality = axes.twinx()
        quality.semilogy(
            steps,
            [p["quality"] for p in points],
            "s-",
            color="tab:blue",
            label="quality: feature Fréchet distance",
        )
        quality.axhline(
            floors["quality"],
            color="tab:blue",
            ls=":",
            lw=1,
            label="Fréchet distance, training vs held-out digits",
        )
        quality.set_ylabel("Fréchet distance (lower is better)", color="tab:blue")
        handles, labels = axes.get_legend_handles_labels()
        more, more_labels = quality.get_legend_handles_labels()
        axes.legend(
            handles + more,
            labels + more_labels,
            fontsize=7,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.13),
            ncol=2,
        )

    scatter = panels[2]
    if "fresh_js" in curves["gan"][0]:
        for game, colour in (("wgan-gp", "tab:green"), ("gan", "tab:orange")):
            points = curves[game]
            scatter.plot(
                [p["quality"] for p in points],
                [p["fresh_js"] for p in points],
                "o-",
                color=colour,
                label=game,
            )
        scatter.axhline(LOG2, color="k", ls="--", lw=1, label="log 2")
        scatter.set_xscale("log")
        scatter.invert_xaxis()
        scatter.legend(fontsize=8, loc="lower left")
    scatter.set(
        xlabel="Fréchet distance (better →)",
        ylabel="fresh D's JS estimate (nats)",
        ylim=(0, 0.75),
        title="a fresh D at every evaluation",
    )

    pad = np.zeros((grids["wgan-gp"].shape[0], 8, 1), dtype=np.uint8)
    both = np.concatenate([grids["wgan-gp"], pad, grids["gan"]], axis=1)[:, :, 0]
    panels[3].imshow(both, cmap="gray", vmin=0, vmax=255)
    panels[3].set(title="final samples: WGAN-GP (left), GAN (right)", xticks=[], yticks=[])
    return figure
