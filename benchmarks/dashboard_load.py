"""How fast ``gankit dashboard`` answers on a large runs folder.

Builds a runs folder of ``--runs`` run directories with ``--records`` training records each
(plus an evaluation every 1,000 steps and a status.json), starts the dashboard's server on
a free port, and prints the seconds it took to import the dashboard, to answer the page
(``/``), the first runs list (every metrics.jsonl read once), a later runs list (only what
was appended: nothing) and one run's full metrics. The issue's target: the first page
within 1 s on 200 runs of 100,000 records each. This script reports, it never asserts.

Run it from the repository root::

    python benchmarks/dashboard_load.py                    # 200 runs × 100,000 records
    python benchmarks/dashboard_load.py --runs 5 --keep /tmp/runs
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path


def build_folder(root: Path, runs: int, records: int) -> None:
    """``runs`` run directories under ``root``, each with ``records`` training records."""
    base = {"kind": "train", "schema": 2, "d_loss": 1.2345678, "g_loss": 0.87654321}
    base |= {"d_acc": 0.5, "d_real": 0.51, "d_fake": 0.49, "d_grad_norm": 0.1, "lr_g": 2e-4}
    status = {"schema": 1, "state": "completed", "step": records, "total_steps": records}
    for r in range(runs):
        run = root / f"run-{r:04d}"
        run.mkdir(parents=True)
        (run / "config.yaml").write_text(f"preset: ring-2d\nseed: {r}\n")
        (run / "status.json").write_text(json.dumps(status))
        lines = []
        for step in range(1, records + 1):
            lines.append(json.dumps({**base, "step": step}))
            if step % 1000 == 0:
                lines.append(json.dumps({"kind": "eval", "step": step, "eval/fid": 1e4 / step}))
        (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def timed_get(address: tuple[str, int], path: str) -> tuple[float, int]:
    """Seconds to GET ``path`` whole, and the size of the answer."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection(*address, timeout=600)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return time.perf_counter() - start, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build the folder here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="gankit-dashboard-")) / "runs"
    try:
        if not root.exists():
            start = time.perf_counter()
            build_folder(root, args.runs, args.records)
            print(
                f"built {args.runs} runs × {args.records} records in "
                f"{time.perf_counter() - start:.1f} s"
            )
        start = time.perf_counter()
        from gankit.app.dashboard import make_server

        print(f"import gankit.app.dashboard      {time.perf_counter() - start:8.3f} s")
        server = make_server(root, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        address = server.server_address[:2]
        for label, path in (
            ("page /", "/"),
            ("first /api/runs", "/api/runs"),
            ("later /api/runs", "/api/runs"),
            ("one run's metrics", "/api/runs/run-0000/metrics?offset=0"),
        ):
            seconds, size = timed_get(address, path)
            print(f"{label:<32} {seconds:8.3f} s  ({size / 1e6:.1f} MB)")
        server.shutdown()
        server.server_close()
    finally:
        if args.keep is None:
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
