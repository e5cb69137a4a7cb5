"""A YAML config extends a preset or another file with ``base:``; ``preset:`` in a file is
refused (a run's own config.yaml excepted); a learning-rate decay that never happens warns."""

import warnings

import pytest

import gankit
from gankit.cli import main
from gankit.config import ConfigError, ConfigWarning, merge, resolve, validate, warn_inert
from tests.train.tiny import TINY_RING


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def without_preset(config):
    return {k: v for k, v in config.to_dict().items() if k != "preset"}


def one_line_error(name):
    with pytest.raises(ConfigError) as info:
        resolve(name)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- base: --------------------------------------------------------------------------------


def test_a_file_extends_a_preset_as_set_overrides_do(tmp_path):
    path = write(
        tmp_path / "mine.yaml",
        "base: dcgan-digits8x8\ngenerator: {width: 16}\ntrain: {steps: 500, lr_decay: {start: 100}}\n",
    )
    config = resolve(path)
    assert config.preset == "mine"
    assert (config.generator.name, config.generator.width) == ("dcgan", 16)
    assert config.discriminator.width == 64  # the preset's, untouched
    assert (config.train.steps, config.train.batch_size) == (500, 64)
    assert config.train.lr_decay.start == 100  # a section that was off is switched on
    assert config.samples.every == 500
    overridden = resolve(
        "dcgan-digits8x8", ["generator.width=16", "train.steps=500", "train.lr_decay.start=100"]
    )
    assert without_preset(config) == without_preset(overridden)


def test_a_section_whose_name_changes_gets_that_components_defaults(tmp_path):
    path = write(tmp_path / "grid.yaml", "base: ring-2d\ndata: {name: grid}\n")
    config = resolve(path)
    assert config.data == resolve("ring-2d", ["data.name=grid"]).data
    assert config.data == validate({"data": {"name": "grid"}}).data
    assert (config.generator.width, config.generator.depth) == (128, 3)  # ring-2d's
    # the same name keeps the preset's options of that component
    same = resolve(write(tmp_path / "same.yaml", "base: ring-2d\ngenerator: {name: mlp}\n"))
    assert (same.generator.width, same.generator.depth) == (128, 3)


def test_a_base_file_is_found_relative_to_the_file_and_chains(tmp_path):
    write(tmp_path / "shared/base.yaml", "base: ring-2d\ntrain: {steps: 700, batch_size: 32}\n")
    path = write(
        tmp_path / "experiments/deep/child.yaml",
        "base: ../../shared/base.yaml\ntrain: {batch_size: 16}\n",
    )
    config = resolve(path)  # the working directory is not tmp_path
    assert (config.train.steps, config.train.batch_size) == (700, 16)
    assert config.data.name == "ring" and config.preset == "child"


def test_a_dict_extends_a_preset_too():
    config = resolve({"base": "ring-2d", "train": {"steps": 5}})
    assert (config.train.steps, config.train.batch_size, config.data.name) == (5, 256, "ring")
    assert config.preset == "ring-2d"
    assert resolve({"base": "ring-2d", "preset": "mine"}).preset == "mine"


def test_merge_follows_the_override_rules():
    base = {"task": "conditional", "train": {"ema": None, "steps": 3}, "data": {"name": "ring"}}
    over = {"task": {"embed_dim": 8}, "train": {"ema": {"decay": 0.9}}, "data": {"std": 0.1}}
    assert merge(base, over) == {
        "task": {"name": "conditional", "embed_dim": 8},
        "train": {"ema": {"decay": 0.9}, "steps": 3},
        "data": {"name": "ring", "std": 0.1},
    }
    assert merge({"data": {"name": "ring", "std": 0.1}}, {"data": {"name": "grid"}}) == {
        "data": {"name": "grid"}
    }
    assert merge({"a": {"b": [1, 2]}}, {"a": {"b": [3]}}) == {"a": {"b": [3]}}
    assert base["train"] == {"ema": None, "steps": 3}  # the inputs are left as they were


def test_a_base_cycle_is_refused_in_one_line(tmp_path):
    a = write(tmp_path / "a.yaml", "base: b.yaml\n")
    write(tmp_path / "b.yaml", "base: a.yaml\n")
    assert one_line_error(a) == (
        "config files extend each other in a cycle (a.yaml → b.yaml → a.yaml); remove one of "
        "these base: keys"
    )
    itself = write(tmp_path / "self.yaml", "base: self.yaml\n")
    assert one_line_error(itself) == (
        "config files extend each other in a cycle (self.yaml → self.yaml); remove one of "
        "these base: keys"
    )


