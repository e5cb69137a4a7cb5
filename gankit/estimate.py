"""Divergences between two sample sets: trained critics' held-out bounds, or nearest-neighbour
distances.

"Sampling is good enough": we never know the densities p and q, yet a critic trained on
samples measures a divergence between them through a variational lower bound.

* f-divergences (Nguyen, Wainwright & Jordan 2010; Nowozin, Cseke & Tomioka 2016):
  D_f(P‖Q) ≥ E_P[T(x)] − E_Q[f*(T(x))] for every T, tight at T* = f′(p/q), for kl,
  reverse_kl, hellinger (squared, ∫(√p − √q)²), pearson, neyman and tv (½∫|p − q|);
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
estimate of a quantity below the true divergence. It is low by the critic's own error, and a
critic that maximises its bound on its training samples scores them high by about as much: for
a regular model both gaps are tr(J⁻¹K)/2n in expectation (Akaike 1974; Takeuchi 1976), so the
divergence lies between the held-out and the in-sample bound, and the interval reaches up to
the in-sample bound when that is above the bootstrap's upper end. A critic that memorises its
samples opens the interval wide, as it should.

**tv** trains its critic as the logistic regression of P against Q (the GAN discriminator,
whose logit v tends to log p/q: Qin 1998; Sugiyama, Suzuki & Kanamori 2012) and evaluates the
bound at T = ½·sign(v), the optimal critic's form f′(p/q) = ½·sign(p/q − 1): trained on its
own bound, E_P[½tanh v] − E_Q[½tanh v], the critic stalls where tanh is flat (a mixture
against a Gaussian came out 20–30 % low). Every other critic maximises its own bound.

**Ratio divergences** (kl, reverse_kl, pearson, neyman, hellinger). Their bounds have terms
exponential in the critic: for KL, E_P[T] − E_Q[e^{T−1}], whose Q-term averages the density
ratio p/q over Q's samples, an importance-sampling mean with variance Pearson χ²(P‖Q), infinite
when P has heavier tails than Q. A critic that is large where the held-out sample of Q happens
to have no points then scores above the divergence, a "lower bound" above the truth. The
Donsker–Varadhan bound E_P[T] − log E_Q[e^T] of MINE (Belghazi et al. 2018) averages the same
e^T and shares the problem; its variance grows like e^{KL} (Song & Ermon 2020). Here the
log-ratio is limited, s = L·tanh(v/L) ∈ (−L, L), so that every term is bounded:

    kl          E_P[1 + s]             − E_Q[e^s]
    reverse_kl  −E_P[e^{−s}]           − E_Q[s − 1]
    pearson     E_P[2(e^s − 1)]        − E_Q[e^{2s} − 1]
    neyman      E_P[1 − e^{−2s}]       − E_Q[2 − 2e^{−s}]
    hellinger   E_P[1 − e^{−s/2}]      − E_Q[e^{s/2} − 1]

Every s gives a lower bound, the best of them s = clip(log p/q, −L, L), which falls short of
D_f by ∫ q·B_f(p/q, e^{±L}) (the Bregman divergence of f) over the region where
|log p/q| > L, and only there. L is set so that the largest term, e^{a·L} for a term growing
like e^{a|s|}, is √n for the n held-out samples it is averaged over: a region of mass c/n that
the held-out set misses can then move the estimate by c/√n, the order of its standard error
(SMILE clips e^T to [e^{−τ}, e^{τ}] for the same reason, Song & Ermon 2020). No lower bound from
n samples can certify much more than log n in any case (McAllester & Stratos 2020). When more
than 1 % of the held-out samples on the side that carries the ratio sit at the limit, the
bound falls short by an unknown amount: a warning says so and the interval has no upper end.
A second warning flags held-out terms whose largest 1 % carry more than 80 % of their spread
(:func:`gankit.metrics.knn.dominant_share`), about where their variance becomes infinite.

Ratio divergences default to 5 critics, each trained from its own initialisation on its own
bootstrap resample of the training samples (bagging, Breiman 1996). The estimate is the mean
of their held-out bounds, and each bootstrap resample draws both the critics (with
replacement) and the held-out samples, so the interval holds the critics' spread as well as
the held-out noise. With one critic (the default for js, tv and w1, whose terms are bounded
or linear in the critic) the interval covers the held-out noise only. Neither covers the gap
between the trained critics and the best one, which only lowers the estimate: train longer
when the held-out ``curve`` still rises.

**Without a critic.** For kl and reverse_kl in at most :data:`KNN_MAX_DIM` dimensions the
default is the k-nearest-neighbour estimate of Wang, Kulkarni & Verdú (2009) on all samples
(:mod:`gankit.metrics.knn`), with an interval from repeated half-samples; ``method="knn"``
also gives pearson, neyman and hellinger (Póczos & Schneider 2011).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gankit.data.base import DataSource
from gankit.devices import select_device, system_available_bytes
from gankit.errors import GankitError
from gankit.metrics import knn
from gankit.nets.mlp import MLPDiscriminator
from gankit.objectives.fgan import F_DIVERGENCES
from gankit.objectives.penalties import gradient_penalty

DIVERGENCES = ("js", "kl", "reverse_kl", "hellinger", "pearson", "neyman", "tv", "w1")
RATIO_DIVERGENCES = ("kl", "reverse_kl", "hellinger", "pearson", "neyman")
KNN_BY_DEFAULT = ("kl", "reverse_kl")
KNN_MAX_DIM = 2
METHODS = ("auto", "critic", "knn")
RATIO_CRITICS = 5
COMMAND_LINE_CRITICS = 3
"""Critics `gankit estimate` trains for js, tv and w1, so that its interval holds their spread
(the Python default stays 1, which the lab experiments rely on for their run time)."""
MAX_SEED = 2**64 - 1
SATURATION_LIMIT = 0.01
_SATURATED = 0.95  # |s| ≥ 0.95·L counts as at the limit
_LOG4 = math.log(4.0)
_EVAL_CHUNK = 8192
_BOOTSTRAP_VALUES = 2**24  # gathered values per bootstrap chunk

Terms = tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]

# The bound's terms (a on P, b on Q) as functions of the log-ratio s: a = f′(e^s) and
# b = f*(f′(e^s)) = e^s·f′(e^s) − f(e^s).
_RATIO_TERMS: dict[str, Terms] = {
    "kl": (lambda s: 1 + s, torch.exp),
    "reverse_kl": (lambda s: -torch.exp(-s), lambda s: s - 1),
    "pearson": (lambda s: 2 * torch.expm1(s), lambda s: torch.expm1(2 * s)),
    "neyman": (lambda s: -torch.expm1(-2 * s), lambda s: -2 * torch.expm1(-s)),
    "hellinger": (lambda s: -torch.expm1(-s / 2), lambda s: torch.expm1(s / 2)),
}
# The heavier term's growth e^{a|s|} and the held-out side it is averaged over.
_HEAVY_TERM = {
    "kl": (1.0, "q"),
    "reverse_kl": (1.0, "p"),
    "pearson": (2.0, "q"),
    "neyman": (2.0, "p"),
    "hellinger": (0.5, "both"),
}
# Where the limit costs: P's samples at s = +L (p ≫ q) or Q's at s = −L (q ≫ p).
_SATURATION_SIDES = {
    "kl": ("p",),
    "pearson": ("p",),
    "reverse_kl": ("q",),
    "neyman": ("q",),
    "hellinger": ("p", "q"),
}


class EstimateError(GankitError, ValueError):
    """Sample sets or settings the estimator cannot work with."""


@dataclass(frozen=True)
class Estimate:
    """A divergence measured from samples: by trained critics on held-out samples, or by
    nearest-neighbour distances."""

    divergence: str
    value: float
    """The estimate: the mean held-out bound of the critics, or the nearest-neighbour value."""
    ci: tuple[float, float]
    """Interval for the divergence at level ``confidence`` (``interval`` says how it was
    formed); the upper end is inf when a warning says the data cannot bound it above."""
    confidence: float
    method: Literal["critic", "knn"]
    interval: str
    """How ``ci`` was formed."""
    n_train: tuple[int, int]
    """Samples of P and Q the critics trained on ((0, 0) for knn)."""
    n_holdout: tuple[int, int]
    """Samples of P and Q the value was computed on (all of them for knn)."""
    train_value: float | None = None
    """The same bound on the samples the critics trained on (each on its own resample), inflated
    by memorisation; the interval reaches up to it."""
    curve: list[dict[str, float]] = field(default_factory=list)
    """The first critic's ``{"step", "train", "holdout"}`` every ``eval_every`` steps (js
    adds ``"train_accuracy"`` and ``"holdout_accuracy"``)."""
    critic_values: tuple[float, ...] = ()
    """The held-out bound of each critic."""
    log_ratio_limit: float | None = None
    """L, the critics' log-ratio range (−L, L) (ratio divergences)."""
    neighbours: int | None = None
    """k of the nearest-neighbour estimate."""
    warnings: tuple[str, ...] = ()
    train_accuracy: float | None = None
    """Balanced accuracy of the discriminators (js only): mean of their hit rates on P and Q."""
    holdout_accuracy: float | None = None
    critic: nn.Module | None = field(default=None, repr=False, compare=False)
    """The trained critic (several: the mean of their outputs), mapping samples to the
    logits V in the original coordinates."""

    @property
    def critics(self) -> int:
        """Number of critics trained (0 for knn)."""
        return len(self.critic_values)

    def __str__(self) -> str:
        low, high = self.ci
        upper = "∞" if math.isinf(high) else f"{high:.4f}"
        text = (
            f"{self.divergence} ≈ {self.value:.4f} ({self.confidence:.0%} CI {low:.4f} to {upper})"
        )
        if self.method == "knn":
            text += (
                f" from {self.n_holdout[0]} + {self.n_holdout[1]} samples by "
                f"{self.neighbours}-nearest-neighbour distances"
            )
        else:
            critics = f" ({self.critics} critics)" if self.critics > 1 else ""
            text += (
                f" on {self.n_holdout[0]} + {self.n_holdout[1]} held-out samples{critics}; "
                f"{self.train_value:.4f} on the {self.n_train[0]} + {self.n_train[1]} "
                "training samples"
            )
        if self.holdout_accuracy is not None:
            text += (
                f"; discriminator accuracy {self.holdout_accuracy:.1%} held-out, "
                f"{self.train_accuracy:.1%} on its training samples"
            )
        return "\n".join([text, *(f"warning: {line}" for line in self.warnings)])

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (the critic left out; an unbounded end of ``ci`` is None)."""
        return {
            "divergence": self.divergence,
            "value": self.value,
            "ci": [end if math.isfinite(end) else None for end in self.ci],
            "confidence": self.confidence,
            "method": self.method,
            "interval": self.interval,
            "warnings": list(self.warnings),
            "train_value": self.train_value,
            "n_train": list(self.n_train),
            "n_holdout": list(self.n_holdout),
            "critics": self.critics,
            "critic_values": list(self.critic_values),
            "log_ratio_limit": self.log_ratio_limit,
            "neighbours": self.neighbours,
            "train_accuracy": self.train_accuracy,
            "holdout_accuracy": self.holdout_accuracy,
            "curve": self.curve,
        }


def estimate(
    p: Tensor | np.ndarray | DataSource,
    q: Tensor | np.ndarray | DataSource,
    divergence: str = "js",
    *,
    method: Literal["auto", "critic", "knn"] = "auto",
    samples: int = 20_000,
    holdout: float = 0.25,
    steps: int = 2_000,
    batch_size: int = 512,
    lr: float = 1e-3,
    width: int = 128,
    depth: int = 2,
    critic: nn.Module | None = None,
    critics: int | None = None,
    log_ratio_limit: float | None = None,
    neighbours: int = knn.DEFAULT_NEIGHBOURS,
    lipschitz: Literal["gradient_penalty", "spectral_norm"] = "gradient_penalty",
    penalty_weight: float = 100.0,
    eval_every: int = 100,
    bootstrap: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> Estimate:
    """Estimate D(P‖Q) from samples of P and Q.

    ``p`` and ``q`` are sample tensors ``(n, *shape)`` (the same ``shape``) or data sources,
    from which ``samples`` points each are drawn (after checking that the estimate fits in
    the available memory).

    ``method="auto"`` uses nearest-neighbour distances (``neighbours`` = k) for kl and
    reverse_kl in at most :data:`KNN_MAX_DIM` dimensions without a ``critic``, and critics
    otherwise; ``"knn"`` and ``"critic"`` force one (knn: kl, reverse_kl, pearson, neyman,
    hellinger).

    Critics: a fraction ``holdout`` of each set is kept for evaluation. The default critic is
    an MLP (``width`` × ``depth``, leaky ReLU) on the flattened samples, standardised by the
    training samples' pooled mean and standard deviation; ``critic`` replaces it with any
    module mapping ``(B, *shape)`` to ``(B,)`` logits (further critics are copies with their
    parameters reset). ``critics`` of them (default 5 for the ratio divergences, 1 otherwise)
    each train for ``steps`` Adam steps (β = (0.5, 0.999)) on minibatches of ``batch_size``
    from each set (from its own bootstrap resample when there are several), maximising their
    bound (tv: as a logistic regression), the learning rate annealed from ``lr`` to 0 on a
    cosine (Loshchilov & Hutter 2017) so that the final critic is not a noisy last iterate.
    ``log_ratio_limit`` overrides L.

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
    if method not in METHODS:
        raise EstimateError(f"unknown method '{method}'; choose one of: {', '.join(METHODS)}")
    _check_settings(
        samples=samples,
        holdout=holdout,
        steps=steps,
        batch_size=batch_size,
        eval_every=eval_every,
        bootstrap=bootstrap,
        confidence=confidence,
        seed=seed,
        critics=critics,
        neighbours=neighbours,
        log_ratio_limit=log_ratio_limit,
    )
    chosen, count = check_estimate_memory(
        p, q, divergence, method=method, samples=samples, critics=critics, critic=critic
    )
    generator = torch.Generator().manual_seed(seed)
    x_p = _as_samples(p, samples, generator, "p")
    x_q = _as_samples(q, samples, generator, "q")
    if chosen == "knn":
        return _knn_estimate(x_p, x_q, divergence, neighbours, confidence, seed)
    train_p, test_p = _split(x_p, holdout, generator, "p")
    train_q, test_q = _split(x_q, holdout, generator, "q")
    target = select_device(device)
    train_p, test_p, train_q, test_q = (t.to(target) for t in (train_p, test_p, train_q, test_q))
    limit = None
    if divergence in RATIO_DIVERGENCES:
        limit = log_ratio_limit or default_log_ratio_limit(divergence, len(test_p), len(test_q))
    terms = _terms(divergence, limit)
    settings = _Training(steps, batch_size, lr, eval_every, lipschitz, penalty_weight, progress)

    devices = [target.index or 0] if target.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        nets, curve, member_pools = [], [], []
        for member in range(count):
            member_seed = seed if member == 0 else _draw_seed(generator)
            torch.manual_seed(member_seed)
            if critic is not None:
                net = critic if member == 0 else _fresh_copy(critic)
            else:
                net = _default_critic(divergence, lipschitz, train_p, train_q, width, depth)
            net = net.to(target)
            pools = (None, None)
            if count > 1:
                pools = tuple(
                    torch.randint(len(t), (len(t),), generator=generator)
                    for t in (train_p, train_q)
                )
            label = f"estimate {divergence}" + (f" {member + 1}/{count}" if count > 1 else "")
            points = _train(
                net,
                terms,
                _training_terms(divergence, limit),
                divergence,
                train_p,
                train_q,
                test_p,
                test_q,
                pools,
                settings,
                generator,
                label,
            )
            curve = curve or points
            net.eval()
            nets.append(net)
            member_pools.append(pools)
        outputs_train = [
            _outputs(net, *_pooled(train_p, train_q, pools))
            for net, pools in zip(nets, member_pools, strict=True)
        ]
        outputs_test = [_outputs(net, test_p, test_q) for net in nets]
        ci = _bootstrap(terms, divergence, outputs_test, bootstrap, confidence, generator)
    critic_values = tuple(_value(terms, divergence, *out) for out in outputs_test)
    train_value = float(np.mean([_value(terms, divergence, *out) for out in outputs_train]))
    accuracy = (None, None)
    if divergence == "js":
        accuracy = tuple(
            float(np.mean([_accuracy(*out) for out in outputs]))
            for outputs in (outputs_train, outputs_test)
        )
    ci = (ci[0], max(ci[1], train_value))
    warnings: list[str] = []
    if limit is not None:
        warnings, unbounded = _ratio_warnings(terms, divergence, limit, outputs_test)
        if unbounded:
            ci = (ci[0], math.inf)
    interval = (
        f"percentile bootstrap of the held-out samples ({bootstrap} resamples; the critic's "
        "own variance is not included)"
        if count == 1
        else f"percentile bootstrap ({bootstrap} resamples) of the held-out samples and of the "
        f"{count} critics, each trained on its own bootstrap resample of the training samples"
    ) + ", reaching up to the in-sample bound"
    return Estimate(
        divergence=divergence,
        value=float(np.mean(critic_values)),
        ci=ci,
        confidence=confidence,
        method="critic",
        interval=interval,
        n_train=(len(train_p), len(train_q)),
        n_holdout=(len(test_p), len(test_q)),
        train_value=train_value,
        curve=curve,
        critic_values=critic_values,
        log_ratio_limit=limit,
        warnings=tuple(warnings),
        train_accuracy=accuracy[0],
        holdout_accuracy=accuracy[1],
        critic=nets[0] if count == 1 else _MeanCritic(nets),
    )


