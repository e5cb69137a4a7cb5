"""MLflow and W&B trackers (gankit.train.trackers), read back with each tracker's own reader.

MLflow is read with ``MlflowClient`` on a local file store under tmp_path. W&B runs
offline, and an offline run can only be read from its files (``wandb.Api`` asks the
server): ``RUN/wandb/offline-run-*/run-<id>.wandb`` is the transaction log that ``wandb
sync`` uploads, in the LevelDB log format — a 7-byte header (``:W&B``, 0xBEE1, version
0), then 32 KiB blocks of chunks, each with a 7-byte header (CRC-32 of type and data,
length, type: 1 full, 2 first, 3 middle, 4 last) — whose records are
``wandb.proto.wandb_internal_pb2.Record`` messages: the run (id, name), config updates,
history rows (one per step, values as JSON), summary updates and the exit code.

Environment: W&B is offline with every folder it writes under tmp_path and its error
reporting off; MLflow's store is under tmp_path; neither tracker reaches a server.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import gankit
from gankit.config import ConfigError, resolve
from gankit.train.callbacks import Callback
from gankit.train.rundir import RunDir
from gankit.train.trackers import SEVERITY_LEVELS, TRACKERS_FILE

from .tiny import TINY_RING

DIGITS = {
    "generator.width": 16,
    "discriminator.width": 16,
    "train.batch_size": 32,
    "train.steps": 16,
    "log.every": 2,
    "samples.every": 8,
    "checkpoint.every": 8,
    "log.tensorboard": False,
    "device": "cpu",
    "eval.every": 8,
    "eval.samples": 100,
    "eval.metrics": ["fid", "classes"],
    # D outruns a G that hardly moves: the diagnosis names d_overpowers_g after step 12
    "train.d_optimizer.lr": 0.05,
    "train.g_optimizer.lr": 1e-7,
}
"""dcgan-digits8x8 in seconds: train records, evaluations, image grids and a verdict."""

ENVIRONMENT_SET = ("MLFLOW_DISABLE_TELEMETRY", "MLFLOW_ALLOW_FILE_STORE", "WANDB_ERROR_REPORTING")
"""What the trackers set when unset; the tests start without them and restore them."""


def isolate(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """W&B offline and silent with its folders under ``root``, no MLflow server named."""
    for name in ("DIR", "CONFIG_DIR", "CACHE_DIR", "DATA_DIR", "ARTIFACT_DIR"):
        monkeypatch.setenv(f"WANDB_{name}", str(root / f"wandb-{name.lower()}"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("MLFLOW_TRACKING_URI", *ENVIRONMENT_SET):
        monkeypatch.setenv(name, "unset")  # so that the teardown removes what a test sets
        monkeypatch.delenv(name)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    isolate(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One digits run with both trackers on, MLflow's store at ``mlruns`` beside it."""
    root = tmp_path_factory.mktemp("trackers")
    uri = (root / "mlruns").as_uri()
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, root)
        run = gankit.train(
            "dcgan-digits8x8",
            {**DIGITS, "log.mlflow": {"tracking_uri": uri, "experiment": "tests"}, "log.wandb": {}},
            run_dir=root / "run",
            progress=False,
        )
        yield run, uri, dict(os.environ)


# -- reading MLflow ---------------------------------------------------------------------------


def mlflow_run(uri: str, experiment: str):
    """The one MLflow run of ``experiment`` (the test fails on any other count)."""
    from mlflow import MlflowClient  # imported here: a second to import

    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert len(runs) == 1
    return client, runs[0]


def mlflow_history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    """``(step, value)`` of every value MLflow holds for ``key``, in step order."""
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def expected_series(records: list[dict]) -> dict[str, list[tuple[int, float]]]:
    """Every number of the train and eval records by name, as ``(step, value)`` pairs."""
    series: dict[str, list[tuple[int, float]]] = {}
    for record in records:
        for key, value in record.items():
            if key not in ("step", "schema") and isinstance(value, int | float):
                series.setdefault(key, []).append((record["step"], float(value)))
    return series


