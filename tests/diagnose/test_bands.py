"""Reference bands: the smoothing and quantiles they are made of, the off_reference rule on
synthetic records, which runs are compared, the shipped files, and real ring-2d runs."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import gankit
from gankit.config import resolve
from gankit.diagnose import timeline
from gankit.diagnose.bands import (
    BANDS_DIR,
    REFERENCE_WINDOW,
    BandError,
    band_for_config,
    differing_keys,
    preset_config,
    quantile,
    reference_band,
    running_median,
    summarise,
)
from gankit.train.diagnosis import diagnose_run

SCRIPT = Path(__file__).parents[2] / "scripts" / "make_reference_bands.py"


def load_script():
    spec = importlib.util.spec_from_file_location("make_reference_bands", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quantile_interpolates_linearly_between_order_statistics():
    seeds = [4.0, 1.0, 2.0]
    # h = (3 - 1) q: 0.2 → 1 + 0.2·(2 − 1); 1 → 2; 1.8 → 2 + 0.8·(4 − 2)
    assert quantile(seeds, 0.1) == pytest.approx(1.2, abs=1e-12)
    assert quantile(seeds, 0.5) == 2.0
    assert quantile(seeds, 0.9) == pytest.approx(3.6, abs=1e-12)
    values = np.random.default_rng(0).normal(size=11).tolist()
    for q in (0.0, 0.1, 0.37, 0.5, 0.9, 1.0):
        assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)), abs=1e-12)


def test_running_median_is_centred_and_shrinks_symmetrically_at_the_ends():
    assert running_median([1, 9, 2, 8, 3, 7, 4]) == [1, 2, 3, 7, 4, 4, 4]
    assert running_median([5.0, 1.0]) == [5.0, 1.0]
    assert running_median([3, 1, 2], half=1) == [3, 2, 2]


def test_summarise_gives_the_median_and_the_10_90_band_per_step():
    band = summarise([[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    assert band["median"] == [2.0, 20.0]
    assert band["lo"] == pytest.approx([1.2, 12.0])
    assert band["hi"] == pytest.approx([3.6, 28.0])
    with pytest.raises(ValueError, match="same steps"):
        summarise([[1.0], [1.0, 2.0]])


CONFIG = {
    "preset": "toy",
    "seed": 0,
    "objective": {"name": "nonsaturating", "label_smoothing": 0.0},
    "train": {"steps": 1000, "batch_size": 64, "d_optimizer": {"name": "adam", "lr": 2e-4}},
    "log": {"every": 10},
}


def synthetic_band(steps=range(10, 310, 10)):
    n = len(steps)
    return {
        "preset": "toy",
        "seeds": [0, 1, 2],
        "steps": list(steps),
        "curves": {"d_loss": {"median": [1.3] * n, "lo": [1.25] * n, "hi": [1.35] * n}},
        "config": preset_config(CONFIG, steps[-1]),
    }


def records(values, start=10, every=10):
    return [
        {"kind": "train", "step": start + every * i, "d_loss": v} for i, v in enumerate(values)
    ]


def test_off_reference_is_silent_inside_the_widened_band():
    band = synthetic_band()
    # the margin is max(width 0.1, ½ typical width 0.05, 10 % of the median 0.13) = 0.13
    inside = [1.3, 1.47, 1.14, 1.45, 1.16] * 6
    assert timeline(records(inside), band=band) == []


def test_off_reference_fires_on_a_curve_pushed_out_of_the_band():
    band = synthetic_band()
    pushed = [1.3] * 9 + [2.0] * 21  # from step 100 on
    (verdict,) = timeline(records(pushed), band=band)
    # smoothed values leave the band from step 100; the fifth final one outside (step 140)
    # is final once two more records have come, at step 160
    assert (verdict.code, verdict.severity, verdict.step) == ("off_reference", "warning", 160)
    assert "d_loss 2 at step 140 (outside since step 100) against 1.25–1.35" in verdict.evidence
    assert "toy (seeds 0, 1, 2" in verdict.evidence
    assert "before step 100" in verdict.remedy


def test_off_reference_clears_when_the_curve_returns_and_ignores_steps_past_the_band():
    band = synthetic_band(range(10, 160, 10))  # covers steps 10–150
    back = [1.3] * 9 + [0.5] * 8 + [1.3] * 13
    changes = [(v.code, v.step) for v in timeline(records(back), band=band)]
    assert changes == [("off_reference", 160)]  # returns only after the band ends: kept
    gone = [1.3] * 9 + [0.5] * 3 + [1.3] * 18  # three records out: not sustained
    assert timeline(records(gone), band=band) == []


def test_a_run_is_compared_only_when_its_config_matches_the_presets(tmp_path):
    band = synthetic_band()
    (tmp_path / "toy.json").write_text(json.dumps(band))
    assert band_for_config(CONFIG, tmp_path) == band
    reseeded = {**CONFIG, "seed": 7, "train": {**CONFIG["train"], "steps": 50}}
    assert band_for_config(reseeded, tmp_path) == band  # seed, steps: not compared
    faster = json.loads(json.dumps(CONFIG))
    faster["train"]["d_optimizer"]["lr"] = 2e-3
    assert differing_keys(faster, band) == ["train.d_optimizer"]
    assert band_for_config(faster, tmp_path) is None
    assert band_for_config({**CONFIG, "preset": "other"}, tmp_path) is None
    assert band_for_config({**CONFIG, "preset": "../toy"}, tmp_path) is None


def test_steps_are_compared_when_the_learning_rates_decay_within_the_band():
    decaying = {**CONFIG, "train": {**CONFIG["train"], "lr_decay": {"start": 500}}}
    assert "train.steps" in preset_config(decaying, 600)
    assert "train.steps" not in preset_config(decaying, 400)
    assert "train.steps" not in preset_config(CONFIG, 600)


def test_a_band_file_round_trips_and_a_broken_one_is_refused(tmp_path):
    script = load_script()
    band = {**synthetic_band(), "quantiles": [0.1, 0.5, 0.9], "steps_trained": 300}
    (tmp_path / "toy.json").write_text(script.format_band(band))
    assert reference_band("toy", tmp_path) == band
    (tmp_path / "bad.json").write_text(json.dumps({**band, "steps": [1, 2]}))
    with pytest.raises(BandError, match="bad.json: not a reference band: curve d_loss"):
        reference_band("bad", tmp_path)
    assert reference_band("missing", tmp_path) is None


def test_the_script_thins_long_bands_keeping_both_ends():
    script = load_script()
    kept = script._thinned(1000)
    assert len(kept) == script.MAX_STEPS and kept[0] == 0 and kept[-1] == 999
    assert script._thinned(12) == list(range(12))


@pytest.mark.parametrize("path", sorted(BANDS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_band_is_valid_and_matches_its_preset(path):
    band = reference_band(path.stem)
    assert band["preset"] == path.stem and len(band["seeds"]) >= 3
    assert 0 < len(band["steps"]) <= 300 and band["steps"][-1] <= band["steps_trained"]
    for edges in band["curves"].values():
        columns = zip(edges["lo"], edges["median"], edges["hi"], strict=True)
        assert all(lo <= m <= hi for lo, m, hi in columns)
    assert {"d_loss", "g_loss"} <= set(band["curves"])
    assert band_for_config(resolve(path.stem).to_dict()) == band, "rebuild the band"


@pytest.mark.slow
def test_a_held_out_seed_of_ring_2d_stays_in_its_band_and_a_failing_config_leaves_it(tmp_path):
    band = reference_band("ring-2d")
    assert band is not None
    healthy = gankit.train("ring-2d", ["seed=3"], run_dir=tmp_path / "seed3", progress=False)
    changes, _ = diagnose_run(healthy.dir)
    assert [v.code for v in changes] == []
    # minimax with D's learning rate ten times G's: not compared with the band by the
    # rule (its objective and D's optimiser differ from the preset's), so its curves are
    # replayed against ring-2d's band explicitly
    failing = gankit.train(
        "ring-2d",
        ["seed=3", "train.steps=1000", "objective.name=minimax", "train.d_optimizer.lr=0.002"],
        run_dir=tmp_path / "failing",
        progress=False,
    )
    assert band_for_config(json.loads(json.dumps(failing.config.to_dict()))) is None
    off = [v for v in timeline(failing.dir.read_metrics(), band=band) if v.code == "off_reference"]
    assert off, "the failing run stayed inside the healthy band"
    assert off[0].step <= 100 * (REFERENCE_WINDOW + 4)
