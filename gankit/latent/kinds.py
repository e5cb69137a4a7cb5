"""What the latent-space tools need of a run: that it draws samples from z, and which of
them need images."""

from __future__ import annotations

from gankit.api import Run
from gankit.config import ConfigError


def image_shape(run: Run, needs: str) -> tuple[int, int, int]:
    """The sample shape (C, H, W) of a run that generates images from z; a translation run
    (it draws no z) and a run of points are refused in one line ending in ``needs`` (what
    needs an image run)."""
    run.latents(1)  # refuses a translation run
    kind = run.data_info.get("kind") or run.source.kind
    if kind != "images":
        raise ConfigError(f"{run.path} generates {kind}, not images: {needs}")
    channels, height, width = run.data_info["shape"]
    return channels, height, width
