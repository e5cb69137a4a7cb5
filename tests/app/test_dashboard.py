"""``gankit dashboard``: its JSON endpoints over a real run and a broken hand-made one, the
byte-offset protocol, refused paths, the shipped page and uPlot, and the command line."""

from __future__ import annotations

import http.client
import json

import pytest

from gankit.cli import main
from tests.app.runs_folder import STEPS


def get(server, path: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, the path sent exactly as given."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def get_json(server, path: str):
    status, kind, body = get(server, path)
    assert status == 200, body
    assert kind == "application/json"
    return json.loads(body)


def test_the_server_is_bound_to_this_machine_by_default(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.server_address[1]}/"


def test_the_runs_list_shows_each_run_with_its_status(server):
    runs = {run["name"]: run for run in get_json(server, "/api/runs")}
    assert set(runs) == {"a", "broken"}
    a = runs["a"]
    assert (a["preset"], a["task"]) == ("ring-2d", "unconditional")
    assert a["status"]["state"] == "completed"
    assert (a["status"]["step"], a["status"]["total_steps"]) == (STEPS, STEPS)
    assert a["status"]["stale"] is None
    assert a["last_train"]["step"] == STEPS and "d_loss" in a["last_train"]
    assert a["complete"] is True  # a short metrics.jsonl is read whole at once
    broken = runs["broken"]
    assert broken["preset"] is None and broken["task"] is None
    assert broken["status"]["state"] is None
    assert broken["status"]["step"] == 5  # from its last complete training record
    assert broken["last_train"]["g_loss"] is None  # NaN is sent as null


def test_the_metrics_endpoint_returns_only_records_appended_since_an_offset(server, runs_dir):
    first = get_json(server, "/api/runs/a/metrics")
    steps = [r["step"] for r in first["records"] if r["kind"] == "train"]
    assert steps == list(range(5, STEPS + 1, 5))
    assert first["offset"] == (runs_dir / "a" / "metrics.jsonl").stat().st_size
    assert get_json(server, f"/api/runs/a/metrics?offset={first['offset']}")["records"] == []
    record = {"kind": "train", "schema": 2, "step": STEPS + 5, "d_loss": 0.5}
    with open(runs_dir / "a" / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(record) + "\n")
    later = get_json(server, f"/api/runs/a/metrics?offset={first['offset']}")
    assert later["records"] == [record] and later["offset"] > first["offset"]
    assert later["reset"] is False


def test_a_half_written_line_is_left_for_the_next_poll(server, runs_dir):
    reply = get_json(server, "/api/runs/broken/metrics?offset=0")
    assert [r["step"] for r in reply["records"]] == [5]
    assert reply["offset"] == len(
        b'{"kind": "train", "schema": 2, "step": 5, "d_loss": 1.5, "g_loss": NaN}\n'
    )
    huge = get_json(server, "/api/runs/broken/metrics?offset=999999")
    assert huge["reset"] is True and [r["step"] for r in huge["records"]] == [5]


def test_config_samples_and_eval(server):
    config = get_json(server, "/api/runs/a/config")
    assert "ring-2d" in config["text"] and config["values"]["train.steps"] == STEPS
    broken = get_json(server, "/api/runs/broken/config")
    assert broken["text"].startswith("preset:") and broken["values"] == {}
    samples = get_json(server, "/api/runs/a/samples")
    assert [entry["step"] for entry in samples] == [10, 20]
    status, kind, body = get(server, f"/runs/a/samples/{samples[0]['file']}")
    assert (status, kind) == (200, "image/png") and body.startswith(b"\x89PNG")
    assert get_json(server, "/api/runs/broken/samples") == []
    assert get_json(server, "/api/runs/a/eval") is None


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/../metrics",
        "/api/runs/%2E%2E/config",
        "/api/runs/a%2F..%2F..%2Fetc/config",
        "/api/runs/not-a-run/metrics",
        "/api/runs/missing/config",
        "/runs/a/samples/..%2F..%2Fconfig.yaml",
        "/runs/a/samples/../config.yaml",
        "/runs/a/samples/step_99999999.png",
        "/static/..%2Fserver.py",
        "/static/.hidden",
        "/etc/passwd",
    ],
)
def test_paths_outside_the_runs_are_refused(server, path):
    status, _, _ = get(server, path)
    assert status in (400, 404)


def test_a_malformed_offset_is_a_bad_request(server):
    assert get(server, "/api/runs/a/metrics?offset=-3")[0] == 400
    assert get(server, "/api/runs/a/metrics?offset=x")[0] == 400
    assert get(server, "/api/runs/a/metrics?offset=%C2%B2")[0] == 400  # a superscript 2


def test_the_page_and_its_scripts_are_served_from_the_package(server):
    status, kind, page = get(server, "/")
    assert (status, kind) == (200, "text/html")
    for asset in (b"/static/uPlot.iife.min.js", b"/static/app.js", b"/static/style.css"):
        assert asset in page
        status, _, body = get(server, asset.decode())
        assert status == 200 and body
    assert b"http://" not in page and b"https://" not in page  # nothing from a CDN
    _, kind, uplot = get(server, "/static/uPlot.iife.min.js")
    assert "javascript" in kind and b"uPlot" in uplot and len(uplot) > 40_000


