"""DiffAugment (Zhao, Liu, Lin, Zhu & Han 2020): the same differentiable augmentation T of
real and generated images before D, in D's update and in G's,

    D minimises  L_D(D(T(x)), D(T(G(z))))      G minimises  L_G(D(T(G(z))))

so D never sees an un-augmented image and G's gradient flows through T. The policies and
the paper's magnitudes, applied in the order given, to every image:

    color        brightness x + b, b ~ U(−0.5, 0.5); saturation m + s(x − m) about the
                 grey level, s ~ U(0, 2); contrast m + c(x − m) about the image mean,
                 c ~ U(0.5, 1.5)
    translation  a shift of up to 1/8 of the image side in each direction, whole pixels,
                 zeros (mid-grey in [−1, 1]) shifted in
    cutout       a square hole of half the image side at a random place, set to 0
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor

import gankit.augment.ops as ops
from gankit.augment.registry import AUGMENTS, Augment, AugmentOptions

Policy = Literal["color", "translation", "cutout"]


class DiffAugmentOptions(AugmentOptions):
    """DiffAugment: translation, cutout and colour on every real and fake image before D."""

    name: Literal["diffaugment"] = "diffaugment"
    policy: list[Policy] = Field(
        ["color", "translation", "cutout"],
        min_length=1,
        description="Augmentations in the order applied: color (brightness, saturation, "
        "contrast), translation, cutout (the paper's policy for small data: all three).",
    )
    translation: float = Field(
        0.125, ge=0, lt=1, description="Largest shift, as a fraction of the image side (1/8)."
    )
    cutout: float = Field(
        0.5, gt=0, le=1, description="Side of the hole, as a fraction of the image side (1/2)."
    )


@AUGMENTS.register("diffaugment", options=DiffAugmentOptions)
class DiffAugment(Augment):
    """DiffAugment (Zhao et al. 2020): colour, translation and cutout on every image."""

    options: DiffAugmentOptions

    def __call__(self, x: Tensor) -> Tensor:
        for policy in self.options.policy:
            x = getattr(self, f"_{policy}")(x)
        return x

    def _color(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        x = ops.add_brightness(x, ops.draw_uniform(b, -0.5, 0.5, x))
        x = ops.scale_saturation(x, ops.draw_uniform(b, 0.0, 2.0, x))
        return ops.scale_contrast(x, ops.draw_uniform(b, 0.5, 1.5, x), about="mean")

    def _translation(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        fraction = self.options.translation
        shift_h = ops.draw_shift(b, ops.pixels(fraction, h), x.device)
        shift_w = ops.draw_shift(b, ops.pixels(fraction, w), x.device)
        return ops.translate(x, shift_h, shift_w, padding="zeros")

    def _cutout(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        size = (ops.pixels(self.options.cutout, h), ops.pixels(self.options.cutout, w))
        # the paper's code: the hole's centre anywhere in the image (one more place for an
        # even side, so the hole may start at the last pixel too)
        centre_h = torch.randint(0, h + (1 - size[0] % 2), (b,), device=x.device)
        centre_w = torch.randint(0, w + (1 - size[1] % 2), (b,), device=x.device)
        return ops.cutout(x, centre_h, centre_w, size)
