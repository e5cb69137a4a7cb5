import math

import pytest
import torch

from gankit.data import build_source
from gankit.data.toy import GridOptions, RingOptions
from gankit.metrics import mode_coverage


@pytest.mark.parametrize("options", [GridOptions(), RingOptions()])
def test_a_perfect_sampler_scores_the_chi_square_share_and_every_mode(options):
    source = build_source(options)
    samples = source.sample(100_000, torch.Generator().manual_seed(0))
    result = mode_coverage(samples, source.modes, source.component_stds[:, 0])
    assert result.modes_captured == result.modes_total == len(source.modes)
    expected = 1 - math.exp(-4.5)  # P(χ²₂ ≤ 9) ≈ 0.9889
    assert result.high_quality == pytest.approx(expected, abs=0.002)
    assert sum(result.mode_shares) == pytest.approx(1.0)
    assert max(result.mode_shares) == pytest.approx(1 / len(source.modes), abs=0.005)


def test_a_collapsed_sampler_captures_one_mode():
    source = build_source(RingOptions())
    samples = source.modes[3].float() + 0.01 * torch.randn(
        2500, 2, generator=torch.Generator().manual_seed(1)
    )
    result = mode_coverage(samples, source.modes, 0.01)
    assert result.modes_captured == 1
    assert result.mode_shares[3] == pytest.approx(1.0)


def test_far_samples_are_not_high_quality():
    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    samples = torch.tensor([[0.0, 0.02], [5.0, 0.0], [10.0, 0.0], [0.0, 0.05]])
    result = mode_coverage(samples, modes, std=0.01, min_count=1)
    assert result.high_quality == pytest.approx(0.5)
    assert result.modes_captured == 2
