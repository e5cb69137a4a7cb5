"""The playground page in headless Chromium (Debian's ``chromium``, driven by Playwright),
against a playground server on a free port: the page opens a session, play moves the
generated points, the single steps change one player each, live changes of the game
(objective, its options, a regulariser, a learning rate, a scene's parameter) take effect,
drawn points become the real data, tabs keep their own sessions and the YAML export is a
gankit config of the session. Values are read from the page's counters and
from the frames it received (``window.playground``), never guessed from waiting. Skipped
where Playwright or Chromium is not installed."""

from __future__ import annotations

import math
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gankit.config import resolve

playwright = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 800}

FRAME = "window.playground.lastFrame"
READY = f"{FRAME} !== null && window.playground.busy === 0"
"""A page condition: the session is open and no request of the page is pending."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A playground server on a free port of 127.0.0.1, serving from a thread."""
    from gankit.app.playground import make_server

    server = make_server(port=0, runs_dir=tmp_path_factory.mktemp("playground") / "runs")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


class Tab:
    """One browser tab on the playground, with the console errors it logged."""

    def __init__(self, context, url: str) -> None:
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.goto(url)
        self.page.wait_for_function(READY)

    def frame(self) -> dict:
        return self.page.evaluate(FRAME)

    def value(self, expression: str):
        return self.page.evaluate(expression)

    def counter(self, name: str) -> int:
        return int(self.page.get_attribute(f"#{name}", "data-value"))

    def pause(self) -> None:
        self.page.click("#play")
        self.page.wait_for_function(f"{READY} && {FRAME}.playing === false")


