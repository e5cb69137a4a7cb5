"""How fast ``gankit dashboard`` starts and answers on a large runs folder.

Builds a runs folder of ``--runs`` run directories, each with a resolved ring-2d config.yaml,
a status.json and a metrics.jsonl of ``--records`` training records (ring-2d's statistics),
an evaluation every 1,000 steps and diagnosis verdicts (every 25,000 steps; in every other
run the latest lies far from the end, before the part of the file the first runs list
reads). Then it starts ``python -m gankit dashboard`` as a new process and prints, counted
from the moment that process was started: when it listened, when it answered the page
(``/``) and the first runs list, how complete that list was (rows whose whole metrics.jsonl
was read, rows with their verdict) and when every row was complete; then one run's first
load in the run view (``/curves``, each curve downsampled) against the whole file through
the metrics endpoint. Beside each wall-clock time, the CPU seconds the server process spent
(from /proc, so a busy machine can be told from a slow server), and the machine's load.
The target: the first page and runs list within 1 s on 200 runs of 100,000 records each.
This script reports, it never asserts.

Run it from the repository root (the folder is built under /tmp and removed afterwards)::

    OMP_NUM_THREADS=1 python benchmarks/dashboard_load.py             # 200 × 100,000
    OMP_NUM_THREADS=1 python benchmarks/dashboard_load.py --runs 5 --keep /tmp/runs
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVAL_EVERY = 1000
VERDICT_EVERY = 25_000
POLL_SECONDS = 0.05


def resolved_config() -> str:
    """ring-2d's resolved config.yaml, as training writes it (in another process, so that
    this one never imports torch before the dashboard is measured)."""
    code = "from gankit.config import resolve; print(resolve('ring-2d').to_yaml(), end='')"
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout


def build_folder(root: Path, runs: int, records: int) -> int:
    """``runs`` run directories under ``root``; returns the bytes written. The training
    records are rendered once and shared; each run has its own evaluations."""
    blocks = []
    for start in range(1, records + 1, EVAL_EVERY):
        steps = range(start, min(start + EVAL_EVERY, records + 1))
        blocks.append("".join(json.dumps(train_record(s)) + "\n" for s in steps).encode())
    config = resolved_config()
    status = {"schema": 1, "state": "completed", "step": records, "total_steps": records}
    written = 0
    for r in range(runs):
        run = root / f"run-{r:04d}"
        run.mkdir(parents=True)
        (run / "config.yaml").write_text(config.replace("seed: 0", f"seed: {r}", 1))
        (run / "status.json").write_text(json.dumps(status))
        parts = []
        for b, block in enumerate(blocks):
            step = min((b + 1) * EVAL_EVERY, records)
            parts.append(block)
            fid = 1e4 / step + r
            parts.append(json.dumps({"kind": "eval", "schema": 2, "step": step, "eval/fid": fid}))
            parts.append("\n")
            if step % VERDICT_EVERY == 0 and (r % 2 == 0 or step <= records // 2):
                verdict = {"kind": "event", "event": "diagnosis", "code": "healthy"}
                verdict |= {"severity": "ok", "step": step, "evidence": "", "remedy": ""}
                parts.append(json.dumps(verdict) + "\n")
        data = b"".join(p if isinstance(p, bytes) else p.encode() for p in parts)
        (run / "metrics.jsonl").write_bytes(data)
        written += len(data)
    return written


def train_record(step: int) -> dict[str, float | int | str]:
    """A training record with ring-2d's statistics (float32 values printed in full, as the
    Trainer writes them) that wander with the step."""
    wave = math.sin(step / 997) * 0.1 + math.sin(step / 31) * 0.02 + 1e-9 * math.pi
    return {
        "kind": "train",
        "step": step,
        "d_loss": 1.25 + wave,
        "g_loss": 0.85 - wave,
        "d_grad_norm": 0.1 + abs(wave),
        "g_grad_norm": 0.02 + abs(wave) / 7,
        "divergence_estimate": 0.05 + wave / 11,
        "d_real": 0.52 + wave / 3,
        "d_fake": 0.48 - wave / 3,
        "d_acc": 0.5 + wave / 2,
        "steps_per_s": 227.97 + wave,
        "sample_diversity": 0.024 + wave / 13,
        "schema": 2,
    }


def cpu_seconds(pid: int) -> float:
    """The user and system CPU seconds process ``pid`` has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(port: int, path: str) -> tuple[float, bytes]:
    """Seconds to GET ``path`` whole, and the body."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("GET", path)
        body = connection.getresponse().read()
    finally:
        connection.close()
    return time.perf_counter() - start, body


def measure(root: Path) -> None:
    """Start the dashboard over ``root`` and print the figures."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "gankit", "dashboard", str(root), "--port", "0"]
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def report(label: str, seconds: float, more: str = "") -> None:
        cpu = cpu_seconds(server.pid)
        print(f"{label:<44} {seconds:7.3f} s  (server CPU so far {cpu:6.2f} s){more}")

    try:
        line = server.stdout.readline().decode()
        report("process start → listening (import + bind)", time.perf_counter() - started)
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        _, page = get(port, "/")
        report("process start → first GET /", time.perf_counter() - started)
        _, body = get(port, "/api/runs")
        first = time.perf_counter() - started
        rows = json.loads(body)
        done = sum(row["complete"] for row in rows)
        verdicts = sum(row["health"] is not None for row in rows)
        trained = sum(row["last_train"] is not None for row in rows)
        report("process start → first /api/runs", first)
        print(
            f"    {len(body) / 1e3:.0f} kB, {len(rows)} rows: last training record in {trained}, "
            f"latest verdict in {verdicts}, {done} complete"
        )
        while done < len(rows):
            time.sleep(POLL_SECONDS)
            rows = json.loads(get(port, "/api/runs")[1])
            done = sum(row["complete"] for row in rows)
        verdicts = sum(row["health"] is not None for row in rows)
        report("process start → every row complete", time.perf_counter() - started)
        print(f"    latest verdict in {verdicts} rows")
        seconds, _ = get(port, "/api/runs")
        report("a later /api/runs (nothing appended)", seconds)
        name = rows[0]["name"]
        before = cpu_seconds(server.pid)
        seconds, body = get(port, f"/api/runs/{name}/curves")
        curves = json.loads(body)["curves"]
        kept = max(len(curve["steps"]) for curve in curves.values())
        report(
            "run view first load (/curves)",
            seconds,
            f", {cpu_seconds(server.pid) - before:.2f} s of it",
        )
        print(f"    {len(body) / 1e6:.2f} MB, {len(curves)} curves of ≤ {kept} points")
        before = cpu_seconds(server.pid)
        seconds, body = get(port, f"/api/runs/{name}/metrics?offset=0")
        report(
            "  the whole file instead (/metrics)",
            seconds,
            f", {cpu_seconds(server.pid) - before:.2f} s of it",
        )
        print(f"    {len(body) / 1e6:.1f} MB")
        print(f"the page itself: {len(page) / 1e3:.1f} kB")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build the folder here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="gankit-dashboard-")) / "runs"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min)")
    try:
        if not root.exists():
            start = time.perf_counter()
            written = build_folder(root, args.runs, args.records)
            print(
                f"built {args.runs} runs × {args.records} records: {written / 1e9:.2f} GB "
                f"({written / args.runs / 1e6:.1f} MB per metrics.jsonl) in "
                f"{time.perf_counter() - start:.0f} s"
            )
        measure(root)
        print(f"load average afterwards {os.getloadavg()[0]:.2f} (1 min)")
    finally:
        if args.keep is None:
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
