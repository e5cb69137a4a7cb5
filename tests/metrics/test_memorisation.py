import dataclasses

import numpy as np
import pytest

from gankit.metrics import Memorisation, memorisation


def rng(seed):
    return np.random.default_rng(seed)


def on_a_line(*xs):
    return np.array([[x, 0.0] for x in xs])


TRAIN = rng(0).normal(size=(5000, 4))
HELDOUT = rng(1).normal(size=(2000, 4))


def test_a_hand_computed_example():
    # held-out distances to the training set {0, 10}: 1, 3, 2 (median 2, 1st percentile
    # 1 + 0.02·(2 − 1) by linear interpolation); generated: 0.5, 0, 5 (median 0.5)
    result = memorisation(on_a_line(0.5, 10, 5), on_a_line(0, 10), on_a_line(1, 3, 8))
    assert result == Memorisation(
        generated_median=0.5,
        heldout_median=2.0,
        ratio=0.25,
        copy_threshold=pytest.approx(1.02),
        copy_rate=pytest.approx(2 / 3),
    )


def test_fresh_samples_from_the_training_distribution_are_not_copies():
    result = memorisation(rng(2).normal(size=(2000, 4)), TRAIN, HELDOUT)
    # measured over 6 seeds: ratio 0.98 to 1.04, copy rate 0.006 to 0.014
    assert result.ratio == pytest.approx(1.0, abs=0.1)
    assert result.copy_rate == pytest.approx(0.01, abs=0.015)


def test_noisy_copies_of_training_samples_are_caught():
    copies = TRAIN[:2000] + 1e-3 * rng(3).normal(size=(2000, 4))
    result = memorisation(copies, TRAIN, HELDOUT)
    # measured: ratio ≈ 0.0065 (noise of 1e-3 against held-out distances of ≈ 0.3)
    assert result.ratio < 0.05
    assert result.copy_rate == 1.0
    assert result.generated_median < result.copy_threshold < result.heldout_median


def test_half_copies_give_a_copy_rate_near_one_half():
    half = np.concatenate([TRAIN[:1000], rng(4).normal(size=(1000, 4))])
    result = memorisation(half, TRAIN, HELDOUT)
    assert result.copy_rate == pytest.approx(0.5 + 0.5 * 0.01, abs=0.01)


def test_the_outcome_is_frozen():
    result = memorisation(on_a_line(0.5, 10, 5), on_a_line(0, 10), on_a_line(1, 3, 8))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ratio = 1.0


@pytest.mark.parametrize(
    ("generated", "train", "heldout", "message"),
    [
        (
            np.zeros(4),
            np.zeros((4, 2)),
            np.zeros((4, 2)),
            r"generated must be a 2-D array of shape \(n, d\), got shape \(4,\)",
        ),
        (
            np.zeros((4, 2)),
            np.zeros((4, 3)),
            np.zeros((4, 3)),
            "generated and train must have the same feature dimension, got 2 and 3",
        ),
        (
            np.zeros((4, 2)),
            np.zeros((4, 2)),
            np.zeros((4, 3)),
            "heldout and train must have the same feature dimension, got 3 and 2",
        ),
        (
            np.zeros((4, 2)),
            np.zeros((0, 2)),
            np.zeros((4, 2)),
            "train needs at least 1 sample, got 0",
        ),
        (
            np.zeros((4, 2)),
            np.zeros((4, 2)),
            np.full((4, 2), np.nan),
            "heldout contains NaN or infinite values",
        ),
    ],
)
def test_bad_input_is_refused(generated, train, heldout, message):
    with pytest.raises(ValueError, match=message):
        memorisation(generated, train, heldout)