@pytest.fixture
def open_tab(browser, server):
    """Opens tabs on the playground (each its own session); fails the test when a tab
    logged a console error."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    tabs: list[Tab] = []

    def open_one() -> Tab:
        tabs.append(Tab(context, server.url))
        return tabs[-1]

    yield open_one
    errors = [error for tab in tabs for error in tab.errors]
    context.close()
    assert errors == []


def session_alive(server, session: str) -> bool:
    try:
        with urllib.request.urlopen(f"{server.url}api/sessions/{session}/frame?after=-1") as reply:
            return reply.status == 200
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return False
        raise


def largest_change(before: list, after: list) -> float:
    """The largest absolute difference between two equally long nested lists of numbers."""
    flat_before = [v for item in before for v in (item if isinstance(item, list) else [item])]
    flat_after = [v for item in after for v in (item if isinstance(item, list) else [item])]
    assert len(flat_before) == len(flat_after)
    return max(abs(a - b) for a, b in zip(flat_before, flat_after, strict=True))


MOVED = 1e-3
"""A generated point or a surface value counts as changed when it moved by more than this
(the view spans units, so one update of a fresh net at a learning rate of 1e-3 moves them
by 1e-3 to 1e-1)."""


def test_the_page_opens_a_session_and_shows_its_settings(open_tab, server):
    tab = open_tab()
    frame = tab.frame()
    options = tab.value("window.playground.options")
    settings = tab.value("window.playground.settings")
    assert session_alive(server, tab.value("window.playground.sessionId"))
    assert frame["iteration"] == tab.counter("iteration") == 0
    assert tab.counter("d-updates") == tab.counter("g-updates") == 0
    assert tab.page.locator("#scenes li").count() == len(options["scenes"])
    assert tab.page.input_value("#data") == settings["data"]["name"]
    assert tab.page.input_value("#objective") == settings["objective"]["name"]
    assert float(tab.page.input_value("#lr_g")) == settings["lr_g"]
    assert len(frame["real"]) > 0 and len(frame["fake"]) > 0


def test_play_moves_the_generated_points_and_pause_stops_them(open_tab):
    tab = open_tab()
    start = tab.frame()
    tab.page.click("#play")
    tab.page.wait_for_function(f"{FRAME}.playing && {FRAME}.iteration >= 20")
    assert tab.page.get_attribute("#play", "data-playing") == "true"
    tab.pause()
    paused = tab.frame()
    assert paused["iteration"] == tab.counter("iteration") >= 20
    assert largest_change(start["fake"], paused["fake"]) > MOVED
    tab.page.wait_for_timeout(300)
    assert tab.frame()["iteration"] == paused["iteration"]


def test_step_d_moves_only_the_surface_and_step_g_only_the_points(open_tab):
    """One discriminator update leaves G's points as they were; one generator update leaves
    D's surface; the counters say which: D updates, or G updates (which are the
    iterations); a whole step is k D updates and one G update."""
    tab = open_tab()
    before = tab.frame()
    k = tab.value("window.playground.settings.d_steps")

    tab.page.click("#step-d")
    tab.page.wait_for_function(f"{FRAME}.d_updates === {before['d_updates'] + 1}")
    after_d = tab.frame()
    assert (after_d["iteration"], after_d["g_updates"]) == (
        before["iteration"],
        before["g_updates"],
    )
    assert tab.counter("d-updates") == before["d_updates"] + 1
    assert tab.counter("g-updates") == before["g_updates"]
    assert after_d["fake"] == before["fake"]
    assert largest_change(before["surface"]["values"], after_d["surface"]["values"]) > MOVED

    tab.page.click("#step-g")
    tab.page.wait_for_function(f"{FRAME}.g_updates === {before['g_updates'] + 1}")
    after_g = tab.frame()
    assert after_g["d_updates"] == after_d["d_updates"]
    assert tab.counter("g-updates") == before["g_updates"] + 1
    assert tab.counter("d-updates") == after_d["d_updates"]
    assert after_g["surface"]["values"] == after_d["surface"]["values"]
    assert largest_change(after_d["fake"], after_g["fake"]) > MOVED

    tab.page.click("#step")
    tab.page.wait_for_function(f"{FRAME}.iteration === {after_g['iteration'] + 1}")
    whole = tab.frame()
    assert whole["d_updates"] == after_g["d_updates"] + k
    assert whole["g_updates"] == after_g["g_updates"] + 1
    assert tab.counter("iteration") == after_g["iteration"] + 1


def test_the_objective_and_the_learning_rate_change_while_it_plays(open_tab):
    tab = open_tab()
    assert tab.frame()["surface"]["kind"] == "probability"
    assert tab.frame()["history"]["divergence"] == "js"
    tab.page.click("#play")
    tab.page.wait_for_function(f"{FRAME}.iteration >= 5")
    tab.page.select_option("#objective", "wasserstein")
    tab.page.wait_for_function(
        f"{FRAME}.surface.kind === 'critic' && {FRAME}.history.divergence === 'w1'"
    )
    tab.page.fill("#lr_g", "0.0005")
    tab.page.press("#lr_g", "Enter")
    tab.page.wait_for_function("window.playground.settings.lr_g === 0.0005")
    switched = tab.frame()["iteration"]
    tab.page.wait_for_function(f"{FRAME}.iteration >= {switched + 5}")
    tab.pause()
    assert tab.value("window.playground.settings.objective.name") == "wasserstein"
    assert tab.frame()["playing"] is False
    assert tab.frame()["iteration"] >= switched + 5  # no reset: the run went on


def test_an_objective_option_reaches_the_session_and_its_chart(open_tab):
    """f-GAN's divergence, typed into the option field the page shows for it: the session
    takes it and the divergence chart names what D now estimates."""
    tab = open_tab()
    tab.page.select_option("#objective", "fgan")
    field = tab.page.locator('input[name="objective.divergence"]')
    field.wait_for()
    field.fill("kl")
    field.press("Enter")
    tab.page.wait_for_function(
        f"{READY} && window.playground.settings.objective.divergence === 'kl'"
    )
    tab.page.click("#step")
    tab.page.wait_for_function(f"{FRAME}.iteration === 1 && {FRAME}.history.divergence === 'kl'")
    title = tab.page.locator('.chart[data-chart="divergence"] .title')
    assert title.inner_text() == "KL: D's estimate and the exact value"


def test_adding_a_regulariser_mid_session_changes_the_next_update(open_tab):
    """Two tabs from the same settings and seed start with the same networks and batches,
    so one discriminator update each leaves the same critic, unless one tab added a
    gradient penalty (weight 100) after the sessions opened."""
    plain, penalised = open_tab(), open_tab()
    for tab in (plain, penalised):
        tab.page.select_option("#objective", "wasserstein")
        tab.page.wait_for_function(f"{READY} && {FRAME}.surface.kind === 'critic'")
    assert plain.frame()["surface"]["values"] == penalised.frame()["surface"]["values"]
    row = penalised.page.locator('.reg[data-reg="gradient_penalty"]')
    row.locator("input[type=checkbox]").check()
    row.locator("input[data-option=weight]").fill("100")
    row.locator("input[data-option=weight]").press("Enter")
    penalised.page.wait_for_function(
        f"{READY} && window.playground.settings.regularisers.gradient_penalty?.weight === 100"
    )
    assert plain.value("window.playground.settings.regularisers.gradient_penalty") is None
    for tab in (plain, penalised):
        tab.page.click("#step-d")
        tab.page.wait_for_function(f"{FRAME}.d_updates === 1")
    assert plain.frame()["fake"] == penalised.frame()["fake"]
    surfaces = [tab.frame()["surface"]["values"] for tab in (plain, penalised)]
    assert largest_change(*surfaces) > MOVED


def test_a_scene_shows_what_to_watch_and_its_slider_moves_g(open_tab):
    """The JS-vs-W scene: G is the segment {θ} × [0, 1]; dragging θ moves its points."""
    tab = open_tab()
    tab.page.click('#scenes li[data-scene="js-vs-w"] button')
    tab.page.wait_for_function(f"{READY} && {FRAME}.scene?.name === 'js-vs-w'")
    watch = tab.value("window.playground.options.scenes.find((s) => s.name === 'js-vs-w').watch")
    assert tab.page.inner_text("#scenes li.chosen .scene-watch") == watch
    theta = tab.value("window.playground.settings.scene.theta")
    fake_x = [x for x, _ in tab.frame()["fake"]]
    assert sum(fake_x) / len(fake_x) == pytest.approx(theta, abs=0.01)
    tab.page.fill('input[data-parameter="theta"]', "-0.4")
    tab.page.wait_for_function(f"{READY} && window.playground.settings.scene.theta === -0.4")
    fake_x = [x for x, _ in tab.frame()["fake"]]
    assert sum(fake_x) / len(fake_x) == pytest.approx(-0.4, abs=0.01)


def test_drawn_points_become_the_real_data(open_tab):
    tab = open_tab()
    tab.page.select_option("#data", "drawn")
    box = tab.page.locator("#view").bounding_box()
    # Two strokes: a horizontal one across the upper left and a short vertical one.
    strokes = [((0.25, 0.25), (0.45, 0.25)), ((0.7, 0.4), (0.7, 0.55))]
    for (ax, ay), (bx, by) in strokes:
        tab.page.mouse.move(box["x"] + ax * box["width"], box["y"] + ay * box["height"])
        tab.page.mouse.down()
        tab.page.mouse.move(box["x"] + bx * box["width"], box["y"] + by * box["height"], steps=25)
        tab.page.mouse.up()
    drawn = tab.value("window.playground.drawnPoints")
    assert len(drawn) >= 16
    assert int(tab.page.get_attribute("#drawn-count", "data-value")) == len(drawn)
    tab.page.click("#use-drawn")
    tab.page.wait_for_function(f"{READY} && window.playground.settings.data.name === 'drawn'")
    real = tab.frame()["real"]
    span = max(p[0] for p in drawn) - min(p[0] for p in drawn)
    near = sum(min(math.dist(r, d) for d in drawn) < 0.1 * span for r in real)
    assert near >= 0.95 * len(real)
    assert (
        abs(sum(r[1] for r in real) / len(real) - sum(d[1] for d in drawn) / len(drawn))
        < 0.1 * span
    )


def test_two_tabs_run_independent_sessions(open_tab, server):
    first, second = open_tab(), open_tab()
    ids = first.value("window.playground.sessionId"), second.value("window.playground.sessionId")
    assert ids[0] != ids[1]
    first.page.click("#play")
    first.page.wait_for_function(f"{FRAME}.iteration >= 10")
    second.page.click("#step")
    second.page.wait_for_function(f"{FRAME}.iteration === 1")
    first.pause()
    assert first.frame()["iteration"] >= 10
    assert second.frame()["iteration"] == second.counter("iteration") == 1
    first.page.goto("about:blank")  # pagehide: the tab closes its session
    deadline = 50
    while session_alive(server, ids[0]) and deadline:
        second.page.wait_for_timeout(100)
        deadline -= 1
    assert not session_alive(server, ids[0])
    assert session_alive(server, ids[1])


def test_export_yaml_downloads_a_config_with_the_sessions_settings(open_tab, tmp_path):
    tab = open_tab()
    tab.page.fill("#lr_d", "0.0004")
    tab.page.press("#lr_d", "Enter")
    tab.page.fill("#d_steps", "3")
    tab.page.press("#d_steps", "Enter")
    tab.page.wait_for_function(
        "window.playground.settings.lr_d === 0.0004 && window.playground.settings.d_steps === 3"
    )
    with tab.page.expect_download() as download:
        tab.page.click("#export-yaml")
    path = tmp_path / "session.yaml"
    download.value.save_as(path)
    config = resolve(str(path))
    settings = tab.value("window.playground.settings")
    assert config.data.name == settings["data"]["name"]
    assert config.objective.name == settings["objective"]["name"]
    assert config.train.d_optimizer.lr == 0.0004
    assert config.train.g_optimizer.lr == settings["lr_g"]
    assert config.train.d_steps == 3
    assert config.train.batch_size == settings["batch_size"]
    assert config.noise.dim == settings["z_dim"]
