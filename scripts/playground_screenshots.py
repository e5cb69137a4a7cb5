"""The README's pictures of `gankit playground`, taken in headless Chromium.

Starts a playground server on a free port, opens the page at 1280×800, plays three scenes
for a fixed number of iterations and saves each view:

    docs/images/playground-1d.png        a 1-D generator bends N(0, 1) into two bumps; D and D*
    docs/images/playground-ring.png      the ring of Gaussians: D's surface and G's arrows
    docs/images/playground-js-vs-w.png   the JS-versus-Wasserstein scene

It also prints what the page measured over a few seconds of play: frames received and
drawn per second, and the milliseconds one frame takes to draw.

    OMP_NUM_THREADS=1 python scripts/playground_screenshots.py [--out docs/images] [--only FILE…]

Needs Playwright (``pip install playwright``) and a Chromium: Debian's ``/usr/bin/chromium``
when it is there, else Playwright's own (``playwright install chromium``).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from gankit.app.playground import make_server

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 600_000
FRAME = "window.playground.lastFrame"
READY = f"{FRAME} !== null && window.playground.busy === 0"
MEASURE_SECONDS = 3.0
"""The stretch of play over which the frame rates are measured."""


@dataclass(frozen=True)
class Shot:
    """One picture: a fresh page, a scene or settings chosen in the form (pairs of a
    field's selector and its value), played for ``updates``."""

    file: str
    updates: int
    counter: str = "iteration"
    """What ``updates`` counts: ``iteration`` (G updates), or ``d_updates`` for a scene
    whose play trains D alone."""
    scene: str | None = None
    form: tuple[tuple[str, str], ...] = ()


SHOTS = (
    Shot("playground-1d.png", 2000, form=(("#data", "bimodal1d"), ("#z_dim", "1"))),
    Shot("playground-ring.png", 2000),
    Shot("playground-js-vs-w.png", 300, "d_updates", scene="js-vs-w"),
)


def set_up(page: Page, shot: Shot) -> None:
    """Opens the shot's scene from the page's list, or fills its settings in, as a person
    would."""
    if shot.scene is not None:
        names = page.evaluate("window.playground.options.scenes.map((scene) => scene.name)")
        if shot.scene not in names:
            raise SystemExit(f"the server offers no scene {shot.scene!r} ({', '.join(names)})")
        page.click(f'#scenes li[data-scene="{shot.scene}"] button')
        page.wait_for_function(f"{READY} && {FRAME}.scene?.name === {shot.scene!r}")
    for selector, value in shot.form:
        if page.evaluate(f"document.querySelector({selector!r}).tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
            page.press(selector, "Enter")
        page.wait_for_function(READY)


def play_until(page: Page, shot: Shot) -> dict[str, float]:
    """Plays to the shot's number of updates and pauses; returns the frame rate and drawing
    time the page measured on the way."""
    page.click("#play")
    page.wait_for_function(f"{FRAME}.playing && {FRAME}.{shot.counter} >= 2")
    counts = "[window.playground.framesReceived, window.playground.framesDrawn]"
    received, drawn = page.evaluate(counts)
    time.sleep(MEASURE_SECONDS)
    received_after, drawn_after = page.evaluate(counts)
    measured = {"ms": page.evaluate("window.playground.renderMs")}
    measured["received"] = (received_after - received) / MEASURE_SECONDS
    measured["drawn"] = (drawn_after - drawn) / MEASURE_SECONDS
    page.wait_for_function(f"{FRAME}.{shot.counter} >= {shot.updates}", polling=200)
    page.click("#play")
    page.wait_for_function(f"{READY} && {FRAME}.playing === false")
    page.wait_for_timeout(400)  # the charts' last redraw
    return measured


def take(page: Page, url: str, shot: Shot, out: Path) -> None:
    page.goto(url)
    page.wait_for_function(READY)
    set_up(page, shot)
    measured = play_until(page, shot)
    page.screenshot(path=str(out / shot.file))
    frame = page.evaluate(FRAME)
    print(
        f"{shot.file}: {shot.counter} {frame[shot.counter]}; while playing "
        f"{measured['received']:.1f} frames/s received, {measured['drawn']:.1f} drawn; "
        f"{measured['ms']:.2f} ms to draw a frame"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument(
        "--only", nargs="+", choices=[shot.file for shot in SHOTS], help="take these alone"
    )
    args = parser.parse_args()
    shots = [shot for shot in SHOTS if args.only is None or shot.file in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as runs:
        server = make_server(port=0, runs_dir=Path(runs))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as driver:
                launch = {"executable_path": str(CHROMIUM)} if CHROMIUM.exists() else {}
                browser = driver.chromium.launch(headless=True, **launch)
                page = browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(TIMEOUT_MS)
                for shot in shots:
                    take(page, server.url, shot, args.out)
                browser.close()
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
