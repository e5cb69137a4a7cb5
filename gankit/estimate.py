"""Divergences between two sample sets, measured by training a discriminator.

"Sampling is good enough": we never know the densities p and q, yet a critic T trained on
samples to maximise a variational lower bound measures a divergence between them.

* f-divergences (Nowozin, Cseke & Tomioka 2016): D_f(P‖Q) ≥ E_P[T(x)] − E_Q[f*(T(x))], tight
  at T* = f′(p/q), for kl, reverse_kl, hellinger (squared, ∫(√p − √q)²), pearson, neyman
  and tv (½∫|p − q|), each with the output activation of :data:`F_DIVERGENCES`;
* Jensen–Shannon from the GAN game (Goodfellow et al. 2014, Thm. 1): max_D V(D) =
  2·JS(P‖Q) − log 4, so JS ≥ (V(D) + log 4)/2 for a logistic discriminator D;
* Wasserstein-1 by Kantorovich–Rubinstein duality (Arjovsky et al. 2017):
  W1 = sup_{‖f‖_L ≤ 1} E_P[f] − E_Q[f], the critic kept near 1-Lipschitz by the one-sided
  gradient penalty E[max(0, ‖∇f(x̂)‖ − 1)²] at interpolates x̂ (Gulrajani et al. 2017, §4;
  Petzka et al. 2018) or by spectral normalisation (Miyato et al. 2018). The two-sided
  penalty (‖∇f‖ − 1)² would also forbid flat critics, and so walls off f from −f: a critic
  whose initial slope points the wrong way gets stuck near the local optimum −f*.

Each sample set is split in two. The critic trains on one part; the estimate is the bound
evaluated on the other (held-out) part, so a critic that memorises its training samples
scores no better than it generalises: for a fixed critic the held-out bound is an unbiased
estimate of a quantity below the true divergence. The interval comes from a bootstrap of
the held-out per-sample terms; it covers sampling noise of the held-out set, not the gap
between the trained critic and the best one (which only lowers the estimate).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gankit.data.base import DataSource
from gankit.devices import select_device
from gankit.errors import GankitError
from gankit.nets.mlp import MLPDiscriminator
from gankit.objectives.fgan import F_DIVERGENCES
from gankit.objectives.penalties import gradient_penalty

DIVERGENCES = ("js", "kl", "reverse_kl", "hellinger", "pearson", "neyman", "tv", "w1")
_LOG4 = math.log(4.0)
_EVAL_CHUNK = 8192


class EstimateError(GankitError, ValueError):
    """Sample sets or settings the estimator cannot work with."""


@dataclass(frozen=True)
class Estimate:
    """A divergence measured by a trained critic on held-out samples."""

    divergence: str
    value: float
    """The bound on the held-out samples: the estimate."""
    ci: tuple[float, float]
    """Bootstrap percentile interval of ``value`` at level ``confidence``."""
    confidence: float
    train_value: float
    """The same bound on the samples the critic trained on (inflated by memorisation)."""
    curve: list[dict[str, float]]
    """``{"step", "train", "holdout"}`` every ``eval_every`` steps (js adds
    ``"train_accuracy"`` and ``"holdout_accuracy"``)."""
    n_train: tuple[int, int]
    n_holdout: tuple[int, int]
    train_accuracy: float | None = None
    """Balanced accuracy of the discriminator (js only): mean of its hit rates on P and Q."""
    holdout_accuracy: float | None = None
    critic: nn.Module | None = field(default=None, repr=False, compare=False)
    """The trained critic, mapping samples to the logits V (in the original coordinates)."""

    def __str__(self) -> str:
        low, high = self.ci
        text = (
            f"{self.divergence} ≈ {self.value:.4f} ({self.confidence:.0%} CI {low:.4f} to "
            f"{high:.4f}) on {self.n_holdout[0]} + {self.n_holdout[1]} held-out samples; "
            f"{self.train_value:.4f} on the {self.n_train[0]} + {self.n_train[1]} training "
            "samples"
        )
        if self.holdout_accuracy is not None:
            text += (
                f"; discriminator accuracy {self.holdout_accuracy:.1%} held-out, "
                f"{self.train_accuracy:.1%} on its training samples"
            )
        return text

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (the critic left out)."""
        return {
            "divergence": self.divergence,
            "value": self.value,
            "ci": list(self.ci),
            "confidence": self.confidence,
            "train_value": self.train_value,
            "n_train": list(self.n_train),
            "n_holdout": list(self.n_holdout),
            "train_accuracy": self.train_accuracy,
            "holdout_accuracy": self.holdout_accuracy,
            "curve": self.curve,
        }


