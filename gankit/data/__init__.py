"""Data sources: toy distributions with exact densities, in-memory image sets and the
paired/unpaired image sets of image-to-image translation.

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
from gankit.data.downloads import PUBLIC_DATASETS, PublicDataset, download_dataset
from gankit.data.images import (
    Digits8x8Options,
    FolderOptions,
    IdxOptions,
    Mnist5kOptions,
    resize_images,
)
from gankit.data.registry import SOURCES, build_source
from gankit.data.shapes import SHAPES, ShapesOptions, render_shapes, write_shapes
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
from gankit.data.translation import (
    AlignedOptions,
    Edges2DigitsOptions,
    Mnist2Digits8x8Options,
    PairedFoldersOptions,
    PairedImageSource,
    UnpairedFoldersOptions,
    UnpairedImageSource,
)

__all__ = [
    "PUBLIC_DATASETS",
    "SHAPES",
    "SOURCES",
    "AlignedOptions",
    "Bimodal1dOptions",
    "DataError",
    "DataSource",
    "Digits8x8Options",
    "Edges2DigitsOptions",
    "FolderOptions",
    "GaussianMixture",
    "Gmm1dOptions",
    "GridOptions",
    "IdxOptions",
    "Mnist2Digits8x8Options",
    "Mnist5kOptions",
    "MoonsOptions",
    "NoisyCurve",
    "Normal1dOptions",
    "PairedFoldersOptions",
    "PairedImageSource",
    "PublicDataset",
    "RingOptions",
    "ShapesOptions",
    "SourceOptions",
    "Spiral",
    "SpiralOptions",
    "SwissRoll",
    "SwissRollOptions",
    "TensorImageSource",
    "ToySource",
    "TwoMoons",
    "UnpairedFoldersOptions",
    "UnpairedImageSource",
    "build_source",
    "download_dataset",
    "gaussian_log_prob",
    "render_shapes",
    "resize_images",
    "write_shapes",
]
