"""Data sources: toy distributions with exact densities and in-memory image sets.

Each source is registered in ``SOURCES`` under a name, with a pydantic options model;
``build_source(options)`` turns validated options into a ``DataSource``.
"""

from gankit.data.base import (
    DataError,
    DataSource,
    SourceOptions,
    TensorImageSource,
    ToySource,
    gaussian_log_prob,
)
from gankit.data.images import (
    Digits8x8Options,
    FolderOptions,
    IdxOptions,
    Mnist5kOptions,
    resize_images,
)
from gankit.data.registry import SOURCES, build_source
from gankit.data.toy import (
    Bimodal1dOptions,
    GaussianMixture,
    Gmm1dOptions,
    GridOptions,
    MoonsOptions,
    NoisyCurve,
    Normal1dOptions,
    RingOptions,
    Spiral,
    SpiralOptions,
    SwissRoll,
    SwissRollOptions,
    TwoMoons,
)

__all__ = [
    "SOURCES",
    "Bimodal1dOptions",
    "DataError",
    "DataSource",
    "Digits8x8Options",
    "FolderOptions",
    "GaussianMixture",
    "Gmm1dOptions",
    "GridOptions",
    "IdxOptions",
    "Mnist5kOptions",
    "MoonsOptions",
    "NoisyCurve",
    "Normal1dOptions",
    "RingOptions",
    "SourceOptions",
    "Spiral",
    "SpiralOptions",
    "SwissRoll",
    "SwissRollOptions",
    "TensorImageSource",
    "ToySource",
    "TwoMoons",
    "build_source",
    "gaussian_log_prob",
    "resize_images",
]
