import pytest

from gankit.config import (
    DEFAULT_PRESET,
    Config,
    ConfigError,
    apply_overrides,
    list_presets,
    load_preset,
    resolve,
)


def own_images(preset: str) -> list[str]:
    """The override a preset for the user's own images needs: the folder (data.path)."""
    data = load_preset(preset).get("data", {})
    return ["data.path=my_images/"] if data.get("name") == "folder" and "path" not in data else []


def test_every_shipped_preset_validates_and_has_a_summary():
    presets = dict(list_presets())
    assert DEFAULT_PRESET in presets
    for name, summary in presets.items():
        config = resolve(name, own_images(name))
        assert config.preset == name
        assert len(summary) > 10, name


def test_defaults_are_the_main_job():
    config = resolve()
    assert config.data.name == "mnist5k"
    assert config.generator.name == "dcgan" and config.discriminator.name == "dcgan"
    assert config.objective.name == "nonsaturating"


def test_overrides_set_dotted_keys_with_yaml_values():
    config = resolve(
        "ring-2d", ["train.steps=123", "train.g_optimizer.lr=0.01", "log.tensorboard=false"]
    )
    assert config.train.steps == 123
    assert config.train.g_optimizer.lr == pytest.approx(0.01)
    assert config.log.tensorboard is False


def test_changing_a_choice_drops_the_options_of_the_previous_one():
    raw = {"data": {"name": "ring", "radius": 2.0}}
    assert apply_overrides(raw, ["data.name=grid"]) == {"data": {"name": "grid"}}
    assert raw == {"data": {"name": "ring", "radius": 2.0}}  # the input is not modified


def test_config_round_trips_through_its_dict():
    config = resolve("bimodal-1d", ["seed=7"])
    assert Config.model_validate(config.to_dict()) == config
    assert list(config.to_dict()["train"]["g_optimizer"])[0] == "name"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["train.stepz=5"],
            r"unknown config key 'train.stepz'; valid keys here: steps, batch_size",
        ),
        (["bogus=1"], r"unknown config key 'bogus'; valid keys here: preset, seed, device"),
        (["data.radiuss=2"], r"unknown config key 'data.radiuss'; valid keys here: .*radius"),
        (["train.steps=many"], r"train.steps: Input should be a valid integer"),
        (["train.steps=0"], r"train.steps: Input should be greater than or equal to 1"),
        (
            ["noise.distribution=cauchy"],
            r"noise.distribution: Input should be 'normal' or 'uniform'",
        ),
        (["data.name=mnist"], r"data.name: unknown choice 'mnist'; choose one of: .*mnist5k.*ring"),
        (
            ["objective.name=wgan2"],
            r"objective.name: unknown choice 'wgan2'; choose one of: fgan, hinge, least_squares, minimax, nonsaturating, relativistic, wasserstein",
        ),
        (
            ["train.g_optimizer.name=adamw"],
            r"train.g_optimizer.name: unknown choice 'adamw'; choose one of: adam, rmsprop, sgd",
        ),
        (["train.d_optimizer.lr=-1"], r"train.d_optimizer.lr: Input should be greater than 0"),
        (["train.steps"], r"override 'train.steps' is not of the form key=value"),
        (["train=3", "train.steps=2"], r"'train' is a value, not a section"),
    ],
)
def test_bad_configs_fail_with_one_line_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message) as info:
        resolve("ring-2d", overrides)
    assert "\n" not in str(info.value)


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown preset 'nope'; choose one of: .*dcgan-mnist"):
        load_preset("nope")


def test_unknown_preset_suggests_the_closest_ones():
    with pytest.raises(ConfigError) as info:
        load_preset("dcgan")
    assert str(info.value) == (
        "unknown preset 'dcgan'; did you mean dcgan-digits8x8 or dcgan-mnist? "
        "(gankit presets lists them all)"
    )
    with pytest.raises(ConfigError, match=r"^unknown preset 'wgn'; did you mean wgan\? \(gankit"):
        load_preset("wgn")


def test_yaml_file_as_config(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("data: {name: moons}\ngenerator: {name: mlp}\ndiscriminator: {name: mlp}\n")
    config = resolve(str(path))
    assert config.preset == "mine" and config.data.name == "moons"
    path.write_text("data: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        resolve(str(path))
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(str(tmp_path / "missing.yaml"))
