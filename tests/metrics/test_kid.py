import numpy as np
import pytest

from gankit.metrics import kernel_inception_distance


def rng(seed):
    return np.random.default_rng(seed)


def mmd2_by_loops(x, y):
    d = len(x[0])

    def k(u, v):
        return (sum(ui * vi for ui, vi in zip(u, v, strict=True)) / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_it_matches_a_direct_double_loop_on_a_tiny_example():
    x = [[0.5, -1.0, 2.0], [1.0, 0.0, 0.0], [-0.3, 0.7, 1.1], [2.0, 2.0, -1.0], [0.0, 0.1, 0.2]]
    y = [[1.5, 0.0, 1.0], [0.2, -0.4, 0.0], [-1.0, 1.0, 1.0], [0.3, 0.3, 0.3], [1.0, 2.0, 3.0]]
    # subsets of all 5 samples hold the whole sets, so every subset gives the same value
    mean, std = kernel_inception_distance(np.array(x), np.array(y), subsets=3, subset_size=10)
    assert mean == pytest.approx(mmd2_by_loops(x, y), abs=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_it_is_unbiased_for_two_sets_from_one_distribution():
    estimates, biased = [], []
    for seed in range(50):
        x, y = rng(2 * seed).normal(size=(40, 4)), rng(2 * seed + 1).normal(size=(40, 4))
        estimates.append(kernel_inception_distance(x, y, subsets=1, subset_size=40)[0])
        k_xx, k_yy, k_xy = (x @ x.T / 4 + 1) ** 3, (y @ y.T / 4 + 1) ** 3, (x @ y.T / 4 + 1) ** 3
        biased.append(k_xx.mean() + k_yy.mean() - 2 * k_xy.mean())  # keeps the i = j terms
    mean, standard_error = np.mean(estimates), np.std(estimates, ddof=1) / np.sqrt(50)
    assert abs(mean) < 3 * standard_error
    assert min(estimates) < 0 < max(estimates)  # single unbiased estimates go negative
    # the biased V-statistic is off by far more than that
    assert np.mean(biased) > 10 * standard_error


def test_shifted_distributions_score_clearly_positive():
    x, y = rng(0).normal(size=(300, 8)), rng(1).normal(loc=1.0, size=(300, 8))
    mean, std = kernel_inception_distance(x, y, subsets=20, subset_size=100)
    same_mean, same_std = kernel_inception_distance(
        x, rng(2).normal(size=(300, 8)), subsets=20, subset_size=100
    )
    assert mean > 4 * std > 0  # measured: 8.4 ± 1.3 over subsets of 100
    assert abs(same_mean) < 0.05 * mean  # measured: 0.02 ± 0.04


def test_it_is_deterministic_given_the_seed():
    x, y = rng(3).normal(size=(100, 5)), rng(4).normal(size=(100, 5))
    first = kernel_inception_distance(x, y, subsets=5, subset_size=20, seed=7)
    assert kernel_inception_distance(x, y, subsets=5, subset_size=20, seed=7) == first
    assert kernel_inception_distance(x, y, subsets=5, subset_size=20, seed=8) != first
    assert first[1] > 0  # subsets of 20 out of 100 differ


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        (
            np.zeros((4, 2, 2)),
            np.zeros((4, 2)),
            {},
            r"a must be a 2-D array of shape \(n, d\), got shape \(4, 2, 2\)",
        ),
        (
            np.zeros((4, 2)),
            np.zeros((4, 5)),
            {},
            "a and b must have the same feature dimension, got 2 and 5",
        ),
        (np.zeros((4, 2)), np.zeros((1, 2)), {}, "b needs at least 2 samples, got 1"),
        (
            np.array([[0.0, np.nan], [1.0, 1.0]]),
            np.zeros((4, 2)),
            {},
            "a contains NaN or infinite values",
        ),
        (np.zeros((4, 2)), np.zeros((4, 2)), {"subsets": 0}, "subsets must be at least 1, got 0"),
        (
            np.zeros((4, 2)),
            np.zeros((4, 2)),
            {"subset_size": 1},
            "subset_size must be at least 2, got 1",
        ),
    ],
)
def test_bad_input_is_refused(a, b, kwargs, message):
    with pytest.raises(ValueError, match=message):
        kernel_inception_distance(a, b, **kwargs)
