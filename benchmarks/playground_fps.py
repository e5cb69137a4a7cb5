"""How many frames per second ``gankit playground`` draws, and what each costs in CPU time.

For each case — the default session (ring, MLPs of 64 × 2, batch 256) and the grid with
the gradient penalty — one session plays at full speed exactly as the server runs it: its
play thread trains whole iterations for ``FRAME_TRAIN_SECONDS`` (at least one) and renders
a frame, while a second thread stands in for the page, asking for each newer frame and
encoding it as JSON as the server does. It prints

* frames/s: frames the page received per wall-clock second;
* iterations/frame: whole training iterations between two frames;
* CPU ms/frame: ``time.process_time()`` of the whole process (training, rendering, JSON)
  per frame received; 1000 / this is the frame rate one free core sustains;
* render CPU ms: one frame alone (views, charts' measures, JSON), paused, over repeats;
* the 1-minute load average, since other processes on the machine slow the wall clock.

The target is ≥ 20 frames/s for the default session on a 2-core machine. Run it from the
repository root with one torch thread (as the playground is meant to run)::

    OMP_NUM_THREADS=1 python benchmarks/playground_fps.py
    OMP_NUM_THREADS=1 python benchmarks/playground_fps.py --seconds 20 --json fps.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from gankit.app.playground import settings as playground_settings
from gankit.app.playground.session import FRAME_TRAIN_SECONDS, Session

CASES: dict[str, dict[str, Any]] = {
    "ring (default)": {},
    "grid + gradient penalty": {
        "data": {"name": "grid"},
        "regularisers": {"gradient_penalty": {}},
    },
}
RENDER_REPEATS = 30


def measure(settings: dict[str, Any], seconds: float, runs_dir: Path) -> dict[str, float]:
    """Play one session for ``seconds`` with a page thread polling it; the figures."""
    config = playground_settings.with_settings(playground_settings.base_config(), settings)
    session = Session("benchmark", config, runs_dir=runs_dir)
    received: list[int] = []
    encoded_bytes: list[int] = []
    stop = threading.Event()

    def page() -> None:
        after = session.frame_no
        while not stop.is_set():
            frame = session.wait_frame(after, 1.0)
            if frame["frame_no"] > after:
                body = json.dumps(frame, allow_nan=False, separators=(",", ":"))
                encoded_bytes.append(len(body))
                received.append(frame["iteration"])
                after = frame["frame_no"]

    poller = threading.Thread(target=page, daemon=True)
    poller.start()
    time.sleep(0.2)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    first_iteration = session.trainer.step
    session.control("play")
    time.sleep(seconds)
    session.control("pause")
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    stop.set()
    poller.join()
    frames = max(len(received), 1)
    iterations = session.trainer.step - first_iteration

    render_cpu = time.process_time()
    for _ in range(RENDER_REPEATS):
        with session.lock:
            session._marked = None  # a frame after training: the charts' measures too
            frame = session._publish()
        json.dumps(frame, allow_nan=False, separators=(",", ":"))
    render_ms = (time.process_time() - render_cpu) / RENDER_REPEATS * 1000
    session.close()
    return {
        "frames_per_s": len(received) / wall,
        "iterations_per_frame": iterations / frames,
        "iterations_per_s": iterations / wall,
        "cpu_ms_per_frame": cpu / frames * 1000,
        "render_cpu_ms": render_ms,
        "frame_kib": sum(encoded_bytes) / max(len(encoded_bytes), 1) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="play time per case")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    import torch

    print(
        f"torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs, "
        f"training {FRAME_TRAIN_SECONDS * 1000:.0f} ms per frame at full speed"
    )
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, settings in CASES.items():
            load = os.getloadavg()[0]
            figures = measure(settings, args.seconds, Path(scratch))
            figures["load_average"] = load
            results[name] = figures
            print(
                f"{name:<25} {figures['frames_per_s']:5.1f} frames/s  "
                f"{figures['iterations_per_frame']:4.1f} iterations/frame  "
                f"{figures['iterations_per_s']:6.1f} iterations/s  "
                f"CPU {figures['cpu_ms_per_frame']:5.1f} ms/frame "
                f"(≈ {1000 / figures['cpu_ms_per_frame']:4.1f} frames/s on a free core)  "
                f"render {figures['render_cpu_ms']:4.1f} ms  "
                f"{figures['frame_kib']:4.0f} KiB/frame  load {load:.1f}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
