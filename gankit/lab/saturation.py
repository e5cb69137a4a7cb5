"""Why the minimax generator loss saturates, and what the non-saturating one optimises.

With D(x) = σ(l(x)) for a logit l, the generator's minimax loss log(1 − D(G(z))) =
−softplus(l) has logit gradient −σ(l) = −D: it vanishes as D confidently rejects the fakes
(D(G(z)) → 0). The non-saturating loss −log D(G(z)) = softplus(−l) has gradient
−(1 − σ(l)) → −1 there (Goodfellow et al. 2014, §3). Against the optimal discriminator
D* = p_r / (p_r + p_g), the non-saturating loss is not a divergence but (Arjovsky & Bottou
2017, §2.2)

    E_{P_g}[−log D*] = KL(P_g‖P_r) − 2·JS(P_r‖P_g) + 2 log 2 + E_{P_r}[log D*],

because KL(P_g‖P_r) = E_g[log(1 − D*) − log D*] and 2·JS − 2 log 2 = E_r[log D*] +
E_g[log(1 − D*)], with JS in nats, 0 ≤ JS ≤ log 2.

The experiment checks the identity by quadrature for two Gaussian pairs, trains a
discriminator against a fixed affine generator G(z) = μ + σz far from P_r = N(0, 1) and
measures the gradient that each loss sends to (μ, σ), and sweeps the separation with the
optimal discriminator in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy import integrate, special
from tqdm import tqdm

from gankit.lab.base import LabError, LabResult, experiment, finish, single_thread
from gankit.metrics.divergences import gaussian_log_density
from gankit.nets.mlp import MLPDiscriminator
from gankit.objectives.gan import minimax_d_loss, minimax_g_loss, nonsaturating_g_loss
from gankit.viz import new_figure

IDENTITY_PAIRS = (((0.0, 1.0), (2.0, 0.7)), ((0.0, 1.0), (-1.0, 1.5)))
"""(P_r, P_g) pairs, each Gaussian as (mean, std), on which the identity is checked."""
SWEEP_MEANS = np.linspace(0.0, 8.0, 65)
_GRID_HALF_WIDTH = 14.0  # standard deviations; Gaussian mass beyond is below 1e-44
_GRID_DENSITY = 2000  # points per unit length


@dataclass(frozen=True)
class Gaussian:
    """N(mean, std²) on the real line."""

    mean: float
    std: float

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log N(x; μ, σ²)."""
        return gaussian_log_density(x, self.mean, self.std)


def covering_grid(*gaussians: Gaussian) -> np.ndarray:
    """An even grid that covers μ ± 14σ of every Gaussian, 2000 points per unit length."""
    low = min(g.mean - _GRID_HALF_WIDTH * g.std for g in gaussians)
    high = max(g.mean + _GRID_HALF_WIDTH * g.std for g in gaussians)
    return np.linspace(low, high, int(_GRID_DENSITY * (high - low)) + 1)


def gaussian_kl(p: Gaussian, q: Gaussian) -> float:
    """KL(N(μ₁, σ₁²)‖N(μ₂, σ₂²)) = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²) / (2σ₂²) − 1/2."""
    return math.log(q.std / p.std) + (p.std**2 + (p.mean - q.mean) ** 2) / (2 * q.std**2) - 0.5


def optimal_logit(x: np.ndarray, real: Gaussian, fake: Gaussian) -> np.ndarray:
    """The optimal discriminator's logit l*(x) = log p_r(x) − log p_g(x), so that
    σ(l*) = D* = p_r / (p_r + p_g) (Goodfellow et al. 2014, Prop. 1)."""
    return real.log_density(x) - fake.log_density(x)


