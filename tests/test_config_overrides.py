"""Overrides and config files that users get wrong: every one gives one ConfigError line
naming the key, never a traceback; overriding one option keeps the rest of the section."""

import math
import typing

import pytest
import torch
from pydantic import BaseModel, ValidationError

from gankit.cli import main
from gankit.config import (
    MAX_INT,
    Config,
    ConfigError,
    CriticWarmupOptions,
    EMAOptions,
    EvalOptions,
    LRDecayOptions,
    apply_overrides,
    load_preset,
    parse_override,
    resolve,
)
from gankit.data import SOURCES
from gankit.data.images import Mnist5kOptions
from gankit.nets import DISCRIMINATORS, GENERATORS
from gankit.nets.dcgan import DCGANDiscriminatorOptions, DCGANGeneratorOptions
from gankit.nets.minibatch import MinibatchOptions
from gankit.objectives import OBJECTIVES, NonSaturatingOptions
from gankit.objectives import regularisers as reg
from gankit.optim import OPTIMIZERS, AdamOptions, RMSpropOptions
from gankit.seeding import derive_seed
from gankit.tasks.conditional import ConditionalOptions
from gankit.tasks.paired import PairedOptions
from gankit.tasks.unconditional import UnconditionalOptions
from gankit.train import memory
from gankit.train.build import data_info
from gankit.train.memory import check_memory
from gankit.train.trainer import Trainer


def one_line_error(preset, overrides) -> str:
    with pytest.raises(ConfigError) as info:
        resolve(preset, overrides)
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    return message


# -- 1. an option of a section keeps the section's component and its other defaults -------

NO_SECTIONS = {"preset": "bare"}  # a preset that leaves every section at its default

DEFAULT_SECTIONS = [
    # registry-backed sections: the default component, one option changed
    ("data.split=train", lambda c: c.data, Mnist5kOptions(split="train")),
    ("generator.width=16", lambda c: c.generator, DCGANGeneratorOptions(width=16)),
    (
        "discriminator.dropout=0.25",
        lambda c: c.discriminator,
        DCGANDiscriminatorOptions(dropout=0.25),
    ),
    (
        "objective.label_smoothing=0.1",
        lambda c: c.objective,
        NonSaturatingOptions(label_smoothing=0.1),
    ),
    ("train.g_optimizer.lr=0.001", lambda c: c.train.g_optimizer, AdamOptions(lr=0.001)),
    ("train.d_optimizer.eps=1e-6", lambda c: c.train.d_optimizer, AdamOptions(eps=1e-6)),
    # plain sections
    ("task.name=unconditional", lambda c: c.task, UnconditionalOptions()),
    ("noise.dim=8", lambda c: c.noise.model_dump(), {"dim": 8, "distribution": "normal"}),
    ("log.every=7", lambda c: c.log.model_dump(), {"every": 7, "tensorboard": True, "diagnosis": True, "mlflow": None, "wandb": None}),
    ("samples.count=16", lambda c: c.samples.model_dump(), {"every": 500, "count": 16}),
    ("checkpoint.keep=1", lambda c: c.checkpoint.model_dump(), {"every": 500, "keep": 1}),
]

OFF_SECTIONS = [
    ("train.ema.decay=0.99", lambda c: c.train.ema, EMAOptions(decay=0.99)),
    ("train.lr_decay.start=3", lambda c: c.train.lr_decay, LRDecayOptions(start=3)),
    ("train.critic_warmup.first=5", lambda c: c.train.critic_warmup, CriticWarmupOptions(first=5)),
    ("eval.every=100", lambda c: c.eval, EvalOptions(every=100)),
    (
        "discriminator.minibatch_discrimination.kernels=3",
        lambda c: c.discriminator.minibatch_discrimination,
        MinibatchOptions(kernels=3),
    ),
]

REGULARISERS = {
    "gradient_penalty": ("weight=5", reg.GradientPenaltyOptions(weight=5)),
    "r1": ("gamma=1", reg.GradientNormOptions(gamma=1)),
    "r2": ("gamma=2", reg.GradientNormOptions(gamma=2)),
    "lecam": ("weight=0.1", reg.LeCamOptions(weight=0.1)),
    "consistency": ("margin=0.5", reg.ConsistencyOptions(margin=0.5)),
    "weight_clip": ("clip=0.05", reg.WeightClipOptions(clip=0.05)),
    "feature_matching": ("weight=2", reg.FeatureMatchingOptions(weight=2)),
    "historical_averaging": ("weight=0.01", reg.HistoricalAveragingOptions(weight=0.01)),
    "instance_noise": ("std=0.2", reg.InstanceNoiseOptions(std=0.2)),
}