def default_log_ratio_limit(divergence: str, n_p: int, n_q: int) -> float:
    """L = log(n)/(2a): the heavier term of the bound, of size e^{a·L}, reaches √n for the n
    held-out samples it is averaged over (hellinger: the smaller side)."""
    rate, side = _HEAVY_TERM[divergence]
    n = {"p": n_p, "q": n_q, "both": min(n_p, n_q)}[side]
    return math.log(n) / (2 * rate)


def check_estimate_memory(
    p: Tensor | np.ndarray | DataSource,
    q: Tensor | np.ndarray | DataSource,
    divergence: str,
    *,
    method: str = "auto",
    samples: int = 20_000,
    critics: int | None = None,
    critic: nn.Module | None = None,
    option: str = "samples",
) -> tuple[str, int]:
    """Check that an :func:`estimate` with these arguments fits in the memory available now,
    before anything is drawn, and return its method and number of critics. The refusal names
    ``option`` when a data source is to be sampled ("--samples" on the command line)."""
    shape_p, shape_q = _shape_of(p, "p"), _shape_of(q, "q")
    if shape_p != shape_q:
        raise EstimateError(f"the two sample sets differ in shape: {shape_p} and {shape_q}")
    features = math.prod(shape_p)
    chosen = _choose_method(method, divergence, features, critic)
    count = critics if critics is not None else _default_critics(divergence)
    rows = (_rows(p, samples), _rows(q, samples))
    drawn = isinstance(p, DataSource) or isinstance(q, DataSource)
    sep = " " if option.startswith("-") else "="
    request = f"{option}{sep}{samples}" if drawn else f"{rows[0]} + {rows[1]} samples"
    check_memory(rows, features, chosen, count, request)
    return chosen, count