def flattened(tree: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.update(flattened(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value if isinstance(value, str) else json.dumps(value)
    return out


# -- reading W&B's offline files ----------------------------------------------------------------


def wandb_records(path: Path) -> list:
    """The records of a W&B transaction log (the format is in the module docstring)."""
    from wandb.proto.wandb_internal_pb2 import Record

    data = path.read_bytes()
    assert struct.unpack("<4sHB", data[:7]) == (b":W&B", 0xBEE1, 0)
    records, chunks, position, block = [], b"", 7, 32768
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a header is padding
            position += block - position % block
            continue
        checksum, length, kind = struct.unpack("<IHB", data[position : position + 7])
        chunk = data[position + 7 : position + 7 + length]
        if kind == 0:
            break
        assert zlib.crc32(chunk, zlib.crc32(bytes([kind]))) == checksum
        position += 7 + length
        chunks += chunk
        if kind in (1, 4):  # a full record, or the last chunk of one
            record = Record()
            record.ParseFromString(chunks)
            records.append(record)
            chunks = b""
    return records


def wandb_sessions(run_path: Path, run_id: str) -> list[list]:
    """The records of each session's offline run of ``run_id``, oldest first."""
    logs = sorted(run_path.glob(f"wandb/offline-run-*-{run_id}*/run-{run_id}.wandb"))
    return [wandb_records(log) for log in logs]


def of_type(records: list, kind: str) -> list:
    return [getattr(r, kind) for r in records if r.WhichOneof("record_type") == kind]


def history_rows(records: list) -> list[tuple[int, dict]]:
    """``(step, row)`` of every history row, values decoded, nested keys as nested dicts."""
    rows = []
    for history in of_type(records, "history"):
        row: dict = {}
        for item in history.item:
            *parents, leaf = list(item.nested_key) or [item.key]
            node = row
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = json.loads(item.value_json)
        rows.append((history.step.num, row))
    return rows


def updates(records: list, kind: str) -> dict:
    """The config or summary as the records left it (top-level keys)."""
    merged = {}
    for record in of_type(records, kind):
        for item in record.update:
            key = item.key or "/".join(item.nested_key)
            merged[key] = json.loads(item.value_json)
    return merged


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verdicts(run) -> list[dict]:
    return [r for r in RunDir(run.path).read_metrics(("event",)) if r["event"] == "diagnosis"]


# -- what a run sends ---------------------------------------------------------------------------


@pytest.mark.slow
def test_mlflow_holds_every_value_of_metrics_jsonl_at_its_step(trained):
    run, uri, _ = trained
    client, found = mlflow_run(uri, "tests")
    assert (
        found.info.run_id == json.loads((run.path / TRACKERS_FILE).read_text())["mlflow"]["run_id"]
    )
    expected = expected_series(run.metrics())
    assert {"d_loss", "steps_per_s", "eval/fid", "eval/classes_covered"} <= set(expected)
    for key, series in expected.items():
        assert mlflow_history(client, found.info.run_id, key) == series, key
    events = verdicts(run)
    assert [(e["code"], e["severity"]) for e in events] == [("d_overpowers_g", "warning")]
    step = events[0]["step"]
    assert mlflow_history(client, found.info.run_id, "diagnosis/severity") == [
        (step, SEVERITY_LEVELS["warning"])
    ]
    tag = found.data.tags["gankit.diagnosis"]
    assert tag.startswith(f"step {step}: ⚠ d_overpowers_g: D accuracy")
    sent = client.download_artifacts(
        found.info.run_id, f"diagnosis/step_{step:08d}.json", str(run.path.parent)
    )
    assert json.loads(Path(sent).read_text()) == {
        k: v for k, v in events[0].items() if k != "schema"
    }


@pytest.mark.slow
def test_mlflow_holds_the_grids_config_name_and_status(trained, tmp_path):
    run, uri, environment = trained
    client, found = mlflow_run(uri, "tests")
    run_id = found.info.run_id
    grids = sorted(p.name for p in run.path.glob("samples/step_*.png"))
    assert grids == ["step_00000008.png", "step_00000016.png"]
    assert sorted(Path(a.path).name for a in client.list_artifacts(run_id, "samples")) == grids
    for name in grids:
        copy = Path(client.download_artifacts(run_id, f"samples/{name}", str(tmp_path)))
        assert copy.read_bytes() == (run.path / "samples" / name).read_bytes()
    params = found.data.params
    assert params == flattened(run.config.to_dict())
    assert params["train.steps"] == "16" and params["data.name"] == "digits8x8"
    assert params["eval.metrics"] == '["fid", "classes"]'
    assert params["train.max_seconds"] == "null" and params["train.ema.rampup"] == "0.05"
    config = Path(client.download_artifacts(run_id, "config.yaml", str(tmp_path)))
    assert config.read_text() == (run.path / "config.yaml").read_text()
    assert found.info.run_name == run.path.name
    assert found.data.tags["gankit.run_dir"] == str(run.path.resolve())
    assert (found.info.status, found.data.tags["gankit.status"]) == ("FINISHED", "completed")
    assert {k: environment.get(k) for k in ENVIRONMENT_SET} == {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_ALLOW_FILE_STORE": "true",
        "WANDB_ERROR_REPORTING": "false",
    }


@pytest.mark.slow
def test_wandb_offline_run_holds_every_value_the_grids_and_the_config(trained):
    run, _, _ = trained
    run_id = json.loads((run.path / TRACKERS_FILE).read_text())["wandb"]["run_id"]
    (records,) = wandb_sessions(run.path, run_id)
    (started,) = of_type(records, "run")
    assert (started.run_id, started.display_name, started.project) == (
        run_id,
        run.path.name,
        "gankit",
    )
    rows = dict(history_rows(records))
    assert len(rows) == len(history_rows(records))  # one row per step
    for key, series in expected_series(run.metrics()).items():
        assert [(step, rows[step][key]) for step, _ in series] == series, key
    for step, path in ((8, "step_00000008.png"), (16, "step_00000016.png")):
        image = rows[step]["samples"]
        assert image["_type"] == "image-file"
        assert image["sha256"] == sha256(run.path / "samples" / path)
        stored = next(run.path.glob(f"wandb/offline-run-*-{run_id}/files/{image['path']}"))
        assert stored.read_bytes() == (run.path / "samples" / path).read_bytes()
    (verdict,) = verdicts(run)
    assert rows[verdict["step"]]["diagnosis/severity"] == SEVERITY_LEVELS["warning"]
    assert rows[verdict["step"]]["diagnosis/verdict"].startswith("⚠ d_overpowers_g: D accuracy")
    config = updates(records, "config")
    config.pop("_wandb", None)
    assert config == run.config.to_dict()
    assert updates(records, "summary")["status"] == "completed"
    assert [e.exit_code for e in of_type(records, "exit")] == [0]


# -- resuming -----------------------------------------------------------------------------------


class CrashAt(Callback):
    """Fails the session after ``step``'s records were sent, past its last checkpoint."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer, step: int) -> None:
        if step == self.step:
            raise RuntimeError("simulated crash")


@pytest.mark.slow
def test_a_crashed_run_resumes_the_same_tracker_runs_and_sends_no_step_twice(tmp_path, isolated):
    uri = (tmp_path / "mlruns").as_uri()
    trackers = {"log.mlflow": {"tracking_uri": uri, "experiment": "tests"}, "log.wandb": {}}
    with pytest.raises(RuntimeError, match="simulated crash"):
        gankit.train(
            "dcgan-digits8x8",
            {**DIGITS, **trackers},
            run_dir=tmp_path / "run",
            progress=False,
            callbacks=[CrashAt(12)],
        )
    run_path = tmp_path / "run"
    first = json.loads((run_path / TRACKERS_FILE).read_text())
    assert first["mlflow"]["sent"] == {"train": 12, "eval": 8, "event": -1, "samples": 8}
    client, crashed = mlflow_run(uri, "tests")
    assert (crashed.info.status, crashed.data.tags["gankit.status"]) == ("FAILED", "failed")

    run = gankit.resume(run_path, progress=False)  # from the checkpoint of step 8
    raw = RunDir(run_path).read_metrics(("train",), raw=True)
    assert [r["step"] for r in raw] == [2, 4, 6, 8, 10, 12, 10, 12, 14, 16]  # 10, 12 twice
    after = json.loads((run_path / TRACKERS_FILE).read_text())
    assert after["mlflow"]["run_id"] == first["mlflow"]["run_id"]
    assert after["wandb"]["run_id"] == first["wandb"]["run_id"]
    (verdict,) = verdicts(run)  # named after the crash at step 12
    assert after["mlflow"]["sent"] == {
        "train": 16,
        "eval": 16,
        "event": verdict["step"],
        "samples": 16,
    }

    client, found = mlflow_run(uri, "tests")  # still one run
    assert found.info.run_id == first["mlflow"]["run_id"]
    for key, series in expected_series(run.metrics()).items():
        held = mlflow_history(client, found.info.run_id, key)
        if key == "steps_per_s":  # timing: the first session's values of steps 10, 12 stay
            assert [s for s, _ in held] == [s for s, _ in series]
        else:  # the resumed run retraces steps 10 and 12 bit for bit
            assert held == series, key
    assert (found.info.status, found.data.tags["gankit.status"]) == ("FINISHED", "completed")

    sessions = wandb_sessions(run_path, first["wandb"]["run_id"])
    assert len(sessions) == 2
    steps = [[step for step, _ in history_rows(records)] for records in sessions]
    assert steps == [[2, 4, 6, 8, 10, 12], [14, 16]]
    assert [[e.exit_code for e in of_type(records, "exit")] for records in sessions] == [[1], [0]]
    assert {r.run_id for records in sessions for r in of_type(records, "run")} == {
        first["wandb"]["run_id"]
    }


def test_a_tracker_switched_on_at_a_resume_is_sent_the_run_so_far(tmp_path, isolated, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's default store: ./mlruns
    tiny = {**TINY_RING, "train.steps": 20, "samples.every": 10, "checkpoint.every": 10}
    gankit.train("ring-2d", tiny, run_dir=tmp_path / "run", progress=False, until_step=10)
    assert not (tmp_path / "mlruns").exists()
    run = gankit.resume(tmp_path / "run", {"log.mlflow": {}}, progress=False)
    saved = json.loads((run.path / TRACKERS_FILE).read_text())["mlflow"]
    assert saved["tracking_uri"] == (tmp_path / "mlruns").resolve().as_uri()
    client, found = mlflow_run(saved["tracking_uri"], "gankit")
    expected = expected_series(run.metrics())
    assert [s for s, _ in expected["d_loss"]] == [5, 10, 15, 20]
    for key, series in expected.items():
        assert mlflow_history(client, found.info.run_id, key) == series, key
    grids = sorted(Path(a.path).name for a in client.list_artifacts(found.info.run_id, "samples"))
    assert grids == ["step_00000010.png", "step_00000020.png"]


# -- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize("tracker", ["mlflow", "wandb"])
def test_a_tracker_without_its_package_is_refused_naming_the_extra(tracker, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, tracker, None)  # as if not installed
    with pytest.raises(ConfigError) as refused:
        gankit.train(
            "ring-2d", {**TINY_RING, f"log.{tracker}": {}}, run_dir=tmp_path / "r", progress=False
        )
    product = {"mlflow": "MLflow", "wandb": "W&B"}[tracker]
    assert str(refused.value) == (
        f"log.{tracker}: {product} is not installed; pip install 'gankit[{tracker}]' "
        f"(or set log.{tracker}=null)"
    )
    assert not (tmp_path / "r").exists()


def test_trackers_are_off_by_default_and_wandb_is_offline():
    config = resolve("ring-2d")
    assert config.log.mlflow is None and config.log.wandb is None
    switched = resolve("ring-2d", ["log.wandb={}", "log.mlflow.experiment=gans"])
    assert switched.log.wandb.model_dump() == {
        "project": "gankit",
        "entity": None,
        "mode": "offline",
    }
    assert switched.log.mlflow.model_dump() == {"tracking_uri": None, "experiment": "gans"}
    with pytest.raises(ConfigError, match="log.wandb.mode"):
        resolve("ring-2d", ["log.wandb.mode=cloud"])


@pytest.mark.slow  # a fresh interpreter imports torch, gankit and mlflow
def test_the_tracker_packages_are_imported_only_when_switched_on(tmp_path):
    script = (
        "import json, sys, gankit\n"
        "tiny = json.loads(sys.argv[1])\n"
        "gankit.train('ring-2d', tiny, run_dir=sys.argv[2] + '/off', progress=False)\n"
        "print(sorted(m for m in ('mlflow', 'wandb') if m in sys.modules))\n"
        "tiny['log.mlflow'] = {'tracking_uri': sys.argv[3]}\n"
        "gankit.train('ring-2d', tiny, run_dir=sys.argv[2] + '/on', progress=False)\n"
        "print(sorted(m for m in ('mlflow', 'wandb') if m in sys.modules))\n"
    )
    tiny = json.dumps({**TINY_RING, "train.steps": 5})
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MLFLOW_DISABLE_TELEMETRY": "true"}
    done = subprocess.run(
        [sys.executable, "-c", script, tiny, str(tmp_path), (tmp_path / "mlruns").as_uri()],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=True,
    )
    assert done.stdout.splitlines() == ["[]", "['mlflow']"]