@pytest.mark.parametrize(("override", "section", "expected"), DEFAULT_SECTIONS + OFF_SECTIONS)
def test_one_option_keeps_the_default_component_and_its_other_defaults(override, section, expected):
    assert section(resolve(NO_SECTIONS, [override])) == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["task.name=conditional", "task.embed_dim=8"], ConditionalOptions(embed_dim=8)),
        (["task=conditional", "condition.embed_dim=8"], ConditionalOptions(embed_dim=8)),
        (
            ["task=paired", "translation.l1_weight=10", "generator.name=unet", "discriminator.name=patchgan"],
            PairedOptions(l1_weight=10),
        ),
    ],
)
def test_a_task_option_keeps_the_task_and_format_1_sections_move_into_it(overrides, expected):
    assert resolve(NO_SECTIONS, overrides).task == expected


@pytest.mark.parametrize("name", sorted(REGULARISERS))
def test_one_option_of_a_regulariser_switches_it_on_with_its_defaults(name):
    option, expected = REGULARISERS[name]
    config = resolve(NO_SECTIONS, [f"regularisers.{name}.{option}"])
    assert getattr(config.regularisers, name) == expected
    others = [k for k, v in config.regularisers.model_dump().items() if v is not None]
    assert others == [name]


def test_every_regulariser_and_registry_section_is_covered():
    assert set(REGULARISERS) == set(reg.RegularisersOptions.model_fields)
    covered = {override.split("=")[0].rsplit(".", 1)[0] for override, _, _ in DEFAULT_SECTIONS}
    assert {"data", "generator", "discriminator", "objective"} <= covered
    assert {"train.g_optimizer", "train.d_optimizer"} <= covered


def test_an_override_on_a_preset_without_optimisers_tunes_its_default_adam():
    # dcgan-digits8x8 names no optimiser: the default Adam with lr 0.001 and its other defaults
    config = resolve("dcgan-digits8x8", ["train.g_optimizer.lr=0.001"])
    assert config.train.g_optimizer == AdamOptions(lr=0.001)
    assert config.train.g_optimizer.betas == (0.5, 0.999) and config.train.g_optimizer.eps == 1e-8
    assert config.train.d_optimizer == AdamOptions()
    assert config.train.steps == 2000  # the preset's own values stay
    assert config.generator == DCGANGeneratorOptions(width=64)


def test_an_option_keeps_the_component_the_preset_names():
    config = resolve("wgan", ["train.g_optimizer.lr=0.001", "generator.width=8"])
    assert config.train.g_optimizer == RMSpropOptions(lr=0.001)
    assert config.train.d_optimizer == RMSpropOptions(lr=5e-5)
    assert config.generator == DCGANGeneratorOptions(width=8)


