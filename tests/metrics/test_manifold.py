import numpy as np
import pytest
import torch

from gankit.metrics import density_coverage, manifold, precision_recall


def rng(seed):
    return np.random.default_rng(seed)


def on_a_line(*xs):
    return np.array([[x, 0.0] for x in xs])


def two_modes(n, seed):
    """n samples of ½N((−20, 0), I) + ½N((20, 0), I)."""
    r = rng(seed)
    x = r.normal(size=(n, 2))
    x[:, 0] += np.where(r.integers(0, 2, n) == 1, 20.0, -20.0)
    return x


def test_identical_sets_have_precision_and_recall_exactly_1():
    x = rng(0).normal(size=(500, 8))
    assert precision_recall(x, x.copy()) == (1.0, 1.0)
    assert density_coverage(x, x.copy())[1] == 1.0


def test_a_hand_computed_example_with_k_1():
    # real 0, 1, 10, 11: every NND_1 is 1; fake 0.5, 5, 5.5: NND_1 4.5, 0.5, 0.5
    real, fake = on_a_line(0, 1, 10, 11), on_a_line(0.5, 5, 5.5)
    # only 0.5 is in a real ball; only 0 and 1 are in a fake ball (that of 0.5)
    assert precision_recall(real, fake, k=1) == pytest.approx((1 / 3, 1 / 2))
    # 0.5 lies in B(0, 1) and B(1, 1): density 2/(1·3); those two real balls hold a fake
    assert density_coverage(real, fake, k=1) == pytest.approx((2 / 3, 1 / 2))


def test_the_balls_are_closed():
    # 2 lies exactly on the boundary of B(1, 1) and in no other real ball
    assert density_coverage(on_a_line(0, 1, 10, 11), on_a_line(2.0), k=1) == (1.0, 0.25)


def test_the_k_th_neighbour_excludes_the_point_itself():
    radii = manifold.knn_radii(torch.tensor(on_a_line(0, 1, 3, 7)), k=2)
    assert radii.tolist() == [3.0, 2.0, 3.0, 6.0]


def test_dropping_one_of_two_modes_keeps_precision_and_halves_recall():
    real = two_modes(2000, seed=0)
    fake = rng(1).normal(size=(2000, 2)) + [-20.0, 0.0]
    precision, recall = precision_recall(real, fake, k=3)
    # measured over 5 seeds: precision 0.97 to 0.99, recall 0.47 to 0.51
    assert precision >= 0.95
    assert recall == pytest.approx(0.5, abs=0.05)


def test_same_distribution_sets_have_density_and_coverage_near_1():
    real, fake = rng(2).normal(size=(3000, 2)), rng(3).normal(size=(3000, 2))
    density, coverage = density_coverage(real, fake, k=5)
    # measured over 5 seeds: density 0.997 to 1.012; coverage 0.968 to 0.977, about its
    # expectation 1 − 2⁻⁵ ≈ 0.969 for as many fakes as reals (Naeem et al., 2020)
    assert density == pytest.approx(1.0, abs=0.05)
    assert coverage == pytest.approx(1 - 2**-5, abs=0.02)


def test_blocks_of_rows_give_the_same_answer(monkeypatch):
    real, fake = two_modes(300, seed=4), rng(5).normal(size=(250, 2)) * 5
    whole = precision_recall(real, fake), density_coverage(real, fake)
    monkeypatch.setattr(manifold, "CHUNK_ROWS", 64)
    assert (precision_recall(real, fake), density_coverage(real, fake)) == whole


@pytest.mark.parametrize(
    ("real", "fake", "k", "message"),
    [
        (
            np.zeros(10),
            np.zeros((10, 2)),
            3,
            r"real must be a 2-D array of shape \(n, d\), got shape \(10,\)",
        ),
        (
            np.zeros((10, 2)),
            np.zeros((10, 3)),
            3,
            "real and fake must have the same feature dimension, got 2 and 3",
        ),
        (np.zeros((3, 2)), np.zeros((10, 2)), 3, "real needs at least 4 samples, got 3"),
        (np.zeros((10, 2)), np.zeros((2, 2)), 3, "fake needs at least 4 samples, got 2"),
        (np.zeros((10, 2)), np.full((10, 2), np.inf), 3, "fake contains NaN or infinite values"),
        (np.zeros((10, 2)), np.zeros((10, 2)), 0, "k must be at least 1, got 0"),
    ],
)
def test_bad_input_is_refused(real, fake, k, message):
    with pytest.raises(ValueError, match=message):
        precision_recall(real, fake, k=k)


def test_density_and_coverage_need_only_one_fake_but_more_than_k_reals():
    with pytest.raises(ValueError, match="real needs at least 6 samples, got 5"):
        density_coverage(np.zeros((5, 2)), np.zeros((1, 2)), k=5)
    with pytest.raises(ValueError, match="fake needs at least 1 sample, got 0"):
        density_coverage(np.zeros((6, 2)), np.zeros((0, 2)), k=5)