def estimate(
    p: Tensor | np.ndarray | DataSource,
    q: Tensor | np.ndarray | DataSource,
    divergence: str = "js",
    *,
    samples: int = 20_000,
    holdout: float = 0.25,
    steps: int = 2_000,
    batch_size: int = 512,
    lr: float = 1e-3,
    width: int = 128,
    depth: int = 2,
    critic: nn.Module | None = None,
    lipschitz: Literal["gradient_penalty", "spectral_norm"] = "gradient_penalty",
    penalty_weight: float = 100.0,
    eval_every: int = 100,
    bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> Estimate:
    """Estimate D(P‖Q) from samples of P and Q by training a critic.

    ``p`` and ``q`` are sample tensors ``(n, *shape)`` (the same ``shape``) or data sources,
    from which ``samples`` points each are drawn. A fraction ``holdout`` of each set is kept
    for evaluation. The default critic is an MLP (``width`` × ``depth``, leaky ReLU) on the
    flattened samples, standardised by the training samples' pooled mean and standard
    deviation; ``critic`` replaces it with any module mapping ``(B, *shape)`` to ``(B,)``
    logits. It trains for ``steps`` Adam steps (β = (0.5, 0.999)) on minibatches of
    ``batch_size`` from each set, the learning rate annealed from ``lr`` to 0 on a cosine
    (Loshchilov & Hutter 2017) so that the final critic is not a noisy last iterate.

    For ``w1`` the critic is kept 1-Lipschitz by a one-sided gradient penalty of weight
    ``penalty_weight`` or, with ``lipschitz="spectral_norm"``, by spectral normalisation
    of the default MLP (a looser bound). The penalty is a soft constraint: a critic of
    slope s along the transport direction scores W·s − λ(s − 1)², best at s = 1 + W/(2λ),
    so the estimate overshoots by about that factor; λ = 100 (ten times WGAN-GP's training
    weight) keeps it under 1 % for W ≤ 2. Everything random comes from
    ``seed``; the global RNG state is left as it was.
    """
    if divergence not in DIVERGENCES:
        raise EstimateError(
            f"unknown divergence '{divergence}'; choose one of: {', '.join(DIVERGENCES)}"
        )
    _check_settings(samples, holdout, steps, batch_size, eval_every, bootstrap, confidence)
    generator = torch.Generator().manual_seed(seed)
    x_p = _as_samples(p, samples, generator, "p")
    x_q = _as_samples(q, samples, generator, "q")
    if x_p.shape[1:] != x_q.shape[1:]:
        raise EstimateError(
            f"the two sample sets differ in shape: {tuple(x_p.shape[1:])} and "
            f"{tuple(x_q.shape[1:])}"
        )
    train_p, test_p = _split(x_p, holdout, generator, "p")
    train_q, test_q = _split(x_q, holdout, generator, "q")
    target = select_device(device)
    train_p, test_p, train_q, test_q = (t.to(target) for t in (train_p, test_p, train_q, test_q))
    terms = _terms(divergence)

    devices = [target.index or 0] if target.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        net = _critic(critic, divergence, lipschitz, train_p, train_q, width, depth).to(target)
        optimizer = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        curve: list[dict[str, float]] = []
        bar = tqdm(range(1, steps + 1), desc=f"estimate {divergence}", disable=not progress)
        for step in bar:
            real = train_p[torch.randint(len(train_p), (batch_size,), generator=generator)]
            fake = train_q[torch.randint(len(train_q), (batch_size,), generator=generator)]
            loss = _critic_loss(net, terms, divergence, real, fake, lipschitz, penalty_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % eval_every == 0 or step == steps:
                point = _curve_point(step, net, terms, divergence, train_p, train_q, test_p, test_q)
                curve.append(point)
                bar.set_postfix(holdout=f"{point['holdout']:.4f}")
        net.eval()
        out_train = _outputs(net, train_p, train_q)
        out_test = _outputs(net, test_p, test_q)
        ci = _bootstrap(terms, divergence, *out_test, bootstrap, confidence, generator)
    accuracy = (_accuracy(*out_train), _accuracy(*out_test)) if divergence == "js" else (None,) * 2
    return Estimate(
        divergence=divergence,
        value=_value(terms, divergence, *out_test),
        ci=ci,
        confidence=confidence,
        train_value=_value(terms, divergence, *out_train),
        curve=curve,
        n_train=(len(train_p), len(train_q)),
        n_holdout=(len(test_p), len(test_q)),
        train_accuracy=accuracy[0],
        holdout_accuracy=accuracy[1],
        critic=net,
    )


Terms = tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]


def _curve_point(
    step: int,
    net: nn.Module,
    terms: Terms,
    divergence: str,
    train_p: Tensor,
    train_q: Tensor,
    test_p: Tensor,
    test_q: Tensor,
) -> dict[str, float]:
    """The bound on both splits (and, for js, D's accuracy) at ``step``."""
    on_train = _outputs(net, train_p, train_q)
    on_test = _outputs(net, test_p, test_q)
    point = {
        "step": step,
        "train": _value(terms, divergence, *on_train),
        "holdout": _value(terms, divergence, *on_test),
    }
    if divergence == "js":
        point["train_accuracy"] = _accuracy(*on_train)
        point["holdout_accuracy"] = _accuracy(*on_test)
    return point


def _terms(divergence: str) -> Terms:
    """Per-sample terms (a on P, b on Q) whose mean difference E_P[a] − E_Q[b] is the bound:
    (g_f(V), f*(g_f(V))) for an f-divergence (js uses the GAN row, f = u log u −
    (u + 1) log(u + 1), whose bound is 2·JS − log 4), (f, f) for W1."""
    if divergence == "w1":
        return (lambda v: v), (lambda v: v)
    row = F_DIVERGENCES["gan" if divergence == "js" else divergence]
    return row.activation, row.conjugate_of_activation


def _from_bound(divergence: str, bound: Tensor) -> Tensor:
    """The divergence a bound estimates: JS = (bound + log 4)/2 for js, the bound itself
    otherwise."""
    return (bound + _LOG4) / 2 if divergence == "js" else bound


def _critic_loss(
    net: nn.Module,
    terms: Terms,
    divergence: str,
    real: Tensor,
    fake: Tensor,
    lipschitz: str,
    penalty_weight: float,
) -> Tensor:
    """−bound on the minibatch, plus the gradient penalty for W1."""
    on_p, on_q = terms
    loss = -(on_p(net(real)).mean() - on_q(net(fake)).mean())
    if divergence == "w1" and lipschitz == "gradient_penalty":
        loss = loss + penalty_weight * gradient_penalty(net, real, fake, one_sided=True)
    return loss


@torch.no_grad()
def _outputs(net: nn.Module, x_p: Tensor, x_q: Tensor) -> tuple[Tensor, Tensor]:
    """The critic's logits on every sample of both sets, in chunks."""
    was_training = net.training
    net.eval()
    try:
        outputs = tuple(
            torch.cat([net(chunk).reshape(-1) for chunk in x.split(_EVAL_CHUNK)])
            for x in (x_p, x_q)
        )
    finally:
        net.train(was_training)
    return outputs  # type: ignore[return-value]


def _value(terms: Terms, divergence: str, v_p: Tensor, v_q: Tensor) -> float:
    on_p, on_q = terms
    bound = on_p(v_p.double()).mean() - on_q(v_q.double()).mean()
    return float(_from_bound(divergence, bound))


def _bootstrap(
    terms: Terms,
    divergence: str,
    v_p: Tensor,
    v_q: Tensor,
    resamples: int,
    confidence: float,
    generator: torch.Generator,
) -> tuple[float, float]:
    """Percentile bootstrap interval: resample each held-out set with replacement, recompute
    the estimate ``resamples`` times, take the (1 ± confidence)/2 quantiles."""
    a = terms[0](v_p.double()).cpu()
    b = terms[1](v_q.double()).cpu()
    values = []
    for start in range(0, resamples, 100):
        count = min(100, resamples - start)
        index_a = torch.randint(len(a), (count, len(a)), generator=generator)
        index_b = torch.randint(len(b), (count, len(b)), generator=generator)
        bound = a[index_a].mean(dim=1) - b[index_b].mean(dim=1)
        values.append(_from_bound(divergence, bound))
    tail = (1 - confidence) / 2
    levels = torch.tensor([tail, 1 - tail], dtype=torch.float64)
    low, high = torch.quantile(torch.cat(values), levels)
    return float(low), float(high)


def _accuracy(v_p: Tensor, v_q: Tensor) -> float:
    """Balanced accuracy: ½·(share of P called real + share of Q called fake)."""
    return float(((v_p > 0).double().mean() + (v_q < 0).double().mean()) / 2)


class _Standardised(nn.Module):
    """c·g((x − m)/c): the critic g sees standardised inputs; multiplying its output by c
    keeps a 1-Lipschitz g 1-Lipschitz in x (the f-divergence bounds do not need it, and
    use c = 1 on the output)."""

    def __init__(self, body: nn.Module, mean: Tensor, scale: float, output_scale: float) -> None:
        super().__init__()
        self.body = body
        self.register_buffer("mean", mean)
        self.scale = scale
        self.output_scale = output_scale

    def forward(self, x: Tensor) -> Tensor:
        return self.output_scale * self.body((x - self.mean) / self.scale).reshape(-1)


def _critic(
    critic: nn.Module | None,
    divergence: str,
    lipschitz: str,
    train_p: Tensor,
    train_q: Tensor,
    width: int,
    depth: int,
) -> nn.Module:
    """The user's critic as it is, or the default MLP behind a standardisation."""
    if critic is not None:
        return critic
    pooled = torch.cat([train_p, train_q])
    mean = pooled.mean(dim=0)
    scale = float((pooled - mean).std()) or 1.0
    body = MLPDiscriminator(
        tuple(train_p.shape[1:]),
        width=width,
        depth=depth,
        spectral_norm=divergence == "w1" and lipschitz == "spectral_norm",
    )
    return _Standardised(body, mean, scale, scale if divergence == "w1" else 1.0)


def _as_samples(
    x: Tensor | np.ndarray | DataSource, n: int, generator: torch.Generator, name: str
) -> Tensor:
    """A float32 CPU tensor (n, *shape) of finite samples."""
    if isinstance(x, DataSource):
        samples = x.sample(n, generator).cpu()
    elif isinstance(x, np.ndarray | Tensor):
        samples = torch.as_tensor(x).detach().cpu()
    else:
        raise EstimateError(
            f"{name}: expected a tensor, an array or a data source, got {type(x).__name__}"
        )
    if samples.ndim == 1:
        samples = samples[:, None]  # n scalars are n points in R^1
    if not samples.is_floating_point():
        samples = samples.double()
    samples = samples.float()
    bad = ~torch.isfinite(samples).reshape(len(samples), -1).all(dim=1)
    if bad.any():
        first = int(bad.nonzero()[0])
        raise EstimateError(
            f"{name}: {int(bad.sum())} sample(s) contain NaN or inf (the first is row {first})"
        )
    return samples


def _split(
    x: Tensor, holdout: float, generator: torch.Generator, name: str
) -> tuple[Tensor, Tensor]:
    """A random split into (training, held-out) with round(holdout·n) held out."""
    n_test = round(holdout * len(x))
    if n_test < 2 or len(x) - n_test < 2:
        raise EstimateError(
            f"{name}: {len(x)} samples are too few to keep {holdout:.0%} held out "
            "(need at least 2 on each side)"
        )
    order = torch.randperm(len(x), generator=generator)
    return x[order[n_test:]], x[order[:n_test]]


def _check_settings(
    samples: int,
    holdout: float,
    steps: int,
    batch_size: int,
    eval_every: int,
    bootstrap: int,
    confidence: float,
) -> None:
    problems = []
    if samples < 4:
        problems.append(f"samples must be at least 4, got {samples}")
    if not 0 < holdout < 1:
        problems.append(f"holdout must lie in (0, 1), got {holdout}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("eval_every", eval_every)):
        if value < 1:
            problems.append(f"{name} must be at least 1, got {value}")
    if bootstrap < 10:
        problems.append(f"bootstrap must be at least 10 resamples, got {bootstrap}")
    if not 0 < confidence < 1:
        problems.append(f"confidence must lie in (0, 1), got {confidence}")
    if problems:
        raise EstimateError("; ".join(problems))
