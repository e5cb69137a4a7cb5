"""The Inception Score (IS) of a classifier's predictions on generated samples.

Salimans et al. (2016) score a generator by

    IS = exp(E_x KL(p(y|x) ‖ p(y))),

where p(y|x) is the class distribution a classifier predicts for a generated sample x and
p(y) = E_x p(y|x) is its marginal over the samples. It is high when each prediction is
confident (low entropy of p(y|x)) and the predictions are spread over many classes (high
entropy of p(y)): it ranges from 1 (every prediction the same) to the number of classes C
(confident predictions spread evenly over all classes).

Following the paper, the samples are cut into ``splits`` parts of nearly equal size, the
score is computed on each with its own marginal, and the mean and standard deviation over
the parts are reported. The classifier need not be Inception-v3: any classifier's logits or
probabilities will do, e.g. a small network trained on the real data set. The KL terms are
computed from log-probabilities (log-softmax for logits) and log p(y) by a log-sum-exp, so
very confident logits neither overflow nor produce log 0; terms with p(y|x) = 0 contribute 0.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from gankit.metrics.frechet import ArrayLike, as_features

PROBABILITY_TOLERANCE = 1e-6
"""How far the rows of probability inputs may sum from 1."""


def inception_score(
    logits_or_probs: ArrayLike, splits: int = 10, from_logits: bool = True
) -> tuple[float, float]:
    """Mean and standard deviation over ``splits`` parts of IS = exp(E_x KL(p(y|x) ‖ p(y)))
    (Salimans et al., 2016) from classifier outputs (n, C): logits, or probabilities when
    ``from_logits`` is False. The standard deviation is over the parts (divided by
    ``splits``, 0 for one part)."""
    if splits < 1:
        raise ValueError(f"splits must be at least 1, got {splits}")
    outputs = as_features(logits_or_probs, "logits_or_probs", min_samples=splits)
    log_probs = _log_probabilities(outputs, from_logits)
    scores = [_split_score(part) for part in torch.tensor_split(log_probs, splits)]
    values = np.asarray(scores)
    return float(values.mean()), float(values.std())


def _log_probabilities(outputs: Tensor, from_logits: bool) -> Tensor:
    """log p(y|x) per row: log-softmax of logits, or the log of checked probabilities."""
    if from_logits:
        return torch.log_softmax(outputs, dim=1)
    if bool((outputs < 0).any()):
        raise ValueError("probabilities must be non-negative; pass from_logits=True for logits")
    worst = float((outputs.sum(dim=1) - 1).abs().max())
    if worst > PROBABILITY_TOLERANCE:
        raise ValueError(
            f"each row of probabilities must sum to 1, but one is off by {worst:.3g}; "
            "pass from_logits=True for logits"
        )
    return outputs.log()


def _split_score(log_probs: Tensor) -> float:
    """exp of the mean over rows of KL(p(y|x) ‖ p(y)), with p(y) the mean of the rows."""
    log_marginal = torch.logsumexp(log_probs, dim=0) - math.log(len(log_probs))
    probs = log_probs.exp()
    terms = torch.where(probs > 0, probs * (log_probs - log_marginal), 0.0)
    return math.exp(float(terms.sum(dim=1).mean()))
