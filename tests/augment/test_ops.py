"""The augmentation primitives in closed form: where each pixel goes, what each colour map
gives, and that gradients flow back to the images."""

import torch

from gankit.augment import ops


def _ramp(b=2, c=1, h=4, w=4):
    return torch.arange(b * c * h * w, dtype=torch.float32).reshape(b, c, h, w)


def test_translate_moves_pixels_and_fills_with_zeros_or_mirrors():
    x = _ramp(b=1, h=4, w=4)
    out = ops.translate(x, torch.tensor([1]), torch.tensor([-2]), padding="zeros")
    expected = torch.zeros_like(x)
    expected[0, 0, 1:, :2] = x[0, 0, :3, 2:]  # down 1, left 2
    assert torch.equal(out, expected)
    mirrored = ops.translate(x, torch.tensor([1]), torch.tensor([0]), padding="reflect")
    rows = torch.tensor([1, 0, 1, 2])  # row −1 mirrors row 1
    assert torch.equal(mirrored, x[:, :, rows])
    assert torch.equal(ops.translate(x, torch.tensor([0]), torch.tensor([0])), x)


def test_translate_shifts_each_image_by_its_own_amount():
    x = _ramp(b=2, h=3, w=5)
    out = ops.translate(x, torch.tensor([0, 0]), torch.tensor([1, -1]))
    assert torch.equal(out[0, :, :, 1:], x[0, :, :, :-1]) and (out[0, :, :, 0] == 0).all()
    assert torch.equal(out[1, :, :, :-1], x[1, :, :, 1:]) and (out[1, :, :, -1] == 0).all()


def test_cutout_zeroes_a_rectangle_clipped_at_the_border():
    x = torch.ones(2, 3, 8, 8)
    out = ops.cutout(x, torch.tensor([4, 0]), torch.tensor([4, 7]), (4, 4))
    holes = out == 0
    assert holes[0, :, 2:6, 2:6].all() and holes[0].sum() == 3 * 16
    assert holes[1, :, 0:2, 5:8].all() and holes[1].sum() == 3 * 6  # rows −2…1, cols 5…8


def test_flip_and_quarter_turns_follow_torch():
    x = _ramp(b=4, c=2, h=3, w=3)
    flipped = ops.flip_x(x, torch.tensor([True, False, True, False]))
    assert torch.equal(flipped[0], x[0].flip(-1)) and torch.equal(flipped[1], x[1])
    turned = ops.rotate90(x, torch.tensor([0, 1, 2, 3]))
    for i in range(4):
        assert torch.equal(turned[i], torch.rot90(x[i], i, dims=(1, 2)))


def test_colour_maps():
    x = torch.tensor([[[[0.2]], [[0.4]], [[0.9]]]])  # (1, 3, 1, 1): grey level 0.5
    assert torch.allclose(ops.add_brightness(x, torch.tensor([0.1])), x + 0.1)
    saturated = ops.scale_saturation(x, torch.tensor([2.0]))
    assert torch.allclose(saturated.flatten(), torch.tensor([-0.1, 0.3, 1.3]))
    assert torch.allclose(ops.scale_saturation(x, torch.tensor([0.0])), torch.full_like(x, 0.5))
    grey = torch.tensor([[[[0.25, -0.75]]]])  # one channel: saturation changes nothing
    assert torch.equal(ops.scale_saturation(grey, torch.tensor([3.0])), grey)
    # contrast about the image mean (−0.25) or about 0
    about_mean = ops.scale_contrast(grey, torch.tensor([2.0]), about="mean")
    assert torch.allclose(about_mean.flatten(), torch.tensor([0.75, -1.25]))
    assert torch.allclose(ops.scale_contrast(grey, torch.tensor([2.0]), about="zero"), 2 * grey)


def test_per_sample_keeps_unchosen_images_exactly():
    x, y = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    out = ops.per_sample(torch.tensor([True, False, True]), y, x)
    assert torch.equal(out[0], y[0]) and torch.equal(out[1], x[1]) and torch.equal(out[2], y[2])


def test_every_transform_passes_gradients_to_the_images():
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    shifts = torch.tensor([1, -2])
    out = (
        ops.translate(x, shifts, shifts, "reflect").sum()
        + ops.translate(x, shifts, -shifts).sum()
        + ops.cutout(x, torch.tensor([2, 3]), torch.tensor([1, 5]), (3, 3)).sum()
        + ops.rotate90(ops.flip_x(x, torch.tensor([True, False])), torch.tensor([1, 3])).sum()
        + ops.scale_contrast(ops.scale_saturation(x, torch.tensor([0.5, 2.0])), torch.tensor([1.5, 0.5])).sum()
    )  # fmt: skip
    (grad,) = torch.autograd.grad(out, x)
    assert torch.isfinite(grad).all() and (grad != 0).any(dim=(1, 2, 3)).all()


def test_pixels_rounds_half_up():
    assert ops.pixels(0.125, 8) == 1 and ops.pixels(0.125, 28) == 4 and ops.pixels(0.5, 7) == 4
