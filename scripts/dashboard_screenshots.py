"""The README's pictures of `gankit dashboard`, taken in headless Chromium.

Trains two real ring-2d runs into a temporary runs folder — the preset as shipped and the
same with the hinge objective —, starts a dashboard over them and saves:

    docs/images/dashboard-run.png       the preset's run: status, health timeline, every
                                        curve (against ring-2d's reference band where one is
                                        shipped) and the sample slider
    docs/images/dashboard-compare.png   both runs' d_loss overlaid, their config differences

    OMP_NUM_THREADS=1 python scripts/dashboard_screenshots.py [--out docs/images] [--steps 3000]
        [--runs DIR]    train into DIR and keep it (runs already there are not trained again)

The run keeps the preset's settings except ``samples.every`` (a grid every 500 steps), so a
shipped ring-2d band is drawn behind its curves. Needs Playwright (``pip install
playwright``) and a Chromium: Debian's ``/usr/bin/chromium`` when it is there, else
Playwright's own (``playwright install chromium``).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

import gankit
from gankit.app.dashboard import make_server

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 120_000
RUNS = {
    "ring-2d-nonsaturating": {},
    "ring-2d-hinge": {"objective.name": "hinge"},
}
"""The runs, by folder name, with their overrides of the ring-2d preset."""


def train_runs(root: Path, steps: int) -> None:
    """The two runs of :data:`RUNS`, ``steps`` steps each, one after the other (those that
    finished in ``root`` before are kept)."""
    for name, overrides in RUNS.items():
        if (root / name / "status.json").is_file() and '"completed"' in (
            root / name / "status.json"
        ).read_text():
            continue
        start = time.perf_counter()
        settings = {**overrides, "train.steps": steps, "samples.every": 500}
        settings["log.tensorboard"] = False
        gankit.train("ring-2d", settings, run_dir=root / name, progress=False)
        print(f"trained {name}: {steps} steps in {time.perf_counter() - start:.0f} s")


def shoot_to(page: Page, path: Path, last: str) -> None:
    """Save the page from its top to the bottom of the element ``last``."""
    box = page.locator(last).bounding_box()
    height = int(box["y"] + box["height"] + 12)
    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
    page.screenshot(path=str(path), clip=clip, full_page=True)
    print(f"saved {path} ({VIEWPORT['width']}×{height})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--runs", type=Path, help="train into this folder and keep it")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gankit-dashboard-shots-") as folder:
        root = args.runs or Path(folder) / "runs"
        train_runs(root, args.steps)
        server = make_server(root, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as driver:
                executable = str(CHROMIUM) if CHROMIUM.exists() else None
                browser = driver.chromium.launch(executable_path=executable, headless=True)
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(TIMEOUT_MS)
                run, other = RUNS
                page.goto(f"{server.url}#/run/{run}")
                page.wait_for_function(
                    "Number(document.querySelector('.chart')?.dataset.points) > 0"
                )
                page.wait_for_function("document.querySelector('.samples img')?.naturalWidth > 0")
                page.wait_for_timeout(500)
                shoot_to(page, args.out / "dashboard-run.png", ".samples")
                page.goto(f"{server.url}#/compare/{run},{other}?stat=d_loss")
                page.wait_for_function(
                    "Number(document.querySelector('.chart')?.dataset.points) > 0"
                )
                page.locator("#config-diff").wait_for()
                page.wait_for_timeout(500)
                shoot_to(page, args.out / "dashboard-compare.png", "#config-diff")
                browser.close()
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