def memory_needed(rows: tuple[int, int], features: int, method: str, critics: int = 1) -> int:
    """Bytes an estimate holds at its peak, roughly, for ``rows`` samples of P and Q of
    ``features`` values each. Per sample, critics hold the float32 sample with two more copies
    while drawing and one while splitting (16 bytes per value), two int64 indices, the
    critics' float32 outputs and float64 terms; nearest neighbours hold the float32 sample and
    its drawing copies, float64 copies (dequantised, in a k-d tree, in a half-sample: 24 bytes
    per value), an int64 tree index and k + 1 float64 distances and int64 indices for each of
    two queries."""
    if method == "knn":
        per_sample = 16 * features + 8 + 24 * features + 8 + 2 * 16 * (knn.DEFAULT_NEIGHBOURS + 1)
    else:
        per_sample = 16 * features + 16 + critics * (4 + 8) + 16
    return sum(rows) * per_sample


def check_memory(
    rows: tuple[int, int], features: int, method: str, critics: int, request: str
) -> None:
    """Refuse, before anything is allocated, an estimate that would not fit in the memory
    available now (:func:`gankit.devices.system_available_bytes`; unknown: no check)."""
    needed = memory_needed(rows, features, method, critics)
    available = system_available_bytes()
    if available is not None and needed > available:
        raise EstimateError(
            f"{request}: the estimate needs about {needed / 2**30:.1f} GiB of memory, more "
            f"than the {available / 2**30:.1f} GiB available"
        )