def test_reading_leaves_the_run_directories_unchanged(server, runs_dir):
    before = {p: p.stat().st_mtime_ns for p in runs_dir.rglob("*")}
    for path in ("/api/runs", "/api/runs/a/metrics", "/api/runs/a/config", "/api/runs/a/eval"):
        get(server, path)
    assert {p: p.stat().st_mtime_ns for p in runs_dir.rglob("*")} == before


def test_the_command_refuses_a_missing_folder_and_a_bad_port(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["dashboard", str(tmp_path), "--port", "70000"])
    assert stopped.value.code == 2


def test_the_command_serves_until_ctrl_c(tmp_path, capsys, monkeypatch):
    from gankit.app.dashboard.server import DashboardServer

    def interrupted(self, poll_interval=0.5):
        raise KeyboardInterrupt

    monkeypatch.setattr(DashboardServer, "serve_forever", interrupted)
    assert main(["dashboard", str(tmp_path), "--port", "0"]) == 0
    out = capsys.readouterr()
    assert "http://127.0.0.1:" in out.out and "stopped" in out.err


def test_best_eval_keeps_the_better_side_and_leaves_superseded_records_out(tmp_path):
    from gankit.app.dashboard.summary import best_eval

    records = [
        {"kind": "eval", "step": 10, "eval/fid": 30.0, "eval/precision": 0.5},
        {"kind": "eval", "step": 20, "eval/fid": 5.0, "eval/precision": 0.9},
        {"kind": "event", "event": "resume", "step": 10},
        {"kind": "eval", "step": 20, "eval/fid": 20.0, "eval/precision": 0.4},
        {"kind": "eval", "step": 30, "eval/fid": 25.0, "eval/memorisation_ratio": 0.1},
    ]
    assert best_eval(records, "unconditional") == {
        "eval/fid": {"value": 20.0, "step": 20},
        "eval/precision": {"value": 0.5, "step": 10},
    }


def test_a_training_status_without_a_heartbeat_is_stale(tmp_path):
    from gankit.app.dashboard.runs import status_of

    status = {"state": "training", "step": 7, "total_steps": 100}
    status["heartbeat_at"] = "2020-01-01T00:00:00.000+00:00"
    (tmp_path / "status.json").write_text(json.dumps(status))
    seen = status_of(tmp_path)
    assert (seen["state"], seen["step"], seen["total_steps"]) == ("training", 7, 100)
    assert seen["stale"].startswith("no heartbeat for")


def test_the_runs_list_shows_the_latest_health_verdict(server, runs_dir):
    verdict = {"kind": "event", "event": "diagnosis", "code": "d_overpowers_g"}
    verdict |= {"severity": "warning", "step": 20, "evidence": "d_acc 0.99", "remedy": "R1"}
    with open(runs_dir / "a" / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(verdict) + "\n")
    runs = {run["name"]: run for run in get_json(server, "/api/runs")}
    assert runs["a"]["health"] == {
        k: verdict[k] for k in ("code", "severity", "step", "evidence", "remedy")
    }
    assert runs["broken"]["health"] is None


def test_the_digest_reads_only_what_was_appended_and_follows_resumes(tmp_path):
    from gankit.app.dashboard.summary import MetricsDigest

    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text('{"kind": "train", "step": 10, "d_loss": 1.0}\n')
    digest = MetricsDigest()
    digest.update(tmp_path)
    assert digest.shown()[0].last_train["step"] == 10
    assert digest.offset == metrics.stat().st_size
    with open(metrics, "a") as handle:
        handle.write('{"kind": "event", "event": "resume", "step": 5}\n{"kind": "eval", "st')
    digest.update(tmp_path)
    assert digest.shown()[0].last_train is None  # step 10 is superseded by the resume from 5
    assert digest.offset < metrics.stat().st_size  # the torn eval line is read next time
    metrics.write_text('{"kind": "train", "step": 3, "d_loss": 2.0}\n')  # a shorter new file
    digest.update(tmp_path)
    shown, complete = digest.shown()
    assert shown.last_train["step"] == 3 and shown.evaluations == [] and complete


def test_run_names_are_plain_folders_directly_under_the_runs_folder(tmp_path):
    from gankit.app.dashboard.runs import run_names, run_path

    root, outside = tmp_path / "runs", tmp_path / "outside"
    for folder in (root / "my run", root / ".hidden", outside):
        folder.mkdir(parents=True)
        (folder / "config.yaml").write_text("preset: ring-2d\n")
    (root / "escape").symlink_to(outside)
    assert run_names(root) == ["my run"]
    for name in ("escape", ".hidden", "..", ".", "", "my run/..", "a\\b"):
        assert run_path(root, name) is None


def test_the_digest_reads_schema_1_files(tmp_path):
    from gankit.app.dashboard.summary import MetricsDigest

    lines = [
        '{"step": 5, "d_loss": 1.0}',
        '{"step": 5, "eval/fid": 3.0}',
        '{"step": 10, "d_loss": 0.5}',
    ]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    digest = MetricsDigest()
    digest.update(tmp_path)
    shown, _ = digest.shown()
    assert shown.last_train == {"step": 10, "d_loss": 0.5}
    assert shown.evaluations == [{"step": 5, "eval/fid": 3.0}]
