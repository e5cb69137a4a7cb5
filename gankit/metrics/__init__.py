"""Metrics of generated samples."""

from gankit.metrics.modes import (
    PROTOCOL_SAMPLES,
    PROTOCOL_THRESHOLD,
    ModeCoverage,
    mode_coverage,
    reverse_kl_to_uniform,
)

__all__ = [
    "PROTOCOL_SAMPLES",
    "PROTOCOL_THRESHOLD",
    "ModeCoverage",
    "mode_coverage",
    "reverse_kl_to_uniform",
]
