"""Differentiable augmentation for training on small data sets, the ``augment:`` section.

=================  ==================================================  ===================
``augment.name``   what                                                 paper
=================  ==================================================  ===================
``diffaugment``    colour, translation, cutout on every image            Zhao et al. 2020
``ada``            each augmentation with probability p, p steered by    Karras et al. 2020
                   r_t = E[sign(D(x_real))] toward a target (0.6)
=================  ==================================================  ===================

The training step of a noise-to-sample task augments real and generated images before
every evaluation of D, in D's update and in G's (G learns through the augmentation), and
its penalties see the augmented inputs, as in StyleGAN2-ADA. Sampling, sample grids and
evaluation never augment. Images only: a config that augments points is refused.
"""

from __future__ import annotations

from gankit.augment.ada import ADA, ADAOptions
from gankit.augment.diffaugment import DiffAugment, DiffAugmentOptions
from gankit.augment.registry import AUGMENTS, Augment, AugmentOptions, build_augment

__all__ = [
    "ADA",
    "AUGMENTS",
    "ADAOptions",
    "Augment",
    "AugmentOptions",
    "DiffAugment",
    "DiffAugmentOptions",
    "build_augment",
]