def test_a_bad_base_is_named_with_its_file(tmp_path):
    path = write(tmp_path / "mine.yaml", "base: dcgan\n")
    assert one_line_error(path).startswith(
        f"{path}: base: unknown preset 'dcgan'; did you mean dcgan-digits8x8 or dcgan-mnist?"
    )
    write(tmp_path / "mine.yaml", "base: gone.yaml\n")
    assert one_line_error(path) == (
        f"{path}: base: config file '{tmp_path / 'gone.yaml'}' does not exist"
    )
    write(tmp_path / "mine.yaml", "base: [ring-2d]\n")
    assert one_line_error(path) == (
        f"{path}: base must name a preset or a YAML file (e.g. base: dcgan-mnist), not ['ring-2d']"
    )


# -- preset: ------------------------------------------------------------------------------


def test_preset_in_a_file_is_refused_with_a_pointer_to_base(tmp_path):
    path = write(tmp_path / "mine.yaml", "preset: dcgan-mnist\ntrain: {steps: 5}\n")
    assert one_line_error(path) == (
        f"{path}: 'preset: dcgan-mnist' does nothing in a config file (gankit writes it into a "
        "run's config.yaml as a record); to start from that preset write 'base: dcgan-mnist' "
        "instead, or delete the line"
    )
    status = main(["train", path, "--dry-run"])
    assert status == 2


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("extends") / "ring"
    gankit.train("ring-2d", {**TINY_RING, "train.steps": 10}, run_dir=path, progress=False)
    return path


def test_a_runs_own_config_still_loads_for_training_resume_info_and_sample(
    ring_run, tmp_path, capsys
):
    saved = ring_run / "config.yaml"
    assert "preset: ring-2d" in saved.read_text()
    config = resolve(str(saved))
    assert config.preset == "ring-2d"
    assert config.to_dict() == gankit.load(ring_run).config.to_dict()
    assert main(["info", str(ring_run)]) == 0
    assert "preset      ring-2d\n" in capsys.readouterr().out
    assert main(["sample", str(ring_run), "-n", "4", "-o", str(tmp_path / "s.npy")]) == 0
    resumed = gankit.resume(ring_run, {"train.steps": 15}, progress=False)
    assert resumed.step == 15
    # a copy outside its run directory is a user file again
    copy = tmp_path / "config.yaml"
    copy.write_text(saved.read_text())
    assert one_line_error(str(copy)).startswith(f"{copy}: 'preset: ring-2d' does nothing")


# -- a decay that never happens -----------------------------------------------------------


@pytest.mark.parametrize("start", [99, 100, 250])
def test_a_decay_that_starts_at_the_last_step_or_later_warns(start):
    message = (
        f"train.lr_decay.start={start} with train.steps=100: the learning rates never decay "
        f"(the decay starts after step {start} and the last step is 99); set "
        "train.lr_decay.start below 99 or train.lr_decay=null"
    )
    config = resolve("grid-2d", ["train.steps=100", f"train.lr_decay.start={start}"])
    with pytest.warns(ConfigWarning) as caught:
        warn_inert(config)
    assert [str(w.message) for w in caught] == [message]
    assert [config.train.lr_factor_at(step) for step in range(100)] == [1.0] * 100


def test_a_decay_that_reaches_the_last_step_does_not_warn():
    config = resolve("grid-2d", ["train.steps=100", "train.lr_decay.start=98"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_inert(config)
        resolve("grid-2d", ["train.steps=10"])  # resolving and loading never warn
    assert config.train.lr_factor_at(98) == 1.0
    assert config.train.lr_factor_at(99) == 0.5  # 1 − (99 − 98) / (100 − 98)


def test_one_step_has_nothing_to_decay():
    config = resolve("grid-2d", ["train.steps=1", "train.lr_decay.start=0"])
    with pytest.warns(ConfigWarning, match=r"the last step is 0\); set train.lr_decay=null$"):
        warn_inert(config)
    assert config.train.lr_factor_at(0) == 1.0  # the one step runs at the full rate


def test_training_warns_before_it_starts(tmp_path):
    overrides = {**TINY_RING, "train.steps": 3, "train.lr_decay": {"start": 2}}
    with pytest.warns(ConfigWarning, match=r"^train.lr_decay.start=2 with train.steps=3: "):
        run = gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False)
    assert run.step == 3


def test_the_cli_prints_the_warning_as_one_line(capsys):
    status = main(["train", "grid-2d", "--steps", "10", "--dry-run"])  # grid-2d decays from 2500
    out, err = capsys.readouterr()
    assert status == 0 and "lr_decay:\n    start: 2500\n" in out
    assert err.splitlines() == [
        "warning: train.lr_decay.start=2500 with train.steps=10: the learning rates never decay "
        "(the decay starts after step 2500 and the last step is 9); set train.lr_decay.start "
        "below 9 or train.lr_decay=null"
    ]
    # a config refused after resolving gets its one error line and no warning
    status = main(
        ["train", "grid-2d", "--steps", "10", "--set", "generator.name=dcgan", "--dry-run"]
    )
    lines = capsys.readouterr().err.splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: generator.name=dcgan")
