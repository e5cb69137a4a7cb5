"""Property tests of the command line: whatever a user types, gankit ends with exit 0, or
exit 2 and one ``error:`` line on stderr — never a traceback.

Hypothesis draws ``--set KEY=VALUE`` overrides (real config keys and made-up ones, values
of every YAML type and the edge cases: huge integers, 1e400, inf, nan, empty sections) for
``train --dry-run``, and argument lists for ``sample``, ``translate``, ``info`` and the
parser itself. Runs are derandomised, so CI tries the same cases every time:
``OVERRIDE_CASES`` + ``ARGUMENT_CASES`` in all.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import gankit
from gankit.cli import main
from gankit.config import resolve

OVERRIDE_CASES = 300
ARGUMENT_CASES = 200
PRESETS = ["ring-2d", "bimodal-1d", "dcgan-digits8x8", "cgan-mnist", "wgan-gp", "sngan"]


def _dotted(tree: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in tree.items():
        keys.append(prefix + key)
        if isinstance(value, dict):
            keys += _dotted(value, f"{prefix}{key}.")
    return keys


CONFIG_KEYS = sorted({key for preset in PRESETS for key in _dotted(resolve(preset).to_dict())})
SWITCHED_OFF = [  # sections that are null by default, and their options
    "train.ema.decay", "train.lr_decay.start", "train.critic_warmup.d_steps",
    "regularisers.gradient_penalty.weight", "regularisers.r1.gamma",
    "regularisers.instance_noise.std", "regularisers.consistency.weight",
    "eval.metrics", "eval.every", "task.auxiliary_weight", "condition.auxiliary_weight",
]  # fmt: skip
EDGE_VALUES = [
    "", "null", "~", "[]", "{}", "[1, 2]", "{a: 1}", "1e400", "-1e400", ".inf", "-.inf",
    ".nan", "1e11", "1.0e+11", "99999999999999999999999", "-1", "0", "0.0", "true", "no",
    "adam", "sgd", "ring", "mnist5k", "dcgan", "mlp", "wasserstein", "nonexistent",
    "'quoted'", '"x"', "[", "{", ": :", "&a", "*a", "!!python/object:os.system", "é", "\x00",
]  # fmt: skip

keys = st.one_of(
    st.sampled_from(CONFIG_KEYS + SWITCHED_OFF),
    st.sampled_from(CONFIG_KEYS).map(lambda key: key + ".extra"),
    st.text(alphabet="abcdefgh._=", min_size=0, max_size=12),
)
values = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=10),
)
overrides = st.lists(st.tuples(keys, values).map(lambda kv: f"{kv[0]}={kv[1]}"), max_size=3)


def assert_clean_exit(code: int, err: str) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own exits (--help, bad arguments)
        code = exit_.code if isinstance(exit_.code, int) else 2
    return code, capsys.readouterr().err


@pytest.mark.slow
@settings(
    max_examples=OVERRIDE_CASES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(preset=st.sampled_from(PRESETS), sets=overrides)
@example(preset="ring-2d", sets=["generator.width=100000000"])
@example(preset="ring-2d", sets=["noise.dim=99999999999"])
@example(preset="dcgan-digits8x8", sets=["train.batch_size=1e11", "train.g_optimizer.lr=.inf"])
@example(preset="ring-2d", sets=["samples.count=1000000000000"])
@example(preset="ring-2d", sets=["task.name=[]"])
def test_any_override_ends_in_exit_0_or_one_error_line(preset, sets, capsys):
    argv = ["train", preset, "--dry-run", *[arg for s in sets for arg in ("--set", s)]]
    code, err = run_cli(argv, capsys)
    assert_clean_exit(code, err)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    run = gankit.train(
        "ring-2d",
        {"train.steps": 4, "log.every": 2, "samples.every": 0, "log.tensorboard": False},
        run_dir=tmp_path_factory.mktemp("fuzz") / "ring",
        progress=False,
    )
    return str(run.path)


numbers = st.one_of(
    st.integers(min_value=-5, max_value=300).map(str),
    st.sampled_from(["0", "-1", "10000000000", "99999999999999999999999", "1e3", "x", ""]),
)
outputs = st.sampled_from(
    ["s.png", "s.jpg", "s.npy", "s.txt", "s", ".", "dir/", "a.png/b.png", "s.PNG", ""]
)


@st.composite
def arguments(draw, run: str, folder: str) -> list[str]:
    command = draw(st.sampled_from(["sample", "translate", "info", "presets", "nonsense"]))
    argv = [command]
    if command in ("sample", "translate", "info"):
        argv.append(draw(st.sampled_from([run, folder, folder + "/missing", ""])))
    if command == "translate":
        argv += [draw(st.sampled_from([run, folder])), "-o", f"{folder}/{draw(outputs)}"]
    if command == "sample":
        for flag, choices in (
            ("-n", numbers),
            ("-o", outputs.map(lambda name: f"{folder}/{name}")),
            ("--seed", numbers),
            ("--label", numbers),
            ("--checkpoint", st.sampled_from([run + "/checkpoints/step_00000004", folder])),
        ):
            if draw(st.booleans()):
                argv += [flag, draw(choices)]
    if draw(st.integers(0, 9)) == 0:
        argv.append(draw(st.sampled_from(["--bogus", "-n", "extra", "--help"])))
    return argv


@pytest.mark.slow
@settings(
    max_examples=ARGUMENT_CASES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_argument_list_ends_in_exit_0_or_one_error_line(
    data, ring_run, tmp_path_factory, capsys, monkeypatch
):
    folder = str(tmp_path_factory.mktemp("out"))
    monkeypatch.chdir(folder)  # where a default output (samples.png) goes
    argv = data.draw(arguments(ring_run, folder))
    code, err = run_cli(argv, capsys)
    if "--help" in argv and code == 0:
        return
    assert_clean_exit(code, err)
