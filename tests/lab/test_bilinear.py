import json
import math

import numpy as np
import pytest

from gankit.lab.bilinear import (
    alternating,
    alternating_invariant,
    bilinear_game,
    extragradient,
    optimistic,
    radius,
    simultaneous,
)

START = (2.0, 3.0)


def test_alternating_with_unit_step_returns_after_exactly_six_steps():
    path = alternating(START, 1.0, 12)
    expected = [(2, 3), (-1, 2), (-3, -1), (-2, -3), (1, -2), (3, 1), (2, 3)]
    np.testing.assert_allclose(path[:7], expected, atol=1e-12)
    np.testing.assert_allclose(path[6], START, atol=1e-12)
    np.testing.assert_allclose(path[12], START, atol=1e-12)
    for step in range(1, 6):
        assert np.max(np.abs(path[step] - START)) >= 1.0


def test_trajectories_include_the_start():
    for method in (simultaneous, alternating, extragradient, optimistic):
        path = method(START, 0.3, 5)
        assert path.shape == (6, 2)
        assert path.dtype == np.float64
        np.testing.assert_array_equal(path[0], START)


@pytest.mark.parametrize("eta", [0.05, 0.3, 1.0, 1.5, 1.9])
def test_alternating_conserves_its_invariant_and_stays_bounded(eta):
    path = alternating(START, eta, 5000)
    invariant = alternating_invariant(path, eta)
    assert invariant[0] == pytest.approx(4 + 9 - 6 * eta, rel=1e-15)
    np.testing.assert_allclose(invariant, invariant[0], rtol=1e-9, atol=0)
    # x² + y² − ηxy ≥ (1 − η/2)(x² + y²), so the radius is bounded by the invariant.
    assert radius(path).max() <= math.sqrt(invariant[0] / (1 - eta / 2)) * (1 + 1e-9)


@pytest.mark.parametrize("eta", [0.01, 0.2, 0.7, 1.0, 2.5])
def test_simultaneous_radius_grows_by_sqrt_one_plus_eta_squared(eta):
    path = simultaneous(START, eta, 40)
    ratios = radius(path[1:]) / radius(path[:-1])
    np.testing.assert_allclose(ratios, math.sqrt(1 + eta**2), rtol=1e-12)


@pytest.mark.parametrize("eta", [0.05, 0.2, 0.5, 0.9])
def test_extragradient_radius_shrinks_by_its_exact_factor(eta):
    path = extragradient(START, eta, 40)
    ratios = radius(path[1:]) / radius(path[:-1])
    factor = math.sqrt(1 - eta**2 + eta**4)
    assert factor < 1
    np.testing.assert_allclose(ratios, factor, rtol=1e-12)


def test_extragradient_first_step_by_hand():
    # look-ahead (2 − 0.5·3, 3 + 0.5·2) = (0.5, 4); step (2 − 0.5·4, 3 + 0.5·0.5) = (0, 3.25)
    np.testing.assert_allclose(extragradient(START, 0.5, 1)[1], (0.0, 3.25), atol=1e-15)


def test_optimistic_first_step_is_simultaneous_then_uses_the_previous_gradient():
    path = optimistic(START, 0.5, 2)
    np.testing.assert_allclose(path[1], simultaneous(START, 0.5, 1)[1], atol=1e-15)
    # x₂ = x₁ − 2η y₁ + η y₀ = 0.5 − 4 + 1.5, y₂ = y₁ + 2η x₁ − η x₀ = 4 + 0.5 − 1
    np.testing.assert_allclose(path[2], (-2.0, 3.5), atol=1e-15)


def test_optimistic_converges_to_the_equilibrium():
    path = optimistic(START, 0.1, 2000)
    assert radius(path[-1]) < 1e-3 * radius(path[0])
    assert radius(path[-1]) > 0


def test_experiment_writes_figure_and_numbers_showing_each_claim(tmp_path):
    result = bilinear_game(out_dir=tmp_path, seed=3, progress=False)
    png, numbers_path = tmp_path / "bilinear-game.png", tmp_path / "bilinear-game.json"
    assert result.figure == png and result.numbers_path == numbers_path
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
    numbers = json.loads(numbers_path.read_text())
    eta = numbers["eta"]
    assert numbers["alternating_eta1_return_error"] <= 1e-12
    assert numbers["alternating_eta1_closest_earlier_distance"] >= 1.0
    assert numbers["alternating_invariant_relative_drift"] <= 1e-9
    assert numbers["simultaneous_radius_ratio"] == pytest.approx(math.sqrt(1 + eta**2), rel=1e-12)
    assert numbers["simultaneous_radius_ratio_spread"] < 1e-12
    assert numbers["extragradient_radius_ratio"] == pytest.approx(
        math.sqrt(1 - eta**2 + eta**4), rel=1e-12
    )
    final = numbers["final_radius"]
    assert final["simultaneous"] > 100 * numbers["start_radius"]
    assert final["extragradient"] < 0.01 * numbers["start_radius"]
    assert final["optimistic"] < 0.01 * numbers["start_radius"]
    assert len(result.lines) == 5