@dataclass(frozen=True)
class _Training:
    steps: int
    batch_size: int
    lr: float
    eval_every: int
    lipschitz: str
    penalty_weight: float
    progress: bool


def _train(
    net: nn.Module,
    terms: Terms,
    training: Terms,
    divergence: str,
    train_p: Tensor,
    train_q: Tensor,
    test_p: Tensor,
    test_q: Tensor,
    pools: tuple[Tensor | None, Tensor | None],
    settings: _Training,
    generator: torch.Generator,
    label: str,
) -> list[dict[str, float]]:
    """Adam on −(the bound of ``training``) with a cosine-annealed learning rate; minibatches
    drawn from the whole training split or, given ``pools`` (a bootstrap resample's indices),
    from the pool. Returns the learning curve of the bound that ``terms`` define."""
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.steps)
    curve: list[dict[str, float]] = []
    bar = tqdm(range(1, settings.steps + 1), desc=label, disable=not settings.progress)
    for step in bar:
        real = _minibatch(train_p, pools[0], settings.batch_size, generator)
        fake = _minibatch(train_q, pools[1], settings.batch_size, generator)
        loss = _critic_loss(
            net,
            training,
            divergence,
            real,
            fake,
            settings.lipschitz,
            settings.penalty_weight,
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % settings.eval_every == 0 or step == settings.steps:
            point = _curve_point(step, net, terms, divergence, train_p, train_q, test_p, test_q)
            curve.append(point)
            bar.set_postfix(holdout=f"{point['holdout']:.4f}")
    return curve


def _pooled(
    train_p: Tensor, train_q: Tensor, pools: tuple[Tensor | None, Tensor | None]
) -> tuple[Tensor, Tensor]:
    """The samples a critic trained on: the training split, or its bootstrap resample."""
    pool_p, pool_q = pools
    return (
        train_p if pool_p is None else train_p[pool_p],
        train_q if pool_q is None else train_q[pool_q],
    )


def _minibatch(x: Tensor, pool: Tensor | None, size: int, generator: torch.Generator) -> Tensor:
    if pool is None:
        return x[torch.randint(len(x), (size,), generator=generator)]
    return x[pool[torch.randint(len(pool), (size,), generator=generator)]]


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


def _terms(divergence: str, limit: float | None) -> Terms:
    """Per-sample terms (a on P, b on Q) whose mean difference E_P[a] − E_Q[b] is the bound,
    as functions of the critic's output v: (g(v), f*(g(v))) of the GAN row for js (f =
    u log u − (u + 1) log(u + 1), whose bound is 2·JS − log 4); a(s), b(s) of the limited
    log-ratio s = L·tanh(v/L) for a ratio divergence; T = ½·sign(v) on both sides for tv
    (f′(p/q) = ½·sign(p/q − 1) at v = log p/q); (f, f) for W1."""
    if divergence == "w1":
        return (lambda v: v), (lambda v: v)
    if divergence == "tv":
        return (lambda v: torch.sign(v) / 2), (lambda v: torch.sign(v) / 2)
    if divergence in RATIO_DIVERGENCES:
        on_p, on_q = _RATIO_TERMS[divergence]
        return (lambda v: on_p(_log_ratio(v, limit))), (lambda v: on_q(_log_ratio(v, limit)))
    row = F_DIVERGENCES["gan"]
    return row.activation, row.conjugate_of_activation


def _training_terms(divergence: str, limit: float | None) -> Terms:
    """What the critic maximises: its own bound, except for tv, whose critic is the logistic
    regression of P against Q (the GAN bound; its logit tends to log p/q)."""
    return _terms("js" if divergence == "tv" else divergence, limit)


def _log_ratio(v: Tensor, limit: float) -> Tensor:
    """s = L·tanh(v/L): the critic's log-ratio, within (−L, L) and ≈ v for |v| ≪ L."""
    return limit * torch.tanh(v / limit)


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
    outputs: list[tuple[Tensor, Tensor]],
    resamples: int,
    confidence: float,
    generator: torch.Generator,
) -> tuple[float, float]:
    """Percentile bootstrap interval: resample each held-out set with replacement (and, with
    K > 1 critics, K of the critics with replacement), recompute the mean bound ``resamples``
    times, take the (1 ± confidence)/2 quantiles."""
    a = torch.stack([terms[0](v_p.double()).cpu() for v_p, _ in outputs])  # (K, n_p)
    b = torch.stack([terms[1](v_q.double()).cpu() for _, v_q in outputs])  # (K, n_q)
    count_critics = len(outputs)
    chunk = max(1, min(100, _BOOTSTRAP_VALUES // (count_critics * max(a.shape[1], b.shape[1]))))
    values = []
    for start in range(0, resamples, chunk):
        count = min(chunk, resamples - start)
        index_a = torch.randint(a.shape[1], (count, a.shape[1]), generator=generator)
        index_b = torch.randint(b.shape[1], (count, b.shape[1]), generator=generator)
        if count_critics == 1:
            bound = a[0][index_a].mean(dim=1) - b[0][index_b].mean(dim=1)
        else:
            chosen = torch.randint(count_critics, (count, count_critics), generator=generator)
            weights = torch.zeros(count, count_critics, dtype=torch.float64)
            weights.scatter_add_(1, chosen, torch.ones(count, count_critics, dtype=torch.float64))
            each = a[:, index_a].mean(dim=2) - b[:, index_b].mean(dim=2)  # (K, count)
            bound = (weights * each.T).sum(dim=1) / count_critics
        values.append(_from_bound(divergence, bound))
    tail = (1 - confidence) / 2
    levels = torch.tensor([tail, 1 - tail], dtype=torch.float64)
    low, high = torch.quantile(torch.cat(values), levels)
    return float(low), float(high)


def _ratio_warnings(
    terms: Terms, divergence: str, limit: float, outputs: list[tuple[Tensor, Tensor]]
) -> tuple[list[str], bool]:
    """Warnings for a ratio divergence, and whether the first kind leaves the interval without
    an upper end: critics at the edge of their log-ratio range on more than 1 % of a side's
    held-out samples; held-out terms dominated by their largest 1 %."""
    warnings = []
    unbounded = False
    signs = {"p": 1.0, "q": -1.0}
    for side in _SATURATION_SIDES[divergence]:
        index = 0 if side == "p" else 1
        shares = [
            float(
                (signs[side] * _log_ratio(out[index].double(), limit) >= _SATURATED * limit)
                .double()
                .mean()
            )
            for out in outputs
        ]
        share = float(np.mean(shares))
        if share > SATURATION_LIMIT:
            unbounded = True
            name, other = ("P", "Q") if side == "p" else ("Q", "P")
            where = f"above e^{limit:.2f}" if side == "p" else f"below e^-{limit:.2f}"
            warnings.append(
                f"the critics reach the edge of their log-ratio range ±{limit:.2f} on "
                f"{share:.1%} of {name}'s held-out samples: there p/q lies {where}, "
                f"{other} has too few samples to bound it, and the estimate may fall short of "
                "the divergence by any amount, so the interval has no upper end"
            )
    on_p = torch.stack([terms[0](out[0].double()).cpu() for out in outputs]).mean(dim=0)
    on_q = torch.stack([terms[1](out[1].double()).cpu() for out in outputs]).mean(dim=0)
    dominant = max(knn.dominant_share(-on_p.numpy()), knn.dominant_share(on_q.numpy()))
    if dominant > knn.DOMINANT_SHARE_LIMIT:
        warnings.append(
            f"the largest 1% of the held-out terms carry {dominant:.0%} of their spread: the "
            "estimate is dominated by a few samples and its interval may be too narrow"
        )
    return warnings, unbounded


def _accuracy(v_p: Tensor, v_q: Tensor) -> float:
    """Balanced accuracy: ½·(share of P called real + share of Q called fake)."""
    return float(((v_p > 0).double().mean() + (v_q < 0).double().mean()) / 2)


def _knn_estimate(
    x_p: Tensor, x_q: Tensor, divergence: str, neighbours: int, confidence: float, seed: int
) -> Estimate:
    """The nearest-neighbour estimate on the flattened samples (:mod:`gankit.metrics.knn`)."""
    if divergence not in knn.KNN_DIVERGENCES:
        raise EstimateError(
            f"method 'knn' estimates {', '.join(knn.KNN_DIVERGENCES)}, not {divergence}"
        )
    rng = np.random.default_rng(seed)
    flat = [x.reshape(len(x), -1).numpy() for x in (x_p, x_q)]
    warnings = []
    for name, x in zip("PQ", flat, strict=True):
        share = knn.duplicate_share(x)
        if share > knn.DUPLICATE_LIMIT:
            warnings.append(
                f"{share:.1%} of {name}'s samples repeat exactly: nearest-neighbour estimates "
                "assume densities, so this one is not meaningful (try method='critic')"
            )
    if flat[0].shape[1] > KNN_MAX_DIM:
        warnings.append(
            f"nearest-neighbour estimates converge slowly in {flat[0].shape[1]} dimensions "
            f"(their bias shrinks like n^(-2/d)); the interval may miss it"
        )
    try:
        result = knn.knn_estimate(
            knn.dequantise(flat[0], rng),
            knn.dequantise(flat[1], rng),
            divergence,
            neighbours=neighbours,
            confidence=confidence,
            generator=rng,
        )
    except ValueError as err:
        raise EstimateError(str(err)) from None
    return Estimate(
        divergence=divergence,
        value=result.value,
        ci=result.ci,
        confidence=confidence,
        method="knn",
        interval=(
            "normal interval from 20 random half-samples, stretched over the estimate "
            f"corrected for its bias ({result.bias:+.4f})"
        ),
        n_train=(0, 0),
        n_holdout=(len(x_p), len(x_q)),
        neighbours=neighbours,
        warnings=(*warnings, *result.warnings),
    )


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


class _MeanCritic(nn.Module):
    """The mean of several critics' outputs."""

    def __init__(self, critics: list[nn.Module]) -> None:
        super().__init__()
        self.critics = nn.ModuleList(critics)

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([critic(x).reshape(-1) for critic in self.critics]).mean(dim=0)


def _default_critic(
    divergence: str,
    lipschitz: str,
    train_p: Tensor,
    train_q: Tensor,
    width: int,
    depth: int,
) -> nn.Module:
    """The default MLP behind a standardisation."""
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


def _fresh_copy(critic: nn.Module) -> nn.Module:
    """A deep copy of ``critic`` with every submodule that can reset its parameters reset."""
    fresh = copy.deepcopy(critic)
    for module in fresh.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()
    return fresh


def _draw_seed(generator: torch.Generator) -> int:
    return int(torch.randint(2**62, (1,), generator=generator))


def _default_critics(divergence: str) -> int:
    return RATIO_CRITICS if divergence in RATIO_DIVERGENCES else 1


def _choose_method(method: str, divergence: str, features: int, critic: nn.Module | None) -> str:
    if method == "knn":
        if divergence not in knn.KNN_DIVERGENCES:
            raise EstimateError(
                f"method 'knn' estimates {', '.join(knn.KNN_DIVERGENCES)}, not {divergence}"
            )
        if critic is not None:
            raise EstimateError("method 'knn' trains no critic; leave critic out")
        return "knn"
    if method == "auto" and critic is None and divergence in KNN_BY_DEFAULT:
        return "knn" if features <= KNN_MAX_DIM else "critic"
    return "critic"


def _shape_of(x: object, name: str) -> tuple[int, ...]:
    """The shape of one sample of ``x`` (a scalar per row counts as a point in R^1)."""
    if isinstance(x, DataSource):
        return tuple(x.shape)
    if isinstance(x, np.ndarray | Tensor):
        if x.ndim == 0:
            raise EstimateError(f"{name}: expected samples (n, ...), got a scalar")
        return (1,) if x.ndim == 1 else tuple(x.shape[1:])
    raise EstimateError(
        f"{name}: expected a tensor, an array or a data source, got {type(x).__name__}"
    )


def _rows(x: object, samples: int) -> int:
    return samples if isinstance(x, DataSource) else len(x)  # type: ignore[arg-type]


def _as_samples(
    x: Tensor | np.ndarray | DataSource, n: int, generator: torch.Generator, name: str
) -> Tensor:
    """A float32 CPU tensor (n, *shape) of finite samples."""
    if isinstance(x, DataSource):
        samples = x.sample(n, generator).cpu()
    else:
        if isinstance(x, np.ndarray) and x.dtype.kind not in "biuf":
            raise EstimateError(f"{name}: expected numbers, got an array of dtype {x.dtype}")
        if isinstance(x, Tensor) and x.is_complex():
            raise EstimateError(f"{name}: expected real numbers, got a {x.dtype} tensor")
        samples = torch.as_tensor(x).detach().cpu()
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
    *,
    samples: int,
    holdout: float,
    steps: int,
    batch_size: int,
    eval_every: int,
    bootstrap: int,
    confidence: float,
    seed: int,
    critics: int | None,
    neighbours: int,
    log_ratio_limit: float | None,
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
    if not 0 <= seed <= MAX_SEED:
        problems.append(f"seed must lie in 0 … 2^64 − 1, got {seed}")
    if critics is not None and critics < 1:
        problems.append(f"critics must be at least 1, got {critics}")
    if neighbours < 1:
        problems.append(f"neighbours must be at least 1, got {neighbours}")
    if log_ratio_limit is not None and not 0 < log_ratio_limit < math.inf:
        problems.append(f"log_ratio_limit must be positive and finite, got {log_ratio_limit}")
    if problems:
        raise EstimateError("; ".join(problems))
