"""How the dashboard reads long and live runs: the runs list from each metrics.jsonl's end
first and its start in the background, curves decimated by min/max per bucket, the
reference band, a run read while another process writes it, and start-up without torch."""

from __future__ import annotations

import fcntl
import json
import math
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from gankit.app.dashboard import make_server, summary
from gankit.app.dashboard.curves import kept_points, run_curves
from gankit.app.dashboard.summary import TAIL_BYTES, MetricsDigest, Shown, best_eval
from gankit.train.rundir import RunDir
from tests.app.runs_folder import BAND_STEPS
from tests.app.test_dashboard import get, get_json

# -- min/max decimation -------------------------------------------------------------------


def _buckets(n: int, count: int) -> list[range]:
    return [range(n * b // count, n * (b + 1) // count) for b in range(count)]


def test_decimation_keeps_each_buckets_min_and_max_and_both_ends():
    rng = random.Random(0)
    values = [rng.gauss(0.0, 1.0) for _ in range(10_000)]
    values[4321] = 50.0  # a spike
    kept = kept_points(values, 200)
    expected = {0, len(values) - 1}
    for bucket in _buckets(len(values), 99):  # (200 − 2) // 2 buckets of equal counts
        expected.add(min(bucket, key=values.__getitem__))
        expected.add(max(bucket, key=values.__getitem__))
    assert kept == sorted(expected)
    assert len(kept) <= 200 and 4321 in kept
    assert max(values[i] for i in kept) == 50.0
    assert min(values[i] for i in kept) == min(values)


def test_decimation_keeps_a_gap_per_bucket_and_short_curves_whole():
    values: list[float | None] = [math.sin(i / 50) for i in range(3000)]
    for i in (10, 11, 1500, 2999):
        values[i] = None  # NaN or infinity in the file
    kept = kept_points(values, 100)
    assert len(kept) <= 100 and kept[-1] == 2999 and kept[0] == 0
    for bucket in _buckets(len(values), 32):  # (100 − 2) // 3 buckets: a gap takes a place
        gaps = [i for i in bucket if values[i] is None]
        finite = [i for i in bucket if values[i] is not None]
        assert min(finite, key=values.__getitem__) in kept
        assert max(finite, key=values.__getitem__) in kept
        assert not gaps or gaps[0] in kept
    assert 11 not in kept  # the second gap of its bucket
    assert kept_points([1.0, None, 3.0], 8) == [0, 1, 2]


def _write_long_run(path: Path, records: int, spike_at: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.yaml").write_text("preset: ring-2d\n")
    lines = []
    for step in range(1, records + 1):
        d_loss = 99.0 if step == spike_at else 1.0 + 0.1 * math.sin(step / 100)
        lines.append(json.dumps({"kind": "train", "schema": 2, "step": step, "d_loss": d_loss}))
        if step % 1000 == 0:
            lines.append(json.dumps({"kind": "eval", "schema": 2, "step": step, "eval/fid": 5.0}))
    (path / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def test_a_long_runs_curves_are_decimated_and_then_follow_appends(tmp_path):
    _write_long_run(tmp_path / "runs" / "long", 30_000, spike_at=12_345)
    server = make_server(tmp_path / "runs", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reply = get_json(server, "/api/runs/long/curves?points=500")
        curve = reply["curves"]["d_loss"]
        assert curve["points"] == 30_000 and len(curve["steps"]) <= 500
        assert curve["steps"][-1] == 30_000  # the last record is always kept
        assert curve["values"][curve["steps"].index(12_345)] == 99.0
        assert reply["curves"]["eval/fid"]["points"] == 30  # short curves are sent whole
        metrics = tmp_path / "runs" / "long" / "metrics.jsonl"
        assert reply["offset"] == metrics.stat().st_size
        with open(metrics, "a") as handle:
            handle.write(json.dumps({"kind": "train", "step": 30_001, "d_loss": 0.5}) + "\n")
        later = get_json(server, f"/api/runs/long/metrics?offset={reply['offset']}")
        assert [record["step"] for record in later["records"]] == [30_001]
        assert len(get_json(server, "/api/runs/long/curves")["curves"]["d_loss"]["steps"]) <= 2000
        for bad in ("points=7", "points=x", "points=-5"):
            assert get(server, f"/api/runs/long/curves?{bad}")[0] == 400
    finally:
        server.shutdown()
        server.server_close()


def test_curves_leave_out_what_a_resume_supersedes(tmp_path):
    lines = [
        {"kind": "train", "step": 10, "d_loss": 1.0},
        {"kind": "event", "event": "diagnosis", "code": "a", "severity": "warning", "step": 10},
        {"kind": "train", "step": 20, "d_loss": 2.0, "d_acc": 0.5},
        {"kind": "event", "event": "diagnosis", "code": "b", "severity": "warning", "step": 20},
        {"kind": "event", "event": "resume", "step": 10},
        {"kind": "train", "step": 20, "d_loss": 3.0, "g_loss": None, "nonfinite": ["g_loss"]},
    ]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    reply = run_curves(tmp_path)
    assert reply["curves"]["d_loss"] == {"steps": [10, 20], "values": [1.0, 3.0], "points": 2}
    assert reply["curves"]["g_loss"] == {"steps": [20], "values": [None], "points": 1}
    assert "d_acc" not in reply["curves"] and "nonfinite" not in reply["curves"]
    assert [verdict["code"] for verdict in reply["verdicts"]] == ["a"]


# -- the runs list: the tail at once, the head in the background --------------------------


def _one_pass(path: Path) -> Shown:
    shown = Shown()
    for record in RunDir(path).read_metrics(("train", "eval", "event"), raw=True):
        shown.add(record)
    return shown


def _write_records(path: Path, records: list[dict]) -> None:
    with open(path / "metrics.jsonl", "a") as handle:
        handle.write("".join(json.dumps(record) + "\n" for record in records))


@pytest.mark.parametrize("chunk", [4099, 50])  # lines cross the reads' ends; a read < a line
def test_the_digest_answers_from_the_tail_and_completes_from_the_head(tmp_path, monkeypatch, chunk):
    verdict = {"kind": "event", "event": "diagnosis", "code": "mode_collapse"}
    verdict |= {"severity": "warning", "step": 40, "evidence": "few modes", "remedy": "R1"}
    records = [{"kind": "eval", "step": 20, "eval/fid": 1.0, "eval/precision": 0.2}, verdict]
    records += [
        {"kind": "train", "step": s, "d_loss": 1.0 / s, "pad": "x" * 80} for s in range(1, 3000)
    ]
    records += [{"kind": "eval", "step": 3000, "eval/fid": 9.0, "eval/precision": 0.9}]
    records += [{"kind": "train", "step": 3000, "d_loss": 0.25}]
    _write_records(tmp_path, records)
    size = (tmp_path / "metrics.jsonl").stat().st_size
    assert size > 5 * TAIL_BYTES

    digest = MetricsDigest()
    generation = digest.update(tmp_path)
    shown, complete = digest.shown()
    assert generation is not None and not complete
    assert shown.last_train == {"kind": "train", "step": 3000, "d_loss": 0.25}
    assert shown.health is None  # the verdict is in the head, not read yet
    assert best_eval(shown.evaluations, "unconditional") == {
        "eval/fid": {"value": 9.0, "step": 3000},
        "eval/precision": {"value": 0.9, "step": 3000},
    }
    assert digest.offset == size and size - digest.split <= TAIL_BYTES
    data = (tmp_path / "metrics.jsonl").read_bytes()
    assert data[digest.split - 1 : digest.split] == b"\n"  # the tail starts a line

    monkeypatch.setattr(summary, "CHUNK_BYTES", chunk)
    digest.read_head(tmp_path, generation)
    shown, complete = digest.shown()
    assert complete
    whole = _one_pass(tmp_path)
    assert (shown.last_train, shown.health) == (whole.last_train, whole.health)
    assert shown.evaluations == whole.evaluations
    assert shown.health["code"] == "mode_collapse"
    assert shown.best_eval("unconditional")["eval/fid"] == {"value": 1.0, "step": 20}


def test_a_verdict_at_the_end_is_shown_at_once(tmp_path):
    _write_records(tmp_path, [{"kind": "train", "step": s, "d_loss": 1.0} for s in range(5000)])
    verdict = {"kind": "event", "event": "diagnosis", "code": "healthy", "severity": "ok"}
    _write_records(tmp_path, [verdict | {"step": 5000}])
    digest = MetricsDigest()
    assert digest.update(tmp_path) is not None
    shown, complete = digest.shown()
    assert not complete and shown.last_train["step"] == 4999
    assert shown.health["code"] == "healthy"


def test_a_last_line_longer_than_the_tail_is_read_whole(tmp_path):
    _write_records(tmp_path, [{"kind": "train", "step": s, "d_loss": 1.0} for s in range(5000)])
    _write_records(tmp_path, [{"kind": "train", "step": 5000, "note": "y" * (3 * TAIL_BYTES)}])
    digest = MetricsDigest()
    assert digest.update(tmp_path) is not None
    shown, complete = digest.shown()
    assert not complete and shown.last_train["step"] == 5000  # the tail starts at its line


def test_a_head_read_after_the_file_was_replaced_is_dropped(tmp_path):
    _write_records(tmp_path, [{"kind": "train", "step": s, "d_loss": 1.0} for s in range(5000)])
    digest = MetricsDigest()
    generation = digest.update(tmp_path)
    replacement = tmp_path / "new.jsonl"
    replacement.write_text(json.dumps({"kind": "train", "step": 1, "d_loss": 2.0}) + "\n")
    replacement.replace(tmp_path / "metrics.jsonl")  # another inode
    digest.read_head(tmp_path, generation)
    assert not digest.complete
    assert digest.update(tmp_path) is None  # small enough to be read whole at once
    shown, complete = digest.shown()
    assert complete and shown.last_train["d_loss"] == 2.0


def test_the_runs_list_marks_rows_still_being_read_until_the_background_reader_is_done(
    tmp_path,
):
    for name in ("one", "two"):
        _write_long_run(tmp_path / "runs" / name, 8000, spike_at=-1)
    server = make_server(tmp_path / "runs", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while not all(row["complete"] for row in get_json(server, "/api/runs")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        rows = get_json(server, "/api/runs")
        assert [row["last_train"]["step"] for row in rows] == [8000, 8000]
        assert rows[0]["best_eval"] == {"eval/fid": {"value": 5.0, "step": 1000}}
        assert get_json(server, "/api/runs/one") == rows[0]
    finally:
        server.shutdown()
        server.server_close()


# -- a run written while it is read --------------------------------------------------------

WRITER = """
import fcntl, json, random, sys, time
path, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
with open(path, "ab", buffering=0) as handle:
    for step in range(1, count + 1):
        line = json.dumps({"kind": "train", "schema": 2, "step": step, "d_loss": rng.random()})
        line = (line + "\\n").encode()
        cut = rng.randrange(1, len(line))
        for part in (line[:cut], line[cut:]):  # a torn line for a moment
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails if a reader holds one
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            handle.write(part)
            fcntl.lockf(handle, fcntl.LOCK_UN)
            fcntl.flock(handle, fcntl.LOCK_UN)
            if rng.random() < 0.05:
                time.sleep(0.001)
"""


def test_a_run_written_by_another_process_is_read_without_locks_writes_or_losses(tmp_path):
    run = tmp_path / "runs" / "live"
    _write_long_run(run, 6000, spike_at=-1)  # longer than the tail: the head is read too
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir() if p.name != "metrics.jsonl"}
    directory_time = run.stat().st_mtime_ns
    server = make_server(tmp_path / "runs", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    count = 4000
    try:
        curves = get_json(server, "/api/runs/live/curves")
        offset, seen = curves["offset"], []
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(run / "metrics.jsonl"), str(count)],
            stderr=subprocess.PIPE,
            text=True,
        )
        polls = 0
        while True:
            done = writer.poll() is not None
            reply = get_json(server, f"/api/runs/live/metrics?offset={offset}")
            assert not reply["reset"]
            seen += [record["step"] for record in reply["records"]]
            offset = reply["offset"]
            get_json(server, "/api/runs")
            polls += 1
            if done:
                break
        assert writer.returncode == 0, writer.stderr.read()
        assert polls > 3
        assert seen == list(range(1, count + 1))  # every record once, in order
        assert offset == (run / "metrics.jsonl").stat().st_size
        deadline = time.monotonic() + 30
        while not (row := get_json(server, "/api/runs/live"))["complete"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert row["last_train"]["step"] == count
        assert row["best_eval"] == {"eval/fid": {"value": 5.0, "step": 1000}}
    finally:
        server.shutdown()
        server.server_close()
    after = {p.name: p.stat().st_mtime_ns for p in run.iterdir() if p.name != "metrics.jsonl"}
    assert after == before and run.stat().st_mtime_ns == directory_time


# -- reference bands ----------------------------------------------------------------------


def test_the_band_endpoint_gives_the_runs_preset_band_or_why_not(server, runs_dir):
    reply = get_json(server, "/api/runs/a/band")
    assert reply["reason"] is None
    band = reply["band"]
    assert (band["preset"], band["steps"]) == ("ring-2d", BAND_STEPS)
    assert band["curves"]["d_loss"]["hi"][0] == 1.2 and "config" not in band
    assert get_json(server, "/api/runs/broken/band") == {
        "band": None,
        "reason": "config.yaml names no preset",
    }
    other = runs_dir / "other-objective"
    other.mkdir()
    config = (runs_dir / "a" / "config.yaml").read_text()
    (other / "config.yaml").write_text(config.replace("name: nonsaturating", "name: hinge"))
    reply = get_json(server, "/api/runs/other-objective/band")
    assert reply["band"] is None and "objective" in reply["reason"]
    (other / "config.yaml").write_text(config.replace("preset: ring-2d", "preset: mog-2d"))
    assert get_json(server, "/api/runs/other-objective/band")["reason"] == (
        "no reference band for mog-2d"
    )


def test_a_broken_band_file_is_a_reason_not_an_error(runs_dir, tmp_path):
    (tmp_path / "ring-2d.json").write_text('{"preset": "ring-2d"}')
    server = make_server(runs_dir, port=0, bands_dir=tmp_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reply = get_json(server, "/api/runs/a/band")
        assert reply["band"] is None and "not a reference band" in reply["reason"]
    finally:
        server.shutdown()
        server.server_close()


# -- start-up without torch ----------------------------------------------------------------

NO_TORCH = """
import sys, threading, urllib.request
from gankit.cli import _parser
from gankit.app.dashboard import make_server, summary
server = make_server(sys.argv[1], port=0)
threading.Thread(target=server.serve_forever, daemon=True).start()
for path in ("/", "/api/runs", "/api/runs/a/curves", "/api/runs/a/band", "/api/runs/a/config"):
    urllib.request.urlopen(server.url + path.lstrip("/")).read()
server.shutdown()
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_the_dashboard_serves_without_importing_torch(runs_dir):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(NO_TORCH), str(runs_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_the_eval_file_name_is_the_evaluations():
    from gankit.app.dashboard.runs import EVAL_FILE
    from gankit.evaluate import EVAL_FILE as WRITTEN

    assert EVAL_FILE == WRITTEN


@pytest.mark.parametrize("holder", ["flock", "lockf"])
def test_reading_works_while_the_writer_holds_a_lock(server, runs_dir, holder):
    with open(runs_dir / "a" / "metrics.jsonl", "ab") as handle:
        lock = fcntl.flock if holder == "flock" else fcntl.lockf
        lock(handle, fcntl.LOCK_EX)
        try:
            assert get_json(server, "/api/runs/a")["name"] == "a"
            assert get_json(server, "/api/runs/a/curves")["curves"]["d_loss"]["points"] >= 4
        finally:
            lock(handle, fcntl.LOCK_UN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("preset: ring-2d\ntask:\n  name: paired\n  lambda_l1: 100\n", ("ring-2d", "paired")),
        ("preset: 'ring-2d'\nseed: 3\n", ("ring-2d", "unconditional")),
        ("task: conditional\n", (None, "conditional")),
        ("preset: null\ntask: {name: unpaired}\n", (None, "unpaired")),
        ("preset: [unclosed\n", (None, None)),
        ("- a list\n", (None, None)),
        ("", (None, None)),
    ],
)
def test_the_preset_and_task_are_read_without_building_the_config(tmp_path, text, expected):
    from gankit.app.dashboard.runs import preset_and_task

    (tmp_path / "config.yaml").write_text(text)
    assert preset_and_task(tmp_path) == expected
    assert preset_and_task(tmp_path / "missing") == (None, None)
