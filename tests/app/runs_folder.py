"""The runs folder the dashboard tests read: a real tiny run and a broken hand-made one, and
a reference band the real run matches."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

import gankit
from gankit.diagnose.bands import preset_config
from tests.train.tiny import TINY_RING

STEPS = 20
"""The steps of the real run ``a``; it logs every 5 and saves a sample grid every 10."""
BAND_STEPS = list(range(2, STEPS + 1, 2))
"""The steps of the test band: others than the run's, so the page aligns the two."""


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


def make_bands_folder(root: Path, run: Path) -> Path:
    """``root`` holding ``ring-2d.json``, a reference band in the shipped format made for the
    config of ``run`` (so that the run is drawn against it), with curves of d_loss and
    d_acc: median 1.0 and 0.5, 10–90 % ranges 0.8–1.2 and 0.4–0.6."""
    config = yaml.safe_load((run / "config.yaml").read_text())
    flat = [1.0] * len(BAND_STEPS)
    band = {
        "preset": "ring-2d",
        "seeds": [0, 1, 2],
        "steps": BAND_STEPS,
        "quantiles": [0.1, 0.5, 0.9],
        "curves": {
            "d_loss": {"median": flat, "lo": [0.8] * len(flat), "hi": [1.2] * len(flat)},
            "d_acc": {
                "median": [0.5] * len(flat),
                "lo": [0.4] * len(flat),
                "hi": [0.6] * len(flat),
            },
        },
        "config": preset_config(config, STEPS),
        "command": "written by tests/app/runs_folder.py",
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "ring-2d.json").write_text(json.dumps(band))
    return root
