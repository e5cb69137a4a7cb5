"""Adaptive discriminator augmentation, ADA (Karras, Aittala, Hellsten, Laine, Lehtinen &
Aila 2020): each augmentation is applied to each image with probability p, and p follows
D's overfitting.

The overfitting heuristic is r_t = E[sign(D(x_real))] over the (augmented) real images of
the last ``interval`` D updates, read from the logits the step already computed. After
every ``interval`` updates

    p ← clip(p + sign(r_t − target) · N / speed_images, 0, 1)

with N the real images seen in those updates, so p can go from 0 to 1 in
``speed_images`` images (500k in the paper; scale it down for small runs). r_t near 1
means D is sure of every training image: it memorises them, and p rises; a D that cannot
tell (r_t ≈ 0) lowers p. The paper's target is 0.6.

The augmentations are a differentiable subset of the paper's pipeline, each applied to an
image with probability p on its own draw (the paper's magnitudes):

    xflip        mirror left–right (with probability ½ when chosen)
    rotate90     0, 90, 180 or 270° (uniform; square images)
    translation  whole pixels, uniform up to 1/8 of the side, mirrored at the border
    brightness   x + b, b ~ N(0, 0.2²)
    contrast     c·x about mid-grey, c = 2^N(0, 0.5²)
    saturation   m + s(x − m) about the grey level, s = 2^N(0, 1²) (colour images only)
    cutout       a hole of half the side, set to 0 (not in the paper's default "bgc")

p, the sign sums of the interval so far and the latest r_t are state of the run,
checkpointed as ``augment.*`` tensors; p is logged as ``augment_p`` and r_t as
``augment_rt``.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, field_validator
from torch import Tensor

import gankit.augment.ops as ops
from gankit.augment.registry import AUGMENTS, Augment, AugmentOptions
from gankit.errors import ConfigError

Operation = Literal[
    "xflip", "rotate90", "translation", "brightness", "contrast", "saturation", "cutout"
]
ORDER: tuple[str, ...] = (
    "xflip",
    "rotate90",
    "translation",
    "brightness",
    "contrast",
    "saturation",
    "cutout",
)
"""The order the augmentations are applied in (geometric, then colour, then cutout)."""


class ADAOptions(AugmentOptions):
    """ADA: augment each image with probability p, tuned from E[sign(D(x_real))]."""

    name: Literal["ada"] = "ada"
    target: float = Field(
        0.6, gt=0, lt=1, description="The value of r_t = E[sign(D(x_real))] p steers to (0.6)."
    )
    speed_images: int = Field(
        500_000,
        ge=1,
        description="Real images over which p can move from 0 to 1 (500k in the paper; "
        "lower it for small runs, e.g. 20k for a few thousand steps of 64).",
    )
    interval: int = Field(4, ge=1, description="D updates between adjustments of p (4).")
    initial_p: float = Field(0.0, ge=0, le=1, description="p at the first step.")
    ops: list[Operation] = Field(
        ["xflip", "rotate90", "translation", "brightness", "contrast", "saturation"],
        min_length=1,
        description="Augmentations applied with probability p each: xflip, rotate90, "
        "translation, brightness, contrast, saturation, cutout (applied in this order).",
    )

    @field_validator("ops")
    @classmethod
    def _once_each(cls, ops: list[str]) -> list[str]:
        twice = sorted({op for op in ops if ops.count(op) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} given more than once")
        return ops


@AUGMENTS.register("ada", options=ADAOptions)
class ADA(Augment):
    """ADA (Karras et al. 2020): augmentations with an adaptive probability p."""

    options: ADAOptions

    def __init__(self, options: ADAOptions, shape: tuple[int, ...], device: torch.device) -> None:
        super().__init__(options, shape, device)
        if "rotate90" in options.ops and shape[1] != shape[2]:
            raise ConfigError(
                f"augment.ops: rotate90 needs square images, these are {shape[1]}×{shape[2]}; "
                "leave rotate90 out of augment.ops"
            )
        self.operations = [op for op in ORDER if op in options.ops]
        self.p = torch.tensor(float(options.initial_p), device=self.device)
        self.r_t = torch.zeros((), device=self.device)
        """r_t of the last finished interval (0 before the first)."""
        self.sign_sum = torch.zeros((), device=self.device)
        self.sign_count = 0
        self.images = 0
        self.updates = 0

    # -- augmenting ---------------------------------------------------------------------

    def __call__(self, x: Tensor) -> Tensor:
        for op in self.operations:
            chosen = ops.draw_bernoulli(x.shape[0], self.p, x.device)
            x = ops.per_sample(chosen, getattr(self, f"_{op}")(x), x)
        return x

    def _xflip(self, x: Tensor) -> Tensor:
        return ops.flip_x(x, torch.rand(x.shape[0], device=x.device) < 0.5)

    def _rotate90(self, x: Tensor) -> Tensor:
        return ops.rotate90(x, torch.randint(0, 4, (x.shape[0],), device=x.device))

    def _translation(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        t = ops.draw_uniform(2 * b, -0.125, 0.125, x).reshape(2, b)
        shift_h = torch.round(t[0] * h).long()
        shift_w = torch.round(t[1] * w).long()
        return ops.translate(x, shift_h, shift_w, padding="reflect")

    def _brightness(self, x: Tensor) -> Tensor:
        return ops.add_brightness(x, 0.2 * torch.randn(x.shape[0], device=x.device, dtype=x.dtype))

    def _contrast(self, x: Tensor) -> Tensor:
        c = torch.exp2(0.5 * torch.randn(x.shape[0], device=x.device, dtype=x.dtype))
        return ops.scale_contrast(x, c, about="zero")

    def _saturation(self, x: Tensor) -> Tensor:
        s = torch.exp2(torch.randn(x.shape[0], device=x.device, dtype=x.dtype))
        return ops.scale_saturation(x, s)

    def _cutout(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        size = (ops.pixels(0.5, h), ops.pixels(0.5, w))
        centre_h = torch.randint(0, h, (b,), device=x.device)
        centre_w = torch.randint(0, w, (b,), device=x.device)
        return ops.cutout(x, centre_h, centre_w, size)

    # -- adapting p ---------------------------------------------------------------------

    @torch.no_grad()
    def observe(self, real_logits: Tensor, batch_size: int) -> None:
        """Add sign(D(x_real)) of one D update; adjust p after every ``interval`` updates."""
        self.sign_sum = self.sign_sum + real_logits.detach().sign().sum().to(self.sign_sum)
        self.sign_count += real_logits.numel()
        self.images += batch_size
        self.updates += 1
        if self.updates < self.options.interval:
            return
        sign_sum, count, images = self.sign_sum, self.sign_count, self.images
        if self.sum_over_ranks is not None:
            totals = self.sum_over_ranks(
                torch.stack([sign_sum.double(), *sign_sum.new_tensor([count, images]).double()])
            )
            sign_sum, count, images = totals[0].to(sign_sum), int(totals[1]), int(totals[2])
        self.r_t = sign_sum / count
        step = images / self.options.speed_images
        self.p = (self.p + torch.sign(self.r_t - self.options.target) * step).clamp(0.0, 1.0)
        self.sign_sum = torch.zeros_like(self.sign_sum)
        self.sign_count = self.images = self.updates = 0

    def stats(self) -> dict[str, Tensor]:
        return {"augment_p": self.p.detach().clone(), "augment_rt": self.r_t.detach().clone()}

    def state_dict(self) -> dict[str, Tensor]:
        return {
            "augment.p": self.p,
            "augment.r_t": self.r_t,
            "augment.sign_sum": self.sign_sum,
            "augment.pending": torch.tensor([self.sign_count, self.images, self.updates]),
        }

    def load_state_dict(self, tensors: dict[str, Tensor]) -> None:
        if "augment.p" not in tensors:  # a run that started without ADA keeps the fresh state
            return
        self.p = tensors["augment.p"].to(self.device).clone()
        self.r_t = tensors["augment.r_t"].to(self.device).clone()
        self.sign_sum = tensors["augment.sign_sum"].to(self.device).clone()
        self.sign_count, self.images, self.updates = (
            int(v) for v in tensors["augment.pending"].tolist()
        )
