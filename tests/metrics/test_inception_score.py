import math

import numpy as np
import pytest
import torch

from gankit.metrics import inception_score


def one_hot(labels, classes):
    return np.eye(classes)[labels]


def test_uniform_predictions_score_1():
    probs = np.full((100, 10), 0.1)
    mean, std = inception_score(probs, from_logits=False)
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)
    assert inception_score(np.zeros((100, 10)))[0] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("classes", [2, 5, 10])
def test_confident_predictions_spread_evenly_over_c_classes_score_c(classes):
    # 10 splits of 10 · classes samples, each holding every class 10 times
    probs = one_hot(np.arange(100 * classes) % classes, classes)
    mean, std = inception_score(probs, splits=10, from_logits=False)
    assert mean == pytest.approx(classes, abs=1e-6)
    assert std == pytest.approx(0.0, abs=1e-6)
    logits = 60.0 * probs  # softmax within e^{-60} of one-hot
    assert inception_score(logits, splits=10)[0] == pytest.approx(classes, abs=1e-6)


def test_predictions_all_of_one_class_score_1():
    probs = one_hot(np.zeros(50, dtype=int), 4)
    assert inception_score(probs, splits=5, from_logits=False)[0] == pytest.approx(1.0)


def test_confident_predictions_on_2_of_4_classes_score_2():
    probs = one_hot(np.arange(40) % 2, 4)
    assert inception_score(probs, splits=4, from_logits=False)[0] == pytest.approx(2.0)


def test_logits_and_probabilities_agree():
    logits = torch.randn(300, 7, generator=torch.Generator().manual_seed(0)) * 3
    from_logits = inception_score(logits, splits=3)
    from_probs = inception_score(torch.softmax(logits.double(), dim=1), splits=3, from_logits=False)
    assert from_logits == pytest.approx(from_probs, abs=1e-9)
    assert 1.5 < from_logits[0] < 7


def test_the_score_matches_the_definition_by_hand():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    marginal = probs.mean(axis=0)
    kl = [sum(p * math.log(p / q) for p, q in zip(row, marginal, strict=True)) for row in probs]
    expected = math.exp(sum(kl) / 3)
    assert inception_score(probs, splits=1, from_logits=False) == pytest.approx((expected, 0.0))


def test_splits_are_scored_separately():
    # two splits: one all class 0 (IS 1), one evenly spread over 2 classes (IS 2)
    probs = one_hot(np.array([0, 0, 0, 0, 0, 1, 0, 1]), 2)
    mean, std = inception_score(probs, splits=2, from_logits=False)
    assert mean == pytest.approx(1.5)
    assert std == pytest.approx(0.5)


def test_very_confident_logits_stay_finite():
    logits = np.zeros((20, 3))
    logits[np.arange(20), np.arange(20) % 3] = 1e4
    mean, _ = inception_score(logits, splits=1)
    assert math.isfinite(mean)
    # one-hot predictions score exp(H(p(y))); classes 0, 1, 2 take 7, 7 and 6 samples
    entropy = -2 * (7 / 20) * math.log(7 / 20) - (6 / 20) * math.log(6 / 20)
    assert mean == pytest.approx(math.exp(entropy), abs=1e-9)


@pytest.mark.parametrize(
    ("outputs", "kwargs", "message"),
    [
        (
            np.zeros(10),
            {},
            r"logits_or_probs must be a 2-D array of shape \(n, d\), got shape \(10,\)",
        ),
        (np.zeros((5, 3)), {}, "logits_or_probs needs at least 10 samples, got 5"),
        (np.full((20, 3), np.nan), {}, "logits_or_probs contains NaN or infinite values"),
        (np.zeros((20, 3)), {"splits": 0}, "splits must be at least 1, got 0"),
        (
            np.full((20, 3), 0.5),
            {"from_logits": False},
            "each row of probabilities must sum to 1, but one is off by 0.5",
        ),
        (
            np.tile([1.5, -0.5], (20, 1)),
            {"from_logits": False},
            "probabilities must be non-negative",
        ),
    ],
)
def test_bad_input_is_refused(outputs, kwargs, message):
    with pytest.raises(ValueError, match=message):
        inception_score(outputs, **kwargs)
