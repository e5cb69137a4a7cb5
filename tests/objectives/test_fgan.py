"""The f-divergence table of f-GAN checked against definitions, not against itself."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, optimize, stats

from gankit.objectives import (
    F_DIVERGENCES,
    build_objective,
    fgan_bound,
    js_estimate,
    minimax_d_loss,
    minimax_g_loss,
    nonsaturating_g_loss,
)
from gankit.objectives import FGANOptions as Options

NAMES = sorted(F_DIVERGENCES)
T_CANDIDATES = (-3.0, -1.0, -0.45, -0.1, 0.0, 0.3, 0.49, 0.65, 0.9, 2.0)


def as_tensor(values) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float64)


def numeric_conjugate(f, t: float) -> float:
    """sup_{u>0} [u·t − f(u)]: dense log-spaced grid, then a bounded refinement."""
    u = torch.logspace(-8, 8, 20_001, dtype=torch.float64)
    i = int(torch.argmax(u * t - f(u)))
    lo, hi = u[max(i - 1, 0)].item(), u[min(i + 1, len(u) - 1)].item()
    res = optimize.minimize_scalar(
        lambda x: -(x * t - f(as_tensor(x)).item()),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return -res.fun


def ts_inside(div) -> list[float]:
    lo, hi = div.domain
    ts = [t for t in T_CANDIDATES if lo < t < hi]
    if div.name == "pearson":  # below −2 Table 2's t²/4 + t is the conjugate over u ∈ ℝ only
        ts = [t for t in ts if t >= -2]
    return ts


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_is_the_supremum_over_positive_u(name):
    div = F_DIVERGENCES[name]
    ts = ts_inside(div)
    assert len(ts) >= 4
    for t in ts:
        expected = numeric_conjugate(div.f, t)
        assert div.conjugate(as_tensor(t)).item() == pytest.approx(expected, rel=1e-7, abs=1e-7)


def test_pearson_conjugate_below_minus_two_still_bounds_the_true_conjugate():
    div = F_DIVERGENCES["pearson"]
    u = torch.linspace(-50, 50, 100_001, dtype=torch.float64)
    for t in (-5.0, -3.0):
        table = div.conjugate(as_tensor(t)).item()
        assert numeric_conjugate(div.f, t) == pytest.approx(-1.0, abs=1e-6)  # u → 0
        assert table > -1.0  # F(T) with the table's f* is still a lower bound on D_f
        assert table == pytest.approx((u * t - div.f(u)).max().item(), abs=1e-6)  # u ∈ ℝ


@pytest.mark.parametrize("name", NAMES)
def test_activation_stays_in_the_domain_and_the_closed_form_matches(name):
    div = F_DIVERGENCES[name]
    v = torch.linspace(-15, 15, 3001, dtype=torch.float64)
    t = div.activation(v)
    lo, hi = div.domain
    assert bool(((t > lo) & (t < hi)).all())
    torch.testing.assert_close(
        div.conjugate_of_activation(v), div.conjugate(t), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("name", ["js", "hellinger"])
def test_closed_form_stays_finite_where_the_composition_rounds_to_the_domain_edge(name):
    div = F_DIVERGENCES[name]
    v = as_tensor([50.0])
    assert not torch.isfinite(div.conjugate(div.activation(v))).all()
    assert torch.isfinite(div.conjugate_of_activation(v)).all()


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_finite_differences(name):
    div = F_DIVERGENCES[name]
    u = as_tensor([0.2, 0.7, 1.6, 4.0])
    h = 1e-6
    numeric = (div.f(u + h) - div.f(u - h)) / (2 * h)
    torch.testing.assert_close(div.derivative(u), numeric, rtol=1e-6, atol=1e-7)


# -- the bound at the optimal critic, for two Gaussians ------------------------------------

# Neyman χ²(P‖Q) = ∫ q²/p − 1 is finite only when σ_q² < 2σ_p², hence σ_q = 1.2.
MU_P, SD_P, MU_Q, SD_Q = 0.0, 1.0, 1.0, 1.2
DMU = MU_P - MU_Q
# log p − log q is quadratic in x: its roots are where p = q (kinks of the tv integrands).
CROSSINGS = np.sort(
    np.roots(
        [
            1 / (2 * SD_Q**2) - 1 / (2 * SD_P**2),
            MU_P / SD_P**2 - MU_Q / SD_Q**2,
            MU_Q**2 / (2 * SD_Q**2) - MU_P**2 / (2 * SD_P**2) + math.log(SD_Q / SD_P),
        ]
    ).real
)


def log_normal(x: float, mu: float, sd: float) -> float:
    return -(((x - mu) / sd) ** 2) / 2 - math.log(sd * math.sqrt(2 * math.pi))


def p(x: float) -> float:
    return math.exp(log_normal(x, MU_P, SD_P))


def q(x: float) -> float:
    return math.exp(log_normal(x, MU_Q, SD_Q))


def ratio(x: float) -> torch.Tensor:
    return as_tensor(log_normal(x, MU_P, SD_P) - log_normal(x, MU_Q, SD_Q)).exp()


def integral(fn) -> float:
    value, _ = integrate.quad(fn, -25, 25, points=CROSSINGS, limit=200, epsabs=1e-10, epsrel=1e-10)
    return value


def js_by_definition() -> float:
    """½∫ p log(2p/(p + q)) + ½∫ q log(2q/(p + q)), independent of the f-GAN table."""

    def integrand(x):
        lp, lq = log_normal(x, MU_P, SD_P), log_normal(x, MU_Q, SD_Q)
        lm = np.logaddexp(lp, lq) - math.log(2)
        return 0.5 * (p(x) * (lp - lm) + q(x) * (lq - lm))

    return integral(integrand)


def chi2_of_gaussians(sd_a: float, sd_b: float) -> float:
    """∫ a²/b − 1 for a = N(μ_a, sd_a²), b = N(μ_b, sd_b²), finite when 2·sd_b² > sd_a²."""
    spread = 2 * sd_b**2 - sd_a**2
    return sd_b**2 / (sd_a * math.sqrt(spread)) * math.exp(DMU**2 / spread) - 1


def reference(name: str) -> float:
    """D_f(P‖Q) from closed forms (or, for js/gan, JS from its own definition)."""
    var_p, var_q = SD_P**2, SD_Q**2
    bc = math.sqrt(2 * SD_P * SD_Q / (var_p + var_q)) * math.exp(-(DMU**2) / (4 * (var_p + var_q)))
    lo, hi = CROSSINGS  # σ_p < σ_q: p > q exactly between the crossings
    p_mass = stats.norm.cdf(hi, MU_P, SD_P) - stats.norm.cdf(lo, MU_P, SD_P)
    q_mass = stats.norm.cdf(hi, MU_Q, SD_Q) - stats.norm.cdf(lo, MU_Q, SD_Q)
    return {
        "kl": math.log(SD_Q / SD_P) + (var_p + DMU**2) / (2 * var_q) - 0.5,
        "reverse_kl": math.log(SD_P / SD_Q) + (var_q + DMU**2) / (2 * var_p) - 0.5,
        "pearson": chi2_of_gaussians(SD_P, SD_Q),
        "neyman": chi2_of_gaussians(SD_Q, SD_P),
        "hellinger": 2 * (1 - bc),
        "tv": p_mass - q_mass,
        "js": 2 * js_by_definition(),  # Table 1's generator gives twice JS
        "gan": 2 * js_by_definition() - math.log(4),
    }[name]


def variational_bound(div, critic) -> float:
    """E_P[T] − E_Q[f*(T)] for a critic T(x) = critic(p(x)/q(x))."""
    e_p = integral(lambda x: p(x) * critic(ratio(x)).item())
    e_q = integral(lambda x: q(x) * div.conjugate(critic(ratio(x))).item())
    return e_p - e_q


@pytest.mark.parametrize("name", NAMES)
def test_bound_at_the_optimal_critic_is_the_exact_divergence(name):
    div = F_DIVERGENCES[name]
    exact = integral(lambda x: q(x) * div.f(ratio(x)).item())
    assert exact == pytest.approx(reference(name), abs=1e-6)
    assert variational_bound(div, div.derivative) == pytest.approx(exact, abs=1e-6)
    # Any other critic gives less: here T = f′(1.5·p/q), still inside f*'s domain.
    assert variational_bound(div, lambda u: div.derivative(1.5 * u)) < exact - 1e-4


# -- the objective ------------------------------------------------------------------------


def test_fgan_gan_is_the_original_gan():
    real, fake = as_tensor([2.0, -0.5, 1.0]), as_tensor([-1.0, 0.3, -4.0])
    nonsat = build_objective(Options(divergence="gan", generator_loss="nonsaturating"))
    sat = build_objective(Options(divergence="gan", generator_loss="saturating"))
    assert nonsat.logits_are_probabilities and nonsat.divergence == "js"
    torch.testing.assert_close(nonsat.d_loss(real, fake), minimax_d_loss(real, fake))
    torch.testing.assert_close(nonsat.g_loss(fake, None), nonsaturating_g_loss(fake))
    torch.testing.assert_close(sat.g_loss(fake, None), minimax_g_loss(fake))
    # F = 2·JS − log 4 and the objective reports JS itself, like the minimax GAN.
    bound = fgan_bound(F_DIVERGENCES["gan"], real, fake)
    torch.testing.assert_close(bound, 2 * js_estimate(real, fake) - math.log(4))
    torch.testing.assert_close(nonsat.divergence_estimate(real, fake), js_estimate(real, fake))


def test_fgan_js_reports_jensen_shannon_not_twice_it():
    real, fake = as_tensor([2.0, -0.5, 1.0]), as_tensor([-1.0, 0.3, -4.0])
    objective = build_objective(Options(divergence="js"))
    bound = fgan_bound(F_DIVERGENCES["js"], real, fake)
    assert objective.divergence == "js"
    torch.testing.assert_close(objective.divergence_estimate(real, fake), bound / 2)


def test_fgan_kl_losses_match_hand_computed_values():
    real, fake = as_tensor([0.5, 1.0]), as_tensor([0.0, 2.0])
    objective = build_objective(Options(divergence="kl", generator_loss="saturating"))
    bound = 0.75 - (math.exp(-1) + math.exp(1)) / 2  # E_P[V] − E_Q[e^{V−1}]
    assert not objective.logits_are_probabilities and objective.divergence == "kl"
    assert objective.divergence_estimate(real, fake).item() == pytest.approx(bound, rel=1e-12)
    assert objective.d_loss(real, fake).item() == pytest.approx(-bound, rel=1e-12)
    assert objective.g_loss(fake, None).item() == pytest.approx(
        -(math.exp(-1) + math.exp(1)) / 2, rel=1e-12
    )
    nonsat = build_objective(Options(divergence="kl", generator_loss="nonsaturating"))
    assert nonsat.g_loss(fake, None).item() == pytest.approx(-1.0, rel=1e-12)  # −E_Q[V]


@pytest.mark.parametrize("name", NAMES)
def test_fgan_losses_are_finite_with_gradients_for_large_logits(name):
    objective = build_objective(Options(divergence=name))
    real = torch.tensor([30.0, -30.0, 0.0], requires_grad=True)
    fake = torch.tensor([-30.0, 30.0, 0.0], requires_grad=True)
    d_loss, g_loss = objective.d_loss(real, fake), objective.g_loss(fake, None)
    grads = torch.autograd.grad(d_loss + g_loss, (real, fake))
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert all(torch.isfinite(g).all() for g in grads)
    assert torch.isfinite(objective.divergence_estimate(real, fake))
