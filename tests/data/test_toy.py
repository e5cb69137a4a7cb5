"""Toy sources: exact densities, sampling statistics, reproducibility and option checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from scipy import stats
from scipy.special import logsumexp

from gankit.data import (
    SOURCES,
    Bimodal1dOptions,
    GaussianMixture,
    Gmm1dOptions,
    GridOptions,
    MoonsOptions,
    Normal1dOptions,
    RingOptions,
    SpiralOptions,
    SwissRollOptions,
    build_source,
)
from gankit.registry import UnknownNameError

TOY_NAMES = ["normal1d", "bimodal1d", "gmm1d", "ring", "grid", "swissroll", "moons", "spiral"]
CURVES = {"swissroll": SwissRollOptions, "moons": MoonsOptions, "spiral": SpiralOptions}


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_registry_lists_every_source_with_summary_and_field_docs():
    images = {"mnist5k", "digits8x8", "folder", "idx", "shapes"}
    translation = {
        "aligned",
        "paired_folders",
        "edges2digits",
        "unpaired_folders",
        "mnist2digits8x8",
    }
    expected = set(TOY_NAMES) | images | translation | {"drawn"}
    assert set(SOURCES.names()) == expected
    for entry in SOURCES:
        assert entry.summary
        assert entry.options.model_fields["name"].default == entry.name
        for field_name, field in entry.options.model_fields.items():
            assert field_name == "name" or field.description, (entry.name, field_name)


def test_unknown_source_name_lists_valid_names():
    with pytest.raises(UnknownNameError, match="ring"):
        SOURCES.entry("rnig")


def test_build_source_rejects_options_of_another_source():
    class Impostor(Normal1dOptions):
        name: str = "ring"

    with pytest.raises(TypeError, match="RingOptions"):
        build_source(Impostor())


@pytest.mark.parametrize("options", [Normal1dOptions(), Bimodal1dOptions(), Gmm1dOptions()])
def test_1d_mixture_density_integrates_to_one(options):
    source = build_source(options)
    x = torch.linspace(-12.0, 12.0, 240_001, dtype=torch.float64)
    density = source.log_prob(x[:, None]).exp()
    assert torch.trapezoid(density, x).item() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    ("options", "half_width", "step"),
    [(RingOptions(), 1.1, 0.005), (GridOptions(), 4.5, 0.025)],
)
def test_2d_mixture_density_integrates_to_one(options, half_width, step):
    # Trapezoid rule with step h = σ/2: for a Gaussian its error is about 2·exp(−2π²σ²/h²)
    # (Poisson summation), ~1e-34, so only the tails cut at the box edge (> 10σ) remain.
    source = build_source(options)
    axis = torch.arange(-half_width, half_width + step / 2, step, dtype=torch.float64)
    xs, ys = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)
    density = source.log_prob(points).exp().reshape(xs.shape)
    mass = torch.trapezoid(torch.trapezoid(density, axis, dim=1), axis)
    assert mass.item() == pytest.approx(1.0, abs=1e-6)


def test_1d_log_prob_matches_scipy():
    weights, means, stds = [2.0, 1.0, 1.0], [-1.0, 0.5, 3.0], [0.4, 1.2, 0.7]
    source = build_source(Gmm1dOptions(weights=weights, means=means, stds=stds))
    x = np.linspace(-4.0, 5.0, 19)
    log_w = np.log(np.array(weights) / sum(weights))
    per_component = stats.norm.logpdf(x[:, None], loc=means, scale=stds) + log_w
    expected = torch.from_numpy(logsumexp(per_component, axis=1))
    actual = source.log_prob(torch.from_numpy(x)[:, None])
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


def test_2d_log_prob_matches_scipy():
    source = build_source(RingOptions(modes=3, radius=2.0, std=0.5))
    x = np.array([[0.0, 0.0], [2.0, 0.0], [-1.0, 1.7], [0.3, -2.5]])
    per_component = [
        stats.multivariate_normal(mean=m, cov=0.25 * np.eye(2)).logpdf(x)
        for m in source.modes.numpy()
    ]
    expected = torch.from_numpy(logsumexp(np.stack(per_component, 1) + np.log(1 / 3), axis=1))
    torch.testing.assert_close(source.log_prob(torch.from_numpy(x)), expected)


def test_bimodal_component_fractions_match_weights():
    source = build_source(Bimodal1dOptions())
    n = 100_000
    x, component = source.sample_labelled(n, gen(0))
    # Binomial standard error sqrt(0.7·0.3/n) ≈ 0.00145; allow four of them.
    standard_error = math.sqrt(0.7 * 0.3 / n)
    assert (component == 0).float().mean().item() == pytest.approx(0.7, abs=4 * standard_error)
    # The bumps are ≥ 3.5σ apart from the midpoint, so the nearest mean names the component
    # for all but ~0.02 % of points.
    nearest, _ = source.nearest_mode(x)
    assert (nearest == 0).float().mean().item() == pytest.approx(0.7, abs=4 * standard_error)


def test_bimodal_per_component_mean_and_std():
    source = build_source(Bimodal1dOptions())
    x, component = source.sample_labelled(100_000, gen(1))
    for k, (mean, std) in enumerate([(-1.5, 0.35), (2.0, 0.5)]):
        points = x[component == k, 0].double()
        m = points.numel()
        # Standard errors: σ/√m for the mean, σ/√(2m) for the std of a Gaussian.
        assert points.mean().item() == pytest.approx(mean, abs=4 * std / math.sqrt(m))
        assert points.std().item() == pytest.approx(std, abs=4 * std / math.sqrt(2 * m))


def test_mixture_properties_and_nearest_mode():
    source = build_source(Gmm1dOptions(weights=[1.0, 3.0], means=[-1.0, 4.0], stds=[0.5, 2.0]))
    torch.testing.assert_close(source.weights, torch.tensor([0.25, 0.75], dtype=torch.float64))
    torch.testing.assert_close(source.modes, torch.tensor([[-1.0], [4.0]], dtype=torch.float64))
    torch.testing.assert_close(
        source.component_stds, torch.tensor([[0.5], [2.0]], dtype=torch.float64)
    )
    index, distance = source.nearest_mode(torch.tensor([[-3.0], [1.4], [10.0]]))
    assert index.tolist() == [0, 0, 1]
    torch.testing.assert_close(distance, torch.tensor([2.0, 2.4, 6.0]))
    assert source.has_density and source.shape == (1,)


def test_gaussian_mixture_rejects_bad_shapes():
    with pytest.raises(ValueError, match="stds"):
        GaussianMixture([1.0, 1.0], [[0.0, 0.0], [1.0, 1.0]], [[1.0, 1.0, 1.0]] * 2)
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture([1.0], [[0.0], [1.0]], [1.0, 1.0])


@pytest.mark.parametrize("name", TOY_NAMES)
def test_same_seed_same_samples_different_seed_different(name):
    source = build_source(SOURCES.entry(name).options())
    first, again, other = (source.sample(256, gen(s)) for s in (7, 7, 8))
    assert first.dtype == torch.float32 and first.shape == (256, source.shape[0])
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_ring_modes_on_circle_at_right_angles():
    source = build_source(RingOptions(modes=6, radius=2.5, std=0.02))
    modes = source.modes
    torch.testing.assert_close(modes.norm(dim=1), torch.full((6,), 2.5, dtype=torch.float64))
    angles = torch.atan2(modes[:, 1], modes[:, 0]) % (2 * math.pi)
    expected = 2 * math.pi * torch.arange(6, dtype=torch.float64) / 6
    torch.testing.assert_close(angles, expected)
    samples = source.sample(20_000, gen(0)).double()
    # Radius of N(μ, σ²I) with |μ| = 2.5 ≫ σ: mean ≈ 2.5 + σ²/(2·2.5), std ≈ σ.
    assert samples.norm(dim=1).mean().item() == pytest.approx(2.5, abs=1e-3)
    assert samples.norm(dim=1).std().item() == pytest.approx(0.02, rel=0.03)


def test_ring_default_is_pacgan_protocol():
    source = build_source(RingOptions())
    assert source.modes.shape == (8, 2)
    torch.testing.assert_close(source.modes[2], torch.tensor([0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(source.component_stds, torch.full((8, 2), 0.01, dtype=torch.float64))


def test_grid_means_are_exactly_pacgan_lattice():
    source = build_source(GridOptions())
    expected = {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    found = [tuple(row) for row in source.modes.tolist()]
    assert len(found) == 25 and set(found) == expected
    torch.testing.assert_close(source.weights, torch.full((25,), 1 / 25, dtype=torch.float64))
    torch.testing.assert_close(
        source.component_stds, torch.full((25, 2), 0.05, dtype=torch.float64)
    )


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Normal1dOptions(std=0.0), "std"),
        (lambda: Normal1dOptions(std=-1.0), "std"),
        (lambda: Normal1dOptions(mean=float("nan")), "mean"),
        (lambda: RingOptions(std=0), "std"),
        (lambda: RingOptions(modes=0), "modes"),
        (lambda: RingOptions(radius=-1.0), "radius"),
        (lambda: GridOptions(spacing=0.0), "spacing"),
        (lambda: GridOptions(std=float("inf")), "std"),
        (lambda: Gmm1dOptions(weights=[1.0, 2.0], means=[0.0], stds=[1.0, 1.0]), "means"),
        (lambda: Gmm1dOptions(weights=[-1.0, 2.0], means=[0.0, 1.0], stds=[1.0, 1.0]), "weights"),
        (lambda: Gmm1dOptions(weights=[1.0, 2.0], means=[0.0, 1.0], stds=[1.0, 0.0]), "stds"),
        (lambda: Bimodal1dOptions(weights=[0.2, 0.3, 0.5]), "weights"),
        (lambda: SwissRollOptions(noise=-0.1), "noise"),
        (lambda: MoonsOptions(scale=0.0), "scale"),
        (lambda: RingOptions(raduis=2.0), "raduis"),
    ],
)
def test_bad_options_name_the_field(make, field):
    with pytest.raises(ValidationError, match=field):
        make()


def test_options_are_frozen():
    options = RingOptions()
    with pytest.raises(ValidationError, match="frozen"):
        options.std = 0.5


@pytest.mark.parametrize("name", sorted(CURVES))
def test_curves_are_finite_2d_without_density(name):
    source = build_source(CURVES[name]())
    x = source.sample(5_000, gen(3))
    assert x.shape == (5_000, 2) and x.dtype == torch.float32
    assert torch.isfinite(x).all()
    # Of order ±2…4 so that a plain MLP fits them.
    assert 1.5 < x.abs().max().item() < 4.5
    assert not source.has_density
    with pytest.raises(TypeError, match="no closed-form density"):
        source.log_prob(x)


@pytest.mark.parametrize("name", sorted(CURVES))
def test_curve_scale_and_noise(name):
    options = CURVES[name]
    clean = build_source(options(noise=0.0, scale=1.0)).sample(20_000, gen(5))
    double = build_source(options(noise=0.0, scale=2.0)).sample(20_000, gen(5))
    noisy = build_source(options(noise=0.2, scale=1.0)).sample(20_000, gen(5))
    torch.testing.assert_close(double, 2 * clean)
    # The curve is drawn before the noise, so the same seed gives the same curve points.
    assert (noisy - clean).std().item() == pytest.approx(0.2, rel=0.02)
    assert (noisy - clean).mean().item() == pytest.approx(0.0, abs=0.005)


def test_swissroll_and_spiral_lie_inside_their_radius():
    for options in (SwissRollOptions(noise=0.0, scale=3.0), SpiralOptions(noise=0.0, scale=3.0)):
        radius = build_source(options).sample(10_000, gen(0)).norm(dim=1)
        assert radius.max().item() == pytest.approx(3.0, abs=0.02)


def test_moons_lie_on_two_unit_half_circles():
    x = build_source(MoonsOptions(noise=0.0, scale=1.0)).sample(10_000, gen(0)).double()
    centre = torch.tensor([0.5, 0.25], dtype=torch.float64)
    to_upper = (x + centre).norm(dim=1)  # upper moon: centred at (−0.5, −0.25)
    to_lower = (x - centre).norm(dim=1)  # lower moon: centred at (0.5, 0.25)
    on_circle = torch.minimum((to_upper - 1).abs(), (to_lower - 1).abs())
    assert on_circle.max().item() == pytest.approx(0.0, abs=1e-5)
    upper = (to_upper - 1).abs() < 1e-5
    assert upper.float().mean().item() == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(10_000))


def test_samples_follow_source_device():
    source = build_source(RingOptions()).to("meta")
    assert source.sample(4, gen(0)).device.type == "meta"


def test_drawn_samples_are_the_points_plus_jitter_with_their_mixture_density():
    points = [[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]
    source = build_source(SOURCES.entry("drawn").options(points=points, jitter=0.05))
    samples = source.sample(30_000, gen(0)).double()
    nearest, distance = source.nearest_mode(samples)
    shares = torch.bincount(nearest, minlength=3).double() / len(samples)
    torch.testing.assert_close(shares, torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.01, rtol=0)
    offsets = samples - torch.tensor(points, dtype=torch.float64)[nearest]
    assert offsets.std(dim=0).tolist() == pytest.approx([0.05, 0.05], rel=0.03)
    # p(x) = (1/3) Σ_k N(x; p_k, 0.05²·I): at a point, 1/3 of a Gaussian's peak 1/(2πσ²)
    peak = source.log_prob(torch.tensor([[3.0, 0.0]], dtype=torch.float64)).exp().item()
    assert peak == pytest.approx(1 / (3 * 2 * math.pi * 0.05**2), rel=1e-6)