def saturation_identity(real: Gaussian, fake: Gaussian) -> dict[str, float]:
    """Both sides of E_g[−log D*] = KL(P_g‖P_r) − 2·JS + 2 log 2 + E_r[log D*] by quadrature.

    Every term is an expectation of a difference of log-densities, with
    log(p_r + p_g) = logaddexp(log p_r, log p_g) and the mixture M = (P_r + P_g)/2:
    −log D* = log(p_r + p_g) − log p_r, KL(P_g‖P_r) = E_g[log p_g − log p_r] and
    JS = ½E_r[log p_r − log m] + ½E_g[log p_g − log m]. No density ratio is formed, so the
    terms stay finite however far apart or unequal in width the Gaussians are. Also returns
    the closed-form KL."""
    grid = covering_grid(real, fake)
    log_r, log_g = real.log_density(grid), fake.log_density(grid)
    log_sum = np.logaddexp(log_r, log_g)
    log_mixture = log_sum - math.log(2)
    p_r, p_g = np.exp(log_r), np.exp(log_g)

    def integral(values: np.ndarray) -> float:
        return float(integrate.trapezoid(values, grid))

    lhs = integral(p_g * (log_sum - log_r))
    real_log_d = integral(p_r * (log_r - log_sum))
    kl = integral(p_g * (log_g - log_r))
    js = 0.5 * integral(p_r * (log_r - log_mixture)) + 0.5 * integral(p_g * (log_g - log_mixture))
    rhs = kl - 2 * js + 2 * math.log(2) + real_log_d
    return {
        "lhs": lhs,
        "rhs": rhs,
        "difference": abs(lhs - rhs),
        "kl_g_r": kl,
        "kl_g_r_closed_form": gaussian_kl(fake, real),
        "js": js,
        "real_log_d": real_log_d,
    }


def optimal_d_gradients(real: Gaussian, fake: Gaussian) -> dict[str, float]:
    """Gradients w.r.t. (μ, σ) of both generator losses for G(z) = μ + σz at (μ, σ) equal to
    ``fake``, with D held at its optimum D* for ``fake``.

    With L(x) a loss of the logit l*(x), ∂/∂μ E_z[L(G(z))] = E_g[L'(x)] and
    ∂/∂σ E_z[L(G(z))] = E_g[L'(x)(x − μ)/σ], where l*'(x) = −(x − μ_r)/σ_r² + (x − μ_g)/σ_g²,
    and L' = −σ(l*)·l*' = −D*·l*' for the saturating log(1 − D) and −(1 − D*)·l*' for the
    non-saturating −log D. Expectations by the trapezoid rule over μ_g ± 14σ_g."""
    grid = covering_grid(fake)
    density = np.exp(fake.log_density(grid))
    logit = optimal_logit(grid, real, fake)
    slope = -(grid - real.mean) / real.std**2 + (grid - fake.mean) / fake.std**2
    noise = (grid - fake.mean) / fake.std
    gradients = {}
    weights = {"saturating": special.expit(logit), "nonsaturating": special.expit(-logit)}
    for name, weight in weights.items():
        dloss = -weight * slope
        d_mean = float(integrate.trapezoid(density * dloss, grid))
        d_std = float(integrate.trapezoid(density * dloss * noise, grid))
        gradients[f"{name}_mean"] = d_mean
        gradients[f"{name}_std"] = d_std
        gradients[f"{name}_norm"] = math.hypot(d_mean, d_std)
    return gradients


