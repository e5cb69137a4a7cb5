import math

import numpy as np
import pytest
import torch

from gankit.data import GaussianMixture, build_source
from gankit.data.toy import GridOptions, RingOptions
from gankit.metrics import PROTOCOL_SAMPLES, PROTOCOL_THRESHOLD, class_coverage, mode_coverage

HIGH_QUALITY_SHARE = 1 - math.exp(-(PROTOCOL_THRESHOLD**2) / 2)  # P(χ²₂ ≤ 9) ≈ 0.9889


def score(source, samples):
    return mode_coverage(samples, source.modes, source.component_stds[:, 0])


def draw(source, n, seed):
    return source.sample(n, torch.Generator().manual_seed(seed))


def test_the_protocol_is_pacgans():
    assert PROTOCOL_SAMPLES == 2500
    assert PROTOCOL_THRESHOLD == 3.0


@pytest.mark.parametrize("options", [GridOptions(), RingOptions()])
def test_a_perfect_sampler_scores_the_chi_square_share_and_every_mode(options):
    source = build_source(options)
    result = score(source, draw(source, 100_000, seed=0))
    assert result.modes_captured == result.modes_total == len(source.modes)
    assert result.high_quality == pytest.approx(HIGH_QUALITY_SHARE, abs=0.002)
    assert sum(result.mode_shares) == pytest.approx(1.0)
    assert max(result.mode_shares) == pytest.approx(1 / len(source.modes), abs=0.005)
    assert 0 <= result.reverse_kl < 0.001  # ≈ (K − 1)/(2n) ≤ 24/200,000


def test_a_perfect_grid_sampler_with_the_protocols_2500_samples():
    source = build_source(GridOptions())
    result = score(source, draw(source, PROTOCOL_SAMPLES, seed=0))
    assert result.modes_captured == result.modes_total == 25
    # binomial sd of the share: √(0.011·0.989/2500) ≈ 0.0021; 3 sd
    assert result.high_quality == pytest.approx(HIGH_QUALITY_SHARE, abs=0.0065)
    # multinomial noise: 2n·KL ≈ χ²₂₄, mean 24/(2·2472) ≈ 0.0049, sd √48/(2·2472) ≈ 0.0014
    assert 0 < result.reverse_kl < 0.0049 + 5 * 0.0014


def test_the_reverse_kl_of_a_perfect_sampler_averages_k_minus_1_over_2n():
    source = build_source(GridOptions())
    results = [score(source, draw(source, PROTOCOL_SAMPLES, seed)) for seed in range(40)]
    n = PROTOCOL_SAMPLES * HIGH_QUALITY_SHARE
    expected = (25 - 1) / (2 * n)  # ≈ 0.0049; the mean of 40 has sd ≈ 0.0014/√40 ≈ 0.0002
    mean = sum(r.reverse_kl for r in results) / len(results)
    assert mean == pytest.approx(expected, abs=0.001)


def test_a_sampler_dropping_5_of_25_modes_captures_20_at_reverse_kl_log_25_over_20():
    grid = build_source(GridOptions())
    kept = GaussianMixture(torch.ones(20), grid.modes[5:], grid.component_stds[5:])
    result = score(grid, draw(kept, PROTOCOL_SAMPLES, seed=0))
    assert result.modes_captured == 20
    assert result.mode_shares[:5] == [0.0] * 5
    # log(25/20) ≈ 0.223, plus multinomial noise ≈ 19/(2·2472) ≈ 0.004
    assert result.reverse_kl == pytest.approx(math.log(25 / 20), abs=0.012)


def test_a_collapsed_sampler_captures_one_mode():
    source = build_source(RingOptions())
    samples = source.modes[3].float() + 0.01 * torch.randn(
        2500, 2, generator=torch.Generator().manual_seed(1)
    )
    result = mode_coverage(samples, source.modes, 0.01)
    assert result.modes_captured == 1
    assert result.mode_shares[3] == pytest.approx(1.0)
    assert result.reverse_kl == pytest.approx(math.log(8))


def test_one_high_quality_sample_captures_a_mode_by_default():
    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    samples = torch.tensor([[0.0, 0.0]] * 99 + [[10.0, 0.0]])
    assert mode_coverage(samples, modes, std=0.01).modes_captured == 2
    assert mode_coverage(samples, modes, std=0.01, min_count=20).modes_captured == 1


def test_far_samples_are_not_high_quality():
    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    samples = torch.tensor([[0.0, 0.02], [5.0, 0.0], [10.0, 0.0], [0.0, 0.05]])
    result = mode_coverage(samples, modes, std=0.01, min_count=1)
    assert result.high_quality == pytest.approx(0.5)
    assert result.modes_captured == 2
    assert result.reverse_kl == pytest.approx(0.0)  # one high-quality sample on each mode


def test_no_high_quality_sample_leaves_the_reverse_kl_undefined():
    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    result = mode_coverage(torch.tensor([[5.0, 0.0]]), modes, std=0.01)
    assert result.high_quality == 0.0
    assert result.modes_captured == 0
    assert math.isnan(result.reverse_kl)


def test_class_coverage_of_evenly_spread_labels():
    result = class_coverage([0, 1, 2, 3, 0, 1, 2, 3], num_classes=4)
    assert result.classes_covered == result.classes_total == 4
    assert result.largest_share == 0.25
    assert result.class_shares == [0.25] * 4
    assert result.reverse_kl == pytest.approx(0.0)


def test_class_coverage_of_a_lopsided_histogram():
    # counts 6, 2, 0, 0, 2 over 5 classes: q = (0.6, 0.2, 0, 0, 0.2)
    labels = torch.tensor([0, 0, 0, 1, 4, 0, 1, 0, 4, 0])
    result = class_coverage(labels, num_classes=5)
    assert result.classes_covered == 3
    assert result.largest_share == pytest.approx(0.6)
    assert result.class_shares == pytest.approx([0.6, 0.2, 0.0, 0.0, 0.2])
    expected = 0.6 * math.log(0.6 * 5) + 2 * 0.2 * math.log(0.2 * 5)  # = 0.6 log 3
    assert result.reverse_kl == pytest.approx(expected)
    assert class_coverage(labels, num_classes=5, min_count=3).classes_covered == 1


def test_class_coverage_of_collapsed_labels_is_log_k():
    result = class_coverage(np.full(100, 7), num_classes=10)
    assert result.classes_covered == 1
    assert result.largest_share == 1.0
    assert result.reverse_kl == pytest.approx(math.log(10))


@pytest.mark.parametrize(
    ("labels", "num_classes", "message"),
    [
        ([[0, 1]], 2, r"labels must be a vector of shape \(n,\), got shape \(1, 2\)"),
        ([], 2, "labels must hold at least one label, got none"),
        ([0.0, 1.0], 2, "labels must be integers, got dtype torch.float64"),
        ([0, 2], 2, r"labels must lie in \[0, 1\] for num_classes=2, got values from 0 to 2"),
        ([-1, 0], 2, r"labels must lie in \[0, 1\] for num_classes=2, got values from -1 to 0"),
        ([0], 0, "num_classes must be at least 1, got 0"),
    ],
)
def test_class_coverage_refuses_bad_labels(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        class_coverage(labels, num_classes)
