import pytest
import torch
import yaml

from gankit.data import build_source
from gankit.lab.ablation import _slug, _spread, arm_overrides, heldout_images, train_arms
from gankit.lab.base import LabError, fresh_run_dir


def test_arm_overrides_keep_the_loss_weights_and_fix_the_budget():
    overrides = arm_overrides({"task.l1_weight": 0.0}, steps=1000, seed=3, decay_from=0.5)
    assert overrides["task.l1_weight"] == 0.0
    assert overrides["train.steps"] == 1000 and overrides["seed"] == 3
    assert overrides["train.lr_decay"] == {"start": 500}
    assert overrides["samples.every"] == 0 and overrides["checkpoint.every"] == 0


def test_arm_names_become_folder_names():
    assert _slug("L1 + cGAN") == "l1-cgan"
    assert _slug("GAN alone") == "gan-alone"


def test_fresh_run_dir_replaces_only_a_run_of_the_same_preset(tmp_path):
    same, other = tmp_path / "same", tmp_path / "other"
    for path, preset in ((same, "cyclegan-digits"), (other, "my-own")):
        path.mkdir()
        (path / "config.yaml").write_text(yaml.safe_dump({"preset": preset}))
    assert fresh_run_dir(same, "cyclegan-digits") == same and not same.exists()
    assert fresh_run_dir(other, "cyclegan-digits") == other
    assert (other / "config.yaml").is_file()


def _pix2pix_arms(tmp_path, arms, steps):
    return train_arms(
        "probe", "pix2pix-edges2digits", arms, out_dir=tmp_path, seed=0, steps=steps,
        progress=False,
    )  # fmt: skip


def test_arms_with_the_same_weights_train_identically(tmp_path):
    arms = {"first": {}, "second": {}, "no L1": {"task.l1_weight": 0.0}}
    runs = _pix2pix_arms(tmp_path, arms, steps=3)
    assert sorted(p.name for p in (tmp_path / "runs" / "probe").iterdir()) == [
        "first",
        "no-l1",
        "second",
    ]
    first, second, no_l1 = (runs[name].generator.state_dict() for name in runs)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], no_l1[k]) for k in first)


def test_too_few_steps_are_refused(tmp_path):
    with pytest.raises(LabError, match="steps ≥ 2"):
        _pix2pix_arms(tmp_path, {"a": {}}, steps=1)


def test_heldout_images_show_every_digit(tmp_path):
    run = _pix2pix_arms(tmp_path, {"a": {}}, steps=2)["a"]
    shown = heldout_images(run, 10)
    assert shown["x"].shape == shown["y"].shape == (10, 1, 28, 28)
    assert shown["y"].min() >= -1 and shown["y"].max() <= 1
    heldout = build_source(run.config.data.model_copy(update={"split": "heldout"}))
    assert sorted(heldout.labels[_spread(len(heldout), 10)].tolist()) == list(range(10))
