"""The runs folder the dashboard tests read: a real tiny run and a broken hand-made one."""

from __future__ import annotations

from pathlib import Path

import gankit
from tests.train.tiny import TINY_RING

STEPS = 20
"""The steps of the real run ``a``; it logs every 5 and saves a sample grid every 10."""


def make_runs_folder(root: Path) -> Path:
    """``root`` holding ``a``, a finished tiny ring-2d run with sample grids, ``broken``,
    with a half-written metrics line, an unreadable config and no status.json, and
    ``not-a-run``, an empty folder."""
    overrides = {**TINY_RING, "train.steps": STEPS, "samples.every": 10}
    gankit.train("ring-2d", overrides, run_dir=root / "a", progress=False)
    broken = root / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_text("preset: [unclosed\n")
    (broken / "metrics.jsonl").write_text(
        '{"kind": "train", "schema": 2, "step": 5, "d_loss": 1.5, "g_loss": NaN}\n'
        '{"kind": "train", "schema": 2, "step": 10, "d_lo'
    )
    (root / "not-a-run").mkdir()
    return root
