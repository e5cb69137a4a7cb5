"""Pixel metrics of translation against values worked out by hand."""

import math

import pytest
import torch

from gankit.metrics.translation import diversity, l1_distance, psnr, sharpness, ssim


def test_l1_and_psnr_equal_their_closed_forms():
    target = torch.zeros(2, 1, 4, 4)
    output = torch.full((2, 1, 4, 4), 0.2)  # 0.1 apart in [0, 1] units
    assert l1_distance(output, target) == pytest.approx(0.2)
    assert psnr(output, target) == pytest.approx(10 * math.log10(1 / 0.01))  # 20 dB
    half = output.clone()
    half[1] = 0.0  # one image perfect, one 20 dB: PSNR is averaged per image
    assert psnr(half[:1], target[:1]) == pytest.approx(20.0)
    assert math.isinf(psnr(target, target))


def test_ssim_is_one_for_identical_images_and_falls_with_noise():
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(3, 1, 28, 28, generator=generator) * 2 - 1
    assert ssim(images, images) == pytest.approx(1.0)
    slightly = (images + 0.1 * torch.randn(images.shape, generator=generator)).clamp(-1, 1)
    very = (images + 0.8 * torch.randn(images.shape, generator=generator)).clamp(-1, 1)
    assert 1.0 > ssim(slightly, images) > ssim(very, images) > -1.0
    assert ssim(torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8)) == pytest.approx(1.0)


def test_sharpness_is_the_variance_of_the_laplacian():
    flat = torch.full((1, 1, 6, 6), 0.3)
    assert sharpness(flat) == 0.0
    checker = (torch.arange(6)[:, None] + torch.arange(6)[None, :]) % 2 * 2.0 - 1  # ±1
    # the Laplacian of a ±1 checkerboard is ∓8 alternating: variance 64 (unbiased, 16 values)
    expected = torch.tensor([8.0, -8.0]).repeat(8).var().item()
    assert sharpness(checker[None, None]) == pytest.approx(expected)
    blurred = torch.nn.functional.avg_pool2d(checker[None, None], 3, 1, 1)
    assert sharpness(blurred) < sharpness(checker[None, None])


def test_diversity_is_the_mean_pairwise_l1_between_draws():
    base = torch.zeros(5, 1, 4, 4)
    draws = torch.stack([base, base + 0.2, base + 0.6])
    assert diversity(draws) == pytest.approx((0.2 + 0.6 + 0.4) / 3)
    assert diversity(torch.stack([base, base])) == 0.0
    with pytest.raises(ValueError, match="k ≥ 2 draws"):
        diversity(base[None])


def test_shape_mismatches_are_refused():
    with pytest.raises(ValueError, match=r"of one shape, got \(1, 1, 4, 4\) and \(1, 3, 4, 4\)"):
        l1_distance(torch.zeros(1, 1, 4, 4), torch.zeros(1, 3, 4, 4))