def test_a_yaml_section_without_a_name_is_the_default_component(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("train: {g_optimizer: {lr: 1e-3}}\ndata: {size: 14}\n")
    config = resolve(str(path))
    assert config.train.g_optimizer == AdamOptions(lr=0.001)
    assert config.data == Mnist5kOptions(size=14)


def test_cli_dry_run_with_the_reported_override(capsys):
    assert main(["train", "--dry-run", "--set", "train.g_optimizer.lr=0.001"]) == 0
    out = capsys.readouterr().out
    block = out.split("g_optimizer:\n", 1)[1].split("d_optimizer:", 1)[0]
    assert "name: adam" in block and "lr: 0.001" in block and "eps: 1.0e-08" in block


# -- 2. non-finite numbers ------------------------------------------------------------------


def _float_slots(annotation):
    """Values of ``annotation``'s type with one float slot filled by a marker, or []."""
    if annotation is float:
        return ["X"]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is tuple and args and args[-1] is not Ellipsis:
        return [
            [*(0.5 for _ in args[:i]), "X", *(0.5 for _ in args[i + 1 :])]
            for i, arg in enumerate(args)
            if arg is float
        ]
    if origin in (list, tuple):
        return [["X"]] if float in args else []
    if args:  # unions, Optional, Annotated
        return [slot for arg in args for slot in _float_slots(arg)]
    return []


def _models():
    """Every options model a config reaches: Config's sections and every registered
    component's options, with the models nested in them."""
    seen, todo = [], [Config]
    for registry in (SOURCES, GENERATORS, DISCRIMINATORS, OBJECTIVES, OPTIMIZERS):
        todo += [entry.options for entry in registry if entry.options is not None]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            stack = [field.annotation]
            while stack:
                a = stack.pop()
                if isinstance(a, type) and issubclass(a, BaseModel):
                    todo.append(a)
                stack += typing.get_args(a)
    return seen


def _swap(slot, bad):
    if slot == "X":
        return bad
    return [bad if v == "X" else v for v in slot]


def test_every_float_field_of_every_options_model_refuses_inf_and_nan():
    checked = 0
    for model in _models():
        assert model.model_config.get("allow_inf_nan") is False, model
        for name, field in model.model_fields.items():
            for slot in _float_slots(field.annotation):
                for bad in (math.inf, -math.inf, math.nan, "1e400", "-inf", "nan"):
                    with pytest.raises(ValidationError) as info:
                        model.model_validate({name: _swap(slot, bad)})
                    kinds = {e["type"] for e in info.value.errors() if e["loc"][0] == name}
                    assert kinds == {"finite_number"}, (model, name, bad, info.value.errors())
                checked += 1
    assert checked > 40  # lr, eps, betas, weights, std, radius, dropout, …


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["train.g_optimizer.lr=.inf"], "train.g_optimizer.lr"),
        (["train.g_optimizer.lr=-.inf"], "train.g_optimizer.lr"),
        (["train.g_optimizer.lr=.nan"], "train.g_optimizer.lr"),
        (["train.g_optimizer.lr=1e400"], "train.g_optimizer.lr"),
        (["train.g_optimizer.lr='1e400'"], "train.g_optimizer.lr"),
        (["train.g_optimizer.betas=[.inf, 0.9]"], "train.g_optimizer.betas.0"),
        (["regularisers.gradient_penalty.weight=.inf"], "regularisers.gradient_penalty.weight"),
        (["objective.name=least_squares", "objective.a=-1e400"], "objective.a"),
        (["data.name=ring", "data.radius=.nan"], "data.radius"),
        (["task=conditional", "task.auxiliary_weight=inf"], "task.auxiliary_weight"),
        (["train.batch_size=1e400"], "train.batch_size"),
    ],
)
def test_non_finite_overrides_fail_with_one_line_naming_the_key(overrides, key):
    message = one_line_error("dcgan-mnist", overrides)
    assert message.startswith(f"{key}: must be a finite number, not ")
    assert "(inf and nan are refused)" in message


def test_non_finite_number_in_a_yaml_file(tmp_path):
    path = tmp_path / "inf.yaml"
    path.write_text("train:\n  g_optimizer: {lr: .inf}\n")
    assert one_line_error(str(path), []) == (
        "train.g_optimizer.lr: must be a finite number, not inf (inf and nan are refused)"
    )


# -- 3. integers beyond 64 bits ---------------------------------------------------------------


def test_a_seed_beyond_64_bits_is_refused_and_the_largest_one_works():
    message = one_line_error("ring-2d", ["seed=99999999999999999999999"])
    assert message == (
        "seed: Input should be less than or equal to 9223372036854775807 "
        "(got 99999999999999999999999)"
    )
    assert resolve("ring-2d", [f"seed={MAX_INT}"]).seed == MAX_INT
    # what the seed feeds accepts the largest one
    torch.Generator().manual_seed(MAX_INT)
    assert 0 <= derive_seed(MAX_INT, "data") < 2**63


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "train.steps=100000000000000000000000",
            "train.steps: 100000000000000000000000 does not fit in 64 bits; use at most 9,223,372,036,854,775,807 (2**63 − 1)",
        ),
        (
            "train.steps=1e30",
            "train.steps: 1e+30 is too large; use at most 9,223,372,036,854,775,807 (2**63 − 1)",
        ),
        (
            "noise.dim=" + "9" * 40,
            "noise.dim: 9999999999999999999999999999999999999999 does not fit in 64 bits",
        ),
        ("train.steps=" + "9" * 5000, "override 'train.steps=9999"),
    ],
)
def test_huge_integers_are_refused(override, message):
    assert one_line_error("ring-2d", [override]).startswith(message)