def logit_gradients(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Autograd gradients of the per-logit saturating loss log(1 − σ(l)) and non-saturating
    loss −log σ(l): −σ(l) and −(1 − σ(l)) in exact arithmetic."""
    logits = logits.detach().clone().requires_grad_(True)
    (saturating,) = torch.autograd.grad(minimax_g_loss(logits) * logits.numel(), logits)
    (nonsaturating,) = torch.autograd.grad(nonsaturating_g_loss(logits) * logits.numel(), logits)
    return saturating, nonsaturating


@dataclass
class _Probe:
    """Fixed batches on which D and the generator's gradients are measured."""

    real: torch.Tensor  # (N, 1)
    z: torch.Tensor  # (N, 1)


def _measure(
    discriminator: MLPDiscriminator, mean: torch.Tensor, std: torch.Tensor, probe: _Probe
) -> dict[str, float]:
    """D's mean D(G(z)), its accuracy on the probe batches, and ‖∇_(μ,σ)‖ of both G losses."""
    fake_logits = discriminator(mean + std * probe.z)
    saturating = torch.autograd.grad(minimax_g_loss(fake_logits), [mean, std], retain_graph=True)
    nonsaturating = torch.autograd.grad(nonsaturating_g_loss(fake_logits), [mean, std])
    with torch.no_grad():
        real_logits = discriminator(probe.real)
        accuracy = 0.5 * ((real_logits > 0).double().mean() + (fake_logits < 0).double().mean())
        return {
            "d_fake": float(torch.sigmoid(fake_logits).double().mean()),
            "accuracy": float(accuracy),
            "saturating": float(torch.stack(saturating).norm()),
            "nonsaturating": float(torch.stack(nonsaturating).norm()),
        }


@single_thread()
def train_discriminator(
    fake: Gaussian,
    *,
    seed: int,
    d_steps: int,
    every: int,
    batch_size: int,
    lr: float,
    width: int,
    progress: bool = False,
) -> dict[str, list[float]]:
    """Train an MLP discriminator with the minimax loss between P_r = N(0, 1) and a fixed
    G(z) = μ + σz, on fresh samples each step; every ``every`` steps measure D on a fixed
    probe batch. All randomness comes from ``seed``; the global torch RNG is left as it was.
    Runs on one torch thread."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        discriminator = MLPDiscriminator(in_shape=(1,), width=width, depth=2)
    mean = torch.tensor(fake.mean, requires_grad=True)
    std = torch.tensor(fake.std, requires_grad=True)
    probe = _Probe(
        real=torch.randn(4096, 1, generator=generator), z=torch.randn(4096, 1, generator=generator)
    )
    # β₁ = 0.5 as in DCGAN (Radford et al. 2016)
    optimiser = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    history: dict[str, list[float]] = {"step": []}

    def record(step: int) -> None:
        history["step"].append(step)
        for key, value in _measure(discriminator, mean, std, probe).items():
            history.setdefault(key, []).append(value)

    for step in tqdm(range(d_steps), desc="saturation: D steps", disable=not progress, leave=False):
        if step % every == 0:
            record(step)
        real = torch.randn(batch_size, 1, generator=generator)
        with torch.no_grad():
            fakes = mean + std * torch.randn(batch_size, 1, generator=generator)
        loss = minimax_d_loss(discriminator(real), discriminator(fakes))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    record(d_steps)
    return history


@experiment("saturation", "the minimax G loss's vanishing gradient, and what −log D optimises")
def saturation(
    *,
    out_dir: str | Path = "lab",
    seed: int = 0,
    progress: bool = True,
    mean: float = 8.0,
    std: float = 1.0,
    d_steps: int = 1000,
    every: int = 20,
    batch_size: int = 256,
    lr: float = 1e-3,
    width: int = 64,
) -> LabResult:
    """Check the −log D* identity, watch the saturating gradient vanish as D learns to reject
    G(z) = ``mean`` + ``std``·z, and sweep the separation with the optimal D."""
    if std <= 0 or d_steps < 1 or every < 1 or batch_size < 1 or lr <= 0 or width < 1:
        raise LabError(
            "saturation: needs std > 0, d_steps ≥ 1, every ≥ 1, batch_size ≥ 1, lr > 0 and "
            f"width ≥ 1; got std={std}, d_steps={d_steps}, every={every}, "
            f"batch_size={batch_size}, lr={lr}, width={width}"
        )
    real, fake = Gaussian(0.0, 1.0), Gaussian(mean, std)
    identities = [saturation_identity(Gaussian(*r), Gaussian(*g)) for r, g in IDENTITY_PAIRS]
    history = train_discriminator(
        fake,
        seed=seed,
        d_steps=d_steps,
        every=every,
        batch_size=batch_size,
        lr=lr,
        width=width,
        progress=progress,
    )
    probe_logits = torch.tensor([-10.0, -2.0, 0.0, 2.0], dtype=torch.float64)
    saturating_logit, nonsaturating_logit = logit_gradients(probe_logits)
    sweep = [optimal_d_gradients(real, Gaussian(float(m), std)) for m in SWEEP_MEANS]
    numbers = {
        "identity": [
            {"real": list(r), "fake": list(g), **values}
            for (r, g), values in zip(IDENTITY_PAIRS, identities, strict=True)
        ],
        "logit_gradient": {
            "logits": probe_logits.tolist(),
            "saturating": saturating_logit.tolist(),
            "nonsaturating": nonsaturating_logit.tolist(),
        },
        "training": {"mean": mean, "std": std, "seed": seed, **history},
        "ratio_start": history["saturating"][0] / history["nonsaturating"][0],
        "ratio_end": history["saturating"][-1] / history["nonsaturating"][-1],
        "sweep": {
            "mean": SWEEP_MEANS.tolist(),
            **{key: [g[key] for g in sweep] for key in sweep[0]},
        },
    }
    lines = _report(numbers, history, sweep, mean, std)
    figure = _draw(history, sweep, mean, std)
    return finish("saturation", numbers, lines, figure, out_dir)


def _report(
    numbers: dict,
    history: dict[str, list[float]],
    sweep: list[dict[str, float]],
    mean: float,
    std: float,
) -> list[str]:
    """One line per finding, with its numbers."""
    lines = []
    for entry in numbers["identity"]:
        lines.append(
            f"P_r = N{tuple(entry['real'])}, P_g = N{tuple(entry['fake'])} (mean, std): "
            f"E_g[−log D*] = {entry['lhs']:.10f}, KL(g‖r) − 2·JS + 2 log 2 + E_r[log D*] = "
            f"{entry['rhs']:.10f}, |difference| {entry['difference']:.1e}"
        )
        lines.append(
            f"  KL(g‖r) = {entry['kl_g_r']:.10f} by quadrature, {entry['kl_g_r_closed_form']:.10f}"
            f" closed form; JS = {entry['js']:.6f} nats; E_r[log D*] = {entry['real_log_d']:.6f}"
        )
    logit = numbers["logit_gradient"]
    lines.append(
        f"logit gradients at l = {logit['logits'][0]:g}: saturating {logit['saturating'][0]:.3g}"
        f" (= −σ(l)), non-saturating {logit['nonsaturating'][0]:.6f} (= −(1 − σ(l)))"
    )
    peak = int(np.argmax(history["saturating"]))
    lines.append(
        f"D trained against G(z) = {mean:g} + {std:g}·z: mean D(G(z)) {history['d_fake'][0]:.3g}"
        f" → {history['d_fake'][-1]:.2e}, accuracy {history['accuracy'][0]:.3f} → "
        f"{history['accuracy'][-1]:.4f} over {history['step'][-1]} steps"
    )
    lines.append(
        f"‖∇_(μ,σ)‖ saturating {history['saturating'][0]:.3g} → peak "
        f"{history['saturating'][peak]:.3g} (step {history['step'][peak]}) → "
        f"{history['saturating'][-1]:.3g}; non-saturating {history['nonsaturating'][0]:.3g} → "
        f"{history['nonsaturating'][-1]:.3g}"
    )
    lines.append(
        f"saturating / non-saturating gradient: {numbers['ratio_start']:.3g} at the start, "
        f"{numbers['ratio_end']:.2e} at the end"
    )
    for target in (2.0, 4.0, 8.0):
        i = int(np.argmin(np.abs(SWEEP_MEANS - target)))
        g = sweep[i]
        lines.append(
            f"optimal D, μ_g = {SWEEP_MEANS[i]:g}: ∂/∂μ saturating {g['saturating_mean']:.3e}, "
            f"non-saturating {g['nonsaturating_mean']:.3f} (ratio "
            f"{g['saturating_mean'] / g['nonsaturating_mean']:.2e})"
        )
    return lines


def _draw(
    history: dict[str, list[float]], sweep: list[dict[str, float]], mean: float, std: float
) -> Figure:
    """Gradient norms and D's confidence against D steps; the optimal-D sweep."""
    figure = new_figure(15, 4.5)
    norms, confidence, separation = (figure.add_subplot(1, 3, i) for i in (1, 2, 3))
    steps = history["step"]
    norms.semilogy(steps, history["saturating"], color="tab:red", label="saturating log(1 − D)")
    norms.semilogy(steps, history["nonsaturating"], color="tab:blue", label="non-saturating −log D")
    norms.set(
        xlabel="D step",
        ylabel="‖∇_(μ,σ) G loss‖",
        title=f"G(z) = {mean:g} + {std:g}·z against a training D",
    )
    norms.legend(fontsize=8)
    confidence.semilogy(steps, history["d_fake"], color="tab:purple", label="mean D(G(z))")
    confidence.set(xlabel="D step", ylabel="mean D(G(z))", title="D's confidence")
    accuracy = confidence.twinx()
    accuracy.plot(steps, history["accuracy"], color="tab:grey", ls="--", label="accuracy")
    accuracy.set(ylabel="accuracy on real and fake", ylim=(0.0, 1.02))
    handles = confidence.get_legend_handles_labels()
    twin_handles = accuracy.get_legend_handles_labels()
    confidence.legend(
        handles[0] + twin_handles[0], handles[1] + twin_handles[1], fontsize=8, loc="center right"
    )
    means = SWEEP_MEANS[1:]  # at μ_g = 0 both gradients are 0: the equilibrium
    for key, colour, label in (
        ("saturating", "tab:red", "saturating"),
        ("nonsaturating", "tab:blue", "non-saturating"),
    ):
        separation.semilogy(
            means, [g[f"{key}_norm"] for g in sweep[1:]], color=colour, label=f"{label}, optimal D"
        )
        separation.plot(
            mean, history[key][-1], "o", color=colour, mfc="none", label=f"{label}, trained D (end)"
        )
    separation.set(
        xlabel="μ_g (P_r = N(0, 1))",
        ylabel="‖∇_(μ,σ) G loss‖",
        title=f"optimal D against N(μ_g, {std:g}²)",
    )
    separation.legend(fontsize=8)
    return figure
