import json

import pytest

from gankit.lab.cycle_vs_not import ARMS, cycle_vs_not


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cycle-vs-not")
    return out, cycle_vs_not(out_dir=out, steps=30, progress=False)


@pytest.mark.slow
def test_short_run_writes_both_arms(short_run):
    out, result = short_run
    saved = json.loads((out / "cycle-vs-not.json").read_text())
    assert saved["arms"].keys() == ARMS.keys()
    for metrics in saved["arms"].values():
        assert {"label_accuracy_ab", "label_accuracy_ba", "cycle_a", "cycle_b"} <= metrics.keys()
    assert (out / "cycle-vs-not.png").stat().st_size > 20_000
    assert sorted(p.name for p in (out / "runs" / "cycle-vs-not").iterdir()) == [
        "cyclegan",
        "gan-alone",
    ]


@pytest.mark.slow
def test_without_the_cycle_loss_the_way_back_is_lost(short_run):
    arms = short_run[1].numbers["arms"]
    cycle, alone = arms["CycleGAN"], arms["GAN alone"]
    assert cycle["cycle_a"] < 0.75 * alone["cycle_a"]
    assert cycle["cycle_b"] < 0.75 * alone["cycle_b"]
    # translations that can be undone keep the digit: far above chance (10 %)
    assert cycle["label_accuracy_ba"] > alone["label_accuracy_ba"] + 0.2
