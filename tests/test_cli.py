"""The command line end to end, on tiny settings, as a user runs it (subprocesses)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gankit.config import list_presets, load_preset
from gankit.data.shapes import write_shapes
from gankit.data.toy import GaussianMixture
from gankit.metrics.divergences import exact_divergence

TINY_RING = [
    "--set",
    "generator.width=16",
    "--set",
    "discriminator.width=16",
    "--set",
    "train.batch_size=32",
    "--set",
    "samples.count=64",
    "--no-progress",
]


def gankit(*args, cwd=None, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "gankit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def test_presets_lists_each_with_a_summary():
    out = gankit("presets").stdout
    lines = out.strip().splitlines()
    assert any(line.startswith("dcgan-mnist ") and "(default)" in line for line in lines)
    names = {line.split()[0] for line in lines}
    assert {"bimodal-1d", "ring-2d", "grid-2d", "dcgan-digits8x8"} <= names


@pytest.mark.slow
def test_train_sample_info_end_to_end(tmp_path):
    run = tmp_path / "ring"
    gankit(
        "train",
        "ring-2d",
        "--steps",
        "40",
        "--set",
        "log.every=10",
        "--set",
        "checkpoint.every=20",
        "--run-dir",
        str(run),
        *TINY_RING,
    )
    for name in ("config.yaml", "metrics.jsonl", "summary.json", "samples/final.png"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step_00000020",
        "step_00000040",
    ]
    for name in ("models.safetensors", "training.safetensors", "state.json"):
        assert (run / "checkpoints/step_00000040" / name).is_file()
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [10, 20, 30, 40]
    expected = {
        "d_loss",
        "g_loss",
        "d_real",
        "d_fake",
        "d_acc",
        "d_grad_norm",
        "g_grad_norm",
        "steps_per_s",
        "divergence_estimate",
    }
    assert expected <= set(records[-1])
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 40

    info = gankit("info", str(run)).stdout
    assert "completed at step 40/40" in info and "step_00000040" in info

    gankit("sample", str(run), "-n", "16", "-o", str(tmp_path / "s.npy"))
    assert np.load(tmp_path / "s.npy").shape == (16, 2)
    gankit("sample", str(run), "-n", "16", "-o", str(tmp_path / "s.png"))
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_dry_run_prints_config_and_parameter_counts_and_trains_nothing(tmp_path):
    out = gankit("train", "--dry-run", cwd=tmp_path).stdout
    assert "preset: dcgan-mnist" in out and "name: mnist5k" in out
    assert "# data: images of shape (1, 28, 28)" in out
    assert "# generator parameters: " in out and "# discriminator parameters: " in out
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ring-2d", "--set", "train.stepz=3"],
            "error: unknown config key 'train.stepz'; valid keys here: steps",
        ),
        (
            ["ring-2d", "--set", "generator.name=dcgan"],
            "error: generator.name=dcgan needs square images (C, H, W), but the data gives points of shape (2,); use generator.name=mlp",
        ),
        (["--set", "data.size=30"], "error: image size 30 cannot be built by dcgan"),
        (["nope"], "error: unknown preset 'nope'; choose one of:"),
        (["--set", "data.name=folder", "--set", "data.path=/no/such/dir"], "error: "),
        (["--resume", "/no/such/run"], "error: run directory '/no/such/run' does not exist"),
        (["ring-2d", "--device", "cuda:7"], "error: device 'cuda:7' requested but"),
    ],
)
def test_bad_input_gives_one_clear_line_and_status_2(tmp_path, args, message):
    result = gankit(
        "train",
        *args,
        "--dry-run" if "--resume" not in args else "--no-progress",
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    if "/no/such/dir" in args:
        assert "/no/such/dir" in lines[0]


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_the_run_resumes(tmp_path):
    run = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gankit",
            "train",
            "bimodal-1d",
            "--steps",
            "1000000",
            "--set",
            "log.every=10",
            "--set",
            "checkpoint.every=0",
            "--run-dir",
            str(run),
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (run / "metrics.jsonl").is_file() or not (run / "metrics.jsonl").read_text():
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and f"gankit train --resume {run}" in stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    step = summary["step"]
    assert (run / f"checkpoints/step_{step:08d}/state.json").is_file()

    gankit("train", "--resume", str(run), "--steps", str(step + 20), "--no-progress")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == step + 20


def test_console_script_is_installed():
    bin_dir = os.path.dirname(sys.executable)
    assert os.access(os.path.join(bin_dir, "gankit"), os.X_OK)


@pytest.mark.slow
@pytest.mark.parametrize("preset", [name for name, _ in list_presets()])
def test_every_preset_trains_a_few_steps(tmp_path, preset):
    run = tmp_path / preset
    data = load_preset(preset).get("data", {})
    own_images = []
    if data.get("name") == "folder" and "path" not in data:  # the user's images: shapes
        write_shapes(tmp_path / "images", 8, size=data.get("size") or 32)
        own_images = ["--set", f"data.path={tmp_path / 'images'}"]
    gankit(
        "train",
        preset,
        *own_images,
        "--steps",
        "3",
        "--set",
        "log.every=1",
        "--set",
        "samples.count=16",
        "--set",
        "log.tensorboard=false",
        "--run-dir",
        str(run),
        "--no-progress",
    )
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in records)
    assert (run / "samples/final.png").is_file()


def normal(mean):
    return GaussianMixture([1.0], [[mean]], [1.0])


def test_estimate_between_sample_files_and_sources(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.normal(size=(3000, 1)).astype(np.float32))
    out = gankit(
        "estimate",
        str(tmp_path / "a.npy"),
        "normal1d:mean=2",
        "-d",
        "w1",
        "--steps",
        "300",
        "--samples",
        "3000",
        "--no-progress",
        "--json",
        str(tmp_path / "w1.json"),
    ).stdout
    assert "w1 ≈" in out and "held-out" in out
    record = json.loads((tmp_path / "w1.json").read_text())
    assert record["value"] == pytest.approx(2.0, rel=0.1)  # W1 of a translation by 2
    exact = gankit(
        "estimate",
        "normal1d",
        "normal1d:mean=1",
        "--steps",
        "200",
        "--samples",
        "2000",
        "--no-progress",
    ).stdout
    reference = exact_divergence(normal(0.0), normal(1.0), "js")
    assert f"exact value (quadrature): {reference:.4f}" in exact


def test_estimate_refuses_unknown_inputs(tmp_path):
    result = gankit("estimate", "nope", str(tmp_path / "b.npy"), check=False)
    assert result.returncode == 2
    assert "neither a file, a run directory nor a data source" in result.stderr


@pytest.mark.slow
def test_lab_lists_every_experiment_and_runs_one(tmp_path):
    listed = gankit("lab", "--list").stdout
    names = {line.split()[0] for line in listed.strip().splitlines()}
    assert names == {
        "optimal-d",
        "js-vs-w",
        "d-memorises",
        "saturation",
        "bilinear-game",
        "mode-collapse",
        "bend-noise",
        "wgan-curve",
        "why-generate",
        "l1-vs-gan",
        "cycle-vs-not",
    }
    out = gankit("lab", "bilinear-game", "--out", str(tmp_path), "--set", "steps=50").stdout
    assert "back at (2.0, 3.0) after 6 steps" in out
    assert (tmp_path / "bilinear-game.png").stat().st_size > 10_000
    bad = gankit("lab", "bilinear-game", "--set", "nope=1", check=False)
    assert bad.returncode == 2 and "has no option 'nope'" in bad.stderr


@pytest.mark.slow
def test_eval_writes_eval_json_and_warns_on_different_provenance(tmp_path):
    run = tmp_path / "digits"
    gankit(
        "train",
        "dcgan-digits8x8",
        "--steps",
        "10",
        "--set",
        "generator.width=16",
        "--set",
        "discriminator.width=16",
        "--set",
        "samples.every=0",
        "--run-dir",
        str(run),
        "--no-progress",
    )
    out = gankit("eval", str(run), "--metrics", "fid,classes", "--samples", "100").stdout
    assert "fid" in out and "classes_covered" in out
    first = json.loads((run / "eval.json").read_text())
    assert first["provenance"]["generated"]["count_per_seed"] == 100
    other = gankit(
        "eval",
        str(run),
        "--metrics",
        "fid",
        "--seeds",
        "2",
        "-o",
        str(tmp_path / "e2.json"),
        "--compare",
        str(run / "eval.json"),
    )
    assert "warning: computed differently" in other.stderr and "seeds" in other.stderr
    assert "±" in other.stdout
    env_without_weights = {k: v for k, v in os.environ.items() if k != "GANKIT_INCEPTION_WEIGHTS"}
    standard = subprocess.run(
        [sys.executable, "-m", "gankit", "eval", str(run), "--extractor", "inception"],
        capture_output=True,
        text=True,
        env=env_without_weights,
        timeout=300,
    )
    assert standard.returncode == 2
    assert "pt_inception-2015-12-05-6726825d.pth" in standard.stderr
    assert len(standard.stderr.strip().splitlines()) == 1
