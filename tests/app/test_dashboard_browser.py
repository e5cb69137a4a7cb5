"""The dashboard page in headless Chromium (Debian's ``chromium``, driven by Playwright):
the runs list, a curve gaining points without a reload, the sample slider, the compare
view and a run with broken files. Skipped where Playwright or Chromium is not installed."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

import gankit
from gankit.train.callbacks import Callback
from tests.train.tiny import TINY_RING

playwright = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def page(server):
    """A page of headless Chromium; JavaScript errors fail the test that caused them."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()


@pytest.fixture
def url(server, page):
    yield server.url
    assert page.errors == []


CURVE_HAS = (
    "Number(document.querySelector('.chart[data-stat=\"{stat}\"]')?.dataset.points) === {points}"
)
"""A page condition: the chart of ``stat`` shows ``points`` points."""


def test_the_runs_list_shows_the_runs_and_their_state(page, url):
    page.goto(url)
    row = page.locator('tr[data-run="a"]')
    row.wait_for()
    assert "completed" in row.inner_text()
    assert page.locator('tr[data-run="broken"]').inner_text().count("unknown") == 1
    assert page.locator('tr[data-run="not-a-run"]').count() == 0


class HoldAfterFirstLog(Callback):
    """Holds training after its first logged record until ``go`` is set."""

    def __init__(self) -> None:
        self.logged = threading.Event()
        self.go = threading.Event()

    def on_log(self, trainer, record) -> None:
        if not self.logged.is_set():
            self.logged.set()
            self.go.wait(timeout=60)


def test_a_run_that_is_training_is_listed_and_its_curves_grow(page, url, runs_dir):
    hold = HoldAfterFirstLog()
    overrides = {**TINY_RING, "train.steps": 20}
    training = threading.Thread(
        target=gankit.train,
        args=("ring-2d", overrides),
        kwargs={"run_dir": runs_dir / "live", "progress": False, "callbacks": [hold]},
    )
    training.start()
    try:
        assert hold.logged.wait(timeout=60)
        page.goto(url)
        page.locator('tr[data-run="live"] td.state-training').wait_for()
        page.goto(f"{url}#/run/live")
        page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=1))
        hold.go.set()
        page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=4))
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    finally:
        hold.go.set()
        training.join(timeout=60)


def test_a_curve_gains_points_without_a_reload(page, url, runs_dir):
    page.goto(f"{url}#/run/a")
    page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=4))
    record = {"kind": "train", "schema": 2, "step": 25, "d_loss": 0.25, "g_loss": 2.0}
    with open(runs_dir / "a" / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(record) + "\n")
    page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=5))
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert "ring-2d" in page.inner_text("pre.config")


def test_health_verdicts_and_the_eval_report_are_shown(page, url, runs_dir):
    verdict = {"kind": "event", "event": "diagnosis", "code": "d_overpowers_g"}
    verdict |= {"severity": "warning", "step": 20, "evidence": "d_acc 0.99", "remedy": "R1"}
    with open(runs_dir / "a" / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(verdict) + "\n")
    (runs_dir / "a" / "eval.json").write_text(json.dumps({"metrics": {"fid": 12.5}}))
    page.goto(url)
    page.locator('tr[data-run="a"] td.health-warning').wait_for()
    page.goto(f"{url}#/run/a")
    page.locator("#health tr.health-warning").wait_for()
    assert "d_acc 0.99" in page.inner_text("#health")
    page.get_by_text("metrics.fid").wait_for()


def test_the_reference_band_is_drawn_behind_the_curves_it_has(page, url):
    page.goto(f"{url}#/run/a")
    page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=4).replace("===", ">="))
    d_loss = page.locator('.chart[data-stat="d_loss"]')
    assert d_loss.get_attribute("data-band") == "ring-2d"
    assert d_loss.get_attribute("data-series") == "4"  # 90 %, 10 %, median, the run's own
    g_loss = page.locator('.chart[data-stat="g_loss"]')
    assert g_loss.get_attribute("data-band") is None and g_loss.get_attribute("data-series") == "1"
    assert "10–90 % of healthy ring-2d runs (seeds 0, 1, 2)" in page.inner_text("#band-note")


def test_the_sample_slider_changes_the_image(page, url):
    page.goto(f"{url}#/run/a")
    page.wait_for_function("document.querySelector('.samples img').src.includes('step_00000020')")
    page.locator(".samples input[type=range]").fill("0")
    page.wait_for_function("document.querySelector('.samples img').src.includes('step_00000010')")
    page.wait_for_function("document.querySelector('.samples img').naturalWidth > 0")
    assert page.locator(".samples img").get_attribute("src").endswith("step_00000010.png")


def test_the_compare_view_overlays_two_runs(page, url, runs_dir):
    shutil.copytree(runs_dir / "a", runs_dir / "b")
    config = runs_dir / "b" / "config.yaml"
    config.write_text(config.read_text().replace("seed: 0", "seed: 7"))
    (runs_dir / "b" / "eval.json").write_text(json.dumps({"metrics": {"fid": 30.0}}))
    page.goto(f"{url}#/compare/a,b?stat=d_loss")
    page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=4).replace("===", ">="))
    legend = page.inner_text(".chart .u-legend")
    assert "a" in legend and "b" in legend
    page.locator("#config-diff tr.differs").first.wait_for()
    assert "seed" in page.inner_text("#config-diff")
    page.locator("#eval-compare").wait_for()
    assert "metrics.fid" in page.inner_text("#eval-compare")


def test_a_run_with_broken_files_still_renders(page, url):
    page.goto(f"{url}#/run/broken")
    page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=1))
    assert "no readable config.yaml" not in page.inner_text("pre.config")
    assert "no eval.json" in page.inner_text("body")


def test_a_resume_seen_live_redraws_the_curves_without_the_superseded_steps(page, url, runs_dir):
    page.goto(f"{url}#/run/a")
    page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=5))  # 5, 10, 15, 20 and 25
    records = [
        {"kind": "event", "schema": 2, "event": "resume", "step": 15},
        {"kind": "train", "schema": 2, "step": 20, "d_loss": 0.75, "g_loss": 1.0},
    ]
    with open(runs_dir / "a" / "metrics.jsonl", "a") as handle:
        handle.write("".join(json.dumps(record) + "\n" for record in records))
    page.wait_for_function(CURVE_HAS.format(stat="d_loss", points=4))  # 25 is superseded
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