# -- 4. config files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"data:\n  name: mnist5k\n# caf\xe9\n",
            "is not UTF-8 text (byte 0xe9 at offset 27); save it as UTF-8 YAML",
        ),
        (b"\x00\x01\x02binary\xff\xfe", "is not UTF-8 text (byte 0xff at offset 9)"),
        (b"train: {steps: 5}\x00\n", "not valid YAML: unacceptable character #x0000"),
        (b"1: 2\n", "key 1 is not a name; config keys are names such as steps"),
        (b"train: {null: 3}\n", "key None in 'train' is not a name"),
        (b"[1, 2]: 3\n", "not valid YAML at line 1, column 1: found unhashable key"),
        (b"- 1\n- 2\n", "expected a mapping of config keys at the top level (got list)"),
        (b"just a string\n", "expected a mapping of config keys at the top level (got str)"),
        (b"a: " + b"[" * 3000 + b"]" * 3000 + b"\n", "not valid YAML: nested too deeply"),
        (b"a: " + b"{b: " * 40 + b"1" + b"}" * 40 + b"\n", "is nested more than 32 levels deep"),
        (b"a: &a [*a]\n", "is nested more than 32 levels deep"),
        (
            b"train: {steps: 5}\ntrain: {steps: 6}\n",
            "not valid YAML at line 2, column 1: key 'train' is given twice in one mapping",
        ),
        (
            b"train:\n  steps: 5\n\tbad: 1\n",
            "not valid YAML at line 3, column 1: found character '\\t'",
        ),
        (b"data: [1, 2\n", "not valid YAML at line 2, column 1"),
    ],
)
def test_bad_yaml_files_give_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "my.yaml"
    path.write_bytes(content)
    error = one_line_error(str(path), [])
    assert str(path) in error and message in error


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        previous, current = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{current}: &{current} [" + ",".join(["*" + previous] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert "more than 100,000 values" in one_line_error(str(path), [])


def test_empty_file_bom_and_directory(tmp_path):
    (tmp_path / "empty.yaml").write_bytes(b"")
    assert resolve(str(tmp_path / "empty.yaml")).train.steps == 2000
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbftrain: {steps: 5}\n")
    assert resolve(str(tmp_path / "bom.yaml")).train.steps == 5
    (tmp_path / "dir.yaml").mkdir()
    assert one_line_error(str(tmp_path / "dir.yaml"), []) == (
        f"config file '{tmp_path / 'dir.yaml'}' is not a file"
    )


def test_cli_names_the_non_utf8_file(tmp_path, capsys):
    path = tmp_path / "latin.yaml"
    path.write_bytes("seed: 1 # é\n".encode("latin-1"))
    assert main(["train", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"error: config file '{path}' is not UTF-8 text (byte 0xe9 at offset 10); save it as UTF-8 YAML\n"
    )


# -- 5. memory --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["1e11", "1E11", "1e+11", "1.0e+11", "100000000000", "1_000e8"]
)
def test_every_spelling_of_a_huge_batch_is_the_number(spelling):
    assert parse_override(f"train.batch_size={spelling}") == ("train.batch_size", 10**11)
    assert resolve("ring-2d", [f"train.batch_size={spelling}"]).train.batch_size == 10**11


def test_yaml_1_2_floats_are_numbers():
    assert parse_override("train.g_optimizer.lr=1e-3") == ("train.g_optimizer.lr", 0.001)
    assert parse_override("x=-2E5") == ("x", -200000.0)
    assert parse_override("x=1e400") == ("x", math.inf)
    assert parse_override("x=cuda:1") == ("x", "cuda:1")
    assert parse_override("x=e5") == ("x", "e5")


def _ring(overrides=()):
    config = resolve("ring-2d", ["device=cpu", *overrides])
    from gankit.data import build_source

    return config, data_info(config, build_source(config.data))


def test_a_batch_that_cannot_fit_is_refused_with_the_estimate(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device=None: 2 * memory.GiB)
    config, data = _ring(["train.batch_size=1e11"])
    with pytest.raises(ConfigError) as info:
        check_memory(config, data, "cpu")
    message = str(info.value)
    per_sample = memory.step_bytes_per_sample(config, data)
    assert per_sample == (2 * 2 + 2) * (1 + memory.ACTIVATIONS) * 4  # real, fake, z of ring-2d
    networks = memory.network_bytes(config, data)
    fit = (2 * memory.GiB - networks) // per_sample
    assert message == (
        f"train.batch_size=100000000000 needs about {10**11 * per_sample / memory.GiB:,.0f} GiB "
        "for one training step (real and fake batches and their activations, estimated) but "
        f"2.00 GiB are available besides the networks: use train.batch_size={fit} or less"
    )
    check_memory(_ring(["train.batch_size=256"])[0], data, "cpu")  # the preset's batch fits


def test_huge_sample_grids_evaluations_and_networks_are_refused(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device=None: 1 * memory.GiB)
    config, data = _ring(["samples.count=1e11"])
    with pytest.raises(
        ConfigError,
        match=r"^samples.count=100000000000 needs about [\d,]+ GiB \(the fixed z, the samples and the grid, estimated\) but 1.00 GiB are available besides the networks: use samples.count=\d+ or less$",
    ):
        check_memory(config, data)
    config, data = _ring(["noise.dim=1000000000"])
    with pytest.raises(
        ConfigError,
        match=r"^the networks need about [\d,]+ GiB .* but 1.00 GiB are available: lower generator.width",
    ):
        check_memory(config, data)
    config = resolve("dcgan-mnist", ["eval.samples=1e10", "device=cpu"])
    data = {"kind": "images", "shape": [1, 28, 28], "classes": 0, "input_shape": None}
    with pytest.raises(
        ConfigError,
        match=r"^eval.samples=10000000000 needs about [\d,]+ GiB \(z, the samples and their features",
    ):
        check_memory(config, data)


def test_counting_the_networks_allocates_nothing_and_draws_no_random_numbers():
    config, data = _ring()
    torch.manual_seed(3)
    state = torch.random.get_rng_state()
    counted = memory.network_bytes(config, data)
    assert torch.equal(state, torch.random.get_rng_state())
    from gankit.train.build import build_networks

    values = sum(p.numel() for m in build_networks(config, data).values() for p in m.parameters())
    assert counted == values * memory.OPTIMIZER_COPIES * 4


def test_available_memory_is_read_from_this_machine():
    available = memory.available_bytes("cpu")
    assert available is not None and 0 < available < 2**50


def test_trainer_refuses_a_huge_batch_before_allocating_it(tmp_path):
    config = resolve("ring-2d", ["train.batch_size=1e11", "device=cpu", "log.tensorboard=false"])
    with pytest.raises(ConfigError, match=r"^train.batch_size=100000000000 needs about "):
        Trainer.start(config, tmp_path / "runs", progress=False)
    assert list((tmp_path / "runs").glob("*")) == []


# -- 6. did you mean ---------------------------------------------------------------------------


def test_a_misspelled_preset_suggests_the_closest():
    with pytest.raises(ConfigError) as info:
        load_preset("dcgan-mnsit")
    assert str(info.value) == (
        "unknown preset 'dcgan-mnsit'; did you mean dcgan-mnist? (gankit presets lists them all)"
    )


@pytest.mark.parametrize(
    ("override", "ending"),
    [
        ("objective.name=wassertein", "; did you mean wasserstein?"),
        ("train.g_optimizer.name=adma", "; choose one of: adam, rmsprop, sgd; did you mean adam?"),
        ("data.name=mnist", "; did you mean mnist5k?"),
        ("train.stepz=5", "; did you mean train.steps?"),
        ("tran.steps=5", "; did you mean train?"),
        ("noise.distribution=normall", "(got 'normall'); did you mean normal?"),
    ],
)
def test_typos_suggest_the_closest_names(override, ending):
    assert one_line_error("dcgan-mnist", [override]).endswith(ending)


# -- 7. any override: one line, never a traceback ----------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("=1", "override '=1' is not of the form key=value (e.g. train.steps=500)"),
        ("train.steps", "override 'train.steps' is not of the form key=value"),
        ("a..b=1", "override key 'a..b' has an empty part; write dotted names such as train.steps"),
        (".a=1", "override key '.a' has an empty part"),
        ("train.=1", "override key 'train.' has an empty part"),
        ("a.b.c.d.e=1", "unknown config key 'a'; valid keys here: preset, seed"),
        (".".join(["a"] * 200) + "=1", "has 200 parts; a config is at most 32 levels deep"),
        ("train=5", "train is a section, not 5; set its keys, e.g. train.steps=…"),
        ("train=[1]", "train is a section, not [1]; set its keys, e.g. train.steps=…"),
        ("train=null", "train is a section, not None; set its keys"),
        ("data=null", "data is a section, not None; set its keys, e.g. data.name=…"),
        ("data=[1]", "data is a section, not [1]; set its keys, e.g. data.name=…"),
        (
            "train.g_optimizer=adam",
            "train.g_optimizer is a section, not 'adam'; set its keys, e.g. train.g_optimizer.name=…",
        ),
        (
            "regularisers.r1=[1]",
            "regularisers.r1 is a section, not [1]; set its keys, e.g. regularisers.r1.gamma=…",
        ),
        ("train.steps=[1,2]", "train.steps: Input should be a valid integer (got [1, 2])"),
        (
            "train.steps=true",
            "train.steps: expects a number, not true (true/false are for switches)",
        ),
        (
            "train.g_optimizer.betas=[true, 0.9]",
            "train.g_optimizer.betas[0]: expects a number, not true",
        ),
        (
            "train.steps=2020-01-01",
            "train.steps: Input should be a valid integer (got datetime.date(2020, 1, 1))",
        ),
        ("train.steps={a: 1}", "train.steps: Input should be a valid integer"),
        ("data.name=", "data.name is not set; choose one of: aligned, bimodal1d"),
        ("data.name=folder", "data.path: required by data.name=folder; set it, e.g. data.path=…"),
        ("ü=1", "unknown config key 'ü'; valid keys here: preset"),
        ("train.ste\nps=1", "unknown config key 'train.ste\\nps'; valid keys here: steps"),
        ("data={1: 2}", "override 'data': key 1 is not a name"),
        ("train={null: 2}", "override 'train': key None is not a name"),
        ("train.steps=&a [*a]", "override 'train.steps': '[0][0]"),
        ("train.steps=" + "[" * 40 + "]" * 40, "override 'train.steps': '[0][0]"),
        ("train.steps=" + "[" * 3000 + "]" * 3000, "cannot parse the value '[[[["),
        (
            "train.steps=[1, 2",
            "override 'train.steps=[1, 2': cannot parse the value '[1, 2' at line 1, column 6: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "train.steps=!!python/object/apply:os.system [ls]",
            "could not determine a constructor for the tag",
        ),
        ("train={steps: 1, steps: 2}", "key 'steps' is given twice in one mapping"),
        (
            "train.steps.x=1",
            "override 'train.steps.x': 'train.steps' is a value, not a section (it is 4000)",
        ),
        ("eval.metrics.x=1", "eval.metrics: Input should be a valid list"),
        ("train.critic_warmup=[1]", "train.critic_warmup is a section, not [1]"),
        ("seed=-1", "seed: Input should be greater than or equal to 0 (got -1)"),
        (
            "train.batch_size=1.5",
            "train.batch_size: Input should be a valid integer, got a number with a fractional part (got 1.5)",
        ),
    ],
)
def test_any_bad_override_gives_one_line(override, message):
    assert message in one_line_error("dcgan-mnist", [override])


def test_odd_but_valid_overrides():
    assert resolve("ring-2d", ["data={}"]).data == Mnist5kOptions()  # the default source
    assert resolve("ring-2d", [" train.steps = 7"]).train.steps == 7
    assert resolve("ring-2d", "train.steps=8").train.steps == 8  # one override as a string
    assert resolve("ring-2d", {"train.steps": 9}).train.steps == 9
    assert resolve("ring-2d", ["train.ema.decay=0.9", "train.ema=null"]).train.ema is None


def test_overrides_given_as_a_mapping_need_string_keys():
    with pytest.raises(
        ConfigError, match=r"^override key 1 is not a dotted name such as train.steps$"
    ):
        apply_overrides({}, {1: 2})
    with pytest.raises(ConfigError, match=r"^config: key 1 is not a name"):
        resolve({1: 2})
    with pytest.raises(ConfigError, match=r"^override 3 is not a string of the form key=value$"):
        resolve("ring-2d", [3])


def test_cli_prints_one_line_for_a_bad_override(capsys):
    assert main(["train", "--dry-run", "--set", "train=5"]) == 2
    assert (
        capsys.readouterr().err
        == "error: train is a section, not 5; set its keys, e.g. train.steps=…\n"
    )
