"""``gankit playground`` over HTTP: sessions built on gankit's Trainer, stepped one player or
one iteration at a time, played, changed live, drawn on, exported (YAML that ``gankit
train`` retrains to the same weights, a run directory gankit loads and resumes), loaded
back; sessions are independent, bounded in number and stopped when idle; bad input gets
400 and one line."""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from gankit.api import load, resume, train
from gankit.app.playground import make_server
from gankit.app.playground.scenes import SCENES
from gankit.app.playground.settings import base_config, settings_of, with_settings
from gankit.app.playground.views import MANIFOLD_NODES, SHOWN, SURFACE_CELLS
from gankit.cli import main
from gankit.config import validate
from gankit.lab.bilinear import alternating_invariant
from gankit.lab.optimal_d import DATA as OPTIMAL_D_DATA
from gankit.objectives import OBJECTIVES
from gankit.train.rundir import RunDir
from gankit.train.trainer import Trainer

SMALL = {"nets": {"width": 16, "depth": 2}, "batch_size": 64, "seed": 3}
"""Settings of a quick session."""


def serve(tmp_path: Path, **options):
    server = make_server(port=0, runs_dir=tmp_path / "runs", **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A playground on a free port of 127.0.0.1, serving from a thread."""
    server = serve(tmp_path_factory.mktemp("playground"), max_sessions=50)
    yield server
    server.shutdown()
    server.server_close()


def request(server, method: str, path: str, body=None, raw: bytes | None = None):
    """(status, headers, body bytes) of one request."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=60)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def call(server, method: str, path: str, body=None):
    status, _, payload = request(server, method, path, body)
    assert status == 200, payload
    return json.loads(payload)


def refused(server, method: str, path: str, body=None, raw=None, status=400) -> str:
    """The one-line error of a refused request."""
    got, headers, payload = request(server, method, path, body, raw)
    assert got == status, payload
    assert headers["Content-Type"] == "application/json"
    message = json.loads(payload)["error"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


def create(server, body=None) -> tuple[str, dict]:
    answer = call(server, "POST", "/api/sessions", {} if body is None else body)
    return answer["id"], answer


def act(server, sid: str, action: str, **extra) -> dict:
    return call(server, "POST", f"/api/sessions/{sid}/control", {"action": action, **extra})[
        "frame"
    ]


def trainer_of(server, sid: str) -> Trainer:
    return server.sessions.get(sid).trainer


def weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- options and the first frame -------------------------------------------------------------


def test_options_come_from_the_registries_and_the_base_config(server):
    options = call(server, "GET", "/api/options")
    data = {entry["name"]: entry["dim"] for entry in options["data"]}
    for name in ("bimodal1d", "gmm1d", "normal1d"):
        assert data[name] == 1
    for name in ("ring", "grid", "moons", "spiral", "swissroll", "drawn"):
        assert data[name] == 2
    objectives = {entry["name"]: entry for entry in options["objectives"]}
    assert list(objectives) == OBJECTIVES.names()
    assert objectives["wasserstein"]["divergence"] == "w1"
    assert objectives["nonsaturating"]["divergence"] == "js"
    assert objectives["relativistic"]["divergence"] is None
    assert objectives["fgan"]["options"]["divergence"] == "js"
    assert [r["name"] for r in options["regularisers"]] == [
        "weight_clip",
        "gradient_penalty",
        "r1",
        "r2",
        "consistency",
        "instance_noise",
        "spectral_norm",
        "minibatch_discrimination",
        "packing",
    ]
    assert options["optimisers"] == ["adam", "rmsprop", "sgd"]
    assert [s["name"] for s in options["scenes"]] == list(SCENES)
    assert all(s["watch"].endswith(").") or s["watch"].endswith(".") for s in options["scenes"])
    assert options["defaults"] == {**settings_of(base_config()), "scene": None}


def test_a_new_session_shows_step_zero_of_the_ring(server):
    sid, answer = create(server)
    frame = answer["frame"]
    assert answer["settings"]["data"]["name"] == "ring"
    assert (frame["iteration"], frame["d_updates"], frame["g_updates"]) == (0, 0, 0)
    assert frame["dim"] == 2 and frame["playing"] is False
    xmin, xmax, ymin, ymax = frame["bounds"]
    real = torch.tensor(frame["real"])
    assert real.shape == (SHOWN, 2)
    # the ring (radius 1, σ = 0.01) lies inside the view, with a margin
    assert xmin < -1.1 and xmax > 1.1 and ymin < -1.1 and ymax > 1.1
    assert real.norm(dim=1).sub(1).abs().max() < 0.06
    assert len(frame["fake"]) == len(frame["arrows"]) == SHOWN
    surface = frame["surface"]
    assert (surface["nx"], surface["ny"], surface["kind"]) == (64, 64, "probability")
    assert len(surface["values"]) == SURFACE_CELLS**2
    assert all(0 < v < 1 for v in surface["values"])
    manifold = frame["manifold"]
    assert len(manifold["points"]) == MANIFOLD_NODES**2
    assert len(manifold["density"]) == (MANIFOLD_NODES - 1) ** 2
    assert frame["curves1d"] is None
    assert frame["history"]["divergence"] == "js"


def test_the_arrows_are_the_negative_gradient_of_gs_loss_at_each_point(server):
    sid, answer = create(server, {"settings": SMALL})
    trainer = trainer_of(server, sid)
    frame = answer["frame"]
    fake = torch.tensor(frame["fake"]).requires_grad_(True)
    with torch.enable_grad():
        loss = torch.nn.functional.softplus(-trainer.discriminator(fake)).sum()  # −log D
        (gradient,) = torch.autograd.grad(loss, fake)
    arrows = torch.tensor(frame["arrows"])
    torch.testing.assert_close(arrows, -gradient, atol=2e-4, rtol=1e-2)


# -- stepping --------------------------------------------------------------------------------


def test_step_d_moves_d_alone_and_counts_one_discriminator_update(server):
    sid, _ = create(server, {"settings": SMALL})
    trainer = trainer_of(server, sid)
    g, d = weights(trainer.generator), weights(trainer.discriminator)
    frame = act(server, sid, "step_d")
    assert (frame["iteration"], frame["d_updates"], frame["g_updates"]) == (0, 1, 0)
    assert same(weights(trainer.generator), g)
    assert not same(weights(trainer.discriminator), d)


def test_step_g_moves_g_alone_and_counts_one_generator_update(server):
    sid, _ = create(server, {"settings": SMALL})
    act(server, sid, "step_d")
    trainer = trainer_of(server, sid)
    g, d = weights(trainer.generator), weights(trainer.discriminator)
    frame = act(server, sid, "step_g")
    assert (frame["iteration"], frame["d_updates"], frame["g_updates"]) == (1, 1, 1)
    assert same(weights(trainer.discriminator), d)
    assert not same(weights(trainer.generator), g)


def test_step_is_one_gankit_training_iteration(server):
    settings = {**SMALL, "d_steps": 2}
    sid, _ = create(server, {"settings": settings})
    frame = act(server, sid, "step")
    assert (frame["iteration"], frame["d_updates"], frame["g_updates"]) == (1, 2, 1)
    session = server.sessions.get(sid)
    reference = Trainer(session.config, RunDir("unused"), progress=False)
    reference.train_step()
    assert same(weights(reference.generator), weights(session.trainer.generator))
    assert same(weights(reference.discriminator), weights(session.trainer.discriminator))


def test_play_trains_until_pause_and_frames_can_be_waited_for(server):
    sid, answer = create(server, {"settings": SMALL})
    first = act(server, sid, "play")
    assert first["playing"] is True
    newer = call(server, "GET", f"/api/sessions/{sid}/frame?after={first['frame_no']}")
    assert newer["frame_no"] > first["frame_no"]
    deadline = time.monotonic() + 30
    while call(server, "GET", f"/api/sessions/{sid}/frame?after=0")["iteration"] < 5:
        assert time.monotonic() < deadline, "play made fewer than 5 iterations in 30 s"
    paused = act(server, sid, "pause")
    assert paused["playing"] is False and paused["iteration"] >= 5
    assert paused["d_updates"] == paused["iteration"]  # k = 1
    history = paused["history"]
    assert len(history["iteration"]) >= 2 and history["iteration"] == sorted(history["iteration"])
    assert all(0 <= v <= math.log(2) + 1e-9 for v in history["exact"] if v is not None)
    time.sleep(0.2)
    assert trainer_of(server, sid).step == paused["iteration"]  # nothing trains while paused


def test_a_slow_speed_trains_fewer_iterations_per_second(server):
    fast, _ = create(server, {"settings": SMALL})
    slow, _ = create(server, {"settings": SMALL})
    act(server, fast, "play")
    act(server, slow, "play", speed=0.05)
    time.sleep(2.0)
    done = {sid: act(server, sid, "pause")["iteration"] for sid in (fast, slow)}
    assert done[slow] * 4 < done[fast]


# -- live settings ---------------------------------------------------------------------------


def test_objective_regulariser_learning_rate_and_k_change_live(server):
    sid, _ = create(server, {"settings": SMALL})
    act(server, sid, "step")
    changes = {
        "objective.name": "wasserstein",
        "regularisers.gradient_penalty.weight": 5,
        "lr_d": 2e-4,
        "lr_g": 3e-4,
        "d_steps": 3,
    }
    answer = call(server, "POST", f"/api/sessions/{sid}/settings", {"changes": changes})
    assert "reset" not in answer
    assert answer["frame"]["iteration"] == 1  # not reset
    assert answer["frame"]["surface"]["kind"] == "critic"
    settings = answer["settings"]
    assert settings["objective"]["name"] == "wasserstein"
    assert settings["regularisers"]["gradient_penalty"]["weight"] == 5
    assert (settings["lr_d"], settings["lr_g"], settings["d_steps"]) == (2e-4, 3e-4, 3)
    trainer = trainer_of(server, sid)
    assert trainer.objective.name == "wasserstein" and trainer.objective.divergence == "w1"
    assert trainer.task.config.regularisers.gradient_penalty.weight == 5
    frame = act(server, sid, "step")
    assert (frame["iteration"], frame["d_updates"]) == (2, 1 + 3)
    assert trainer.state.optimizers["discriminator"].param_groups[0]["lr"] == 2e-4
    assert trainer.state.optimizers["generator"].param_groups[0]["lr"] == 3e-4
    assert frame["history"]["divergence"] == "w1"
    # the penalty is in D's loss: one D update with it equals the loss plus 5 · GP
    stats = trainer.train_part("discriminator")
    assert stats["penalty/gradient_penalty"] > 0

    answer = call(
        server, "POST", f"/api/sessions/{sid}/settings", {"changes": {"optimiser": "sgd"}}
    )
    assert "reset" not in answer
    assert isinstance(trainer.state.optimizers["generator"], torch.optim.SGD)
    assert trainer.state.optimizers["discriminator"].param_groups[0]["lr"] == 2e-4


def test_a_change_that_needs_new_networks_resets_the_session(server):
    sid, _ = create(server, {"settings": SMALL})
    act(server, sid, "step")
    answer = call(
        server,
        "POST",
        f"/api/sessions/{sid}/settings",
        {"changes": {"nets.width": 8, "regularisers.spectral_norm": {}}},
    )
    assert answer["reset"] is True
    assert answer["frame"]["iteration"] == 0
    trainer = trainer_of(server, sid)
    assert trainer.discriminator.body[1].parametrizations.weight.original.shape == (8, 2)
    assert any("reset to step 0" in note for note in answer["frame"]["notes"])


def test_drawn_points_are_what_d_sees_as_real(server):
    sid, _ = create(server, {"settings": SMALL})
    angles = torch.arange(20) * 2 * math.pi / 20
    points = (3 * torch.stack([angles.cos(), angles.sin()], 1)).tolist()
    answer = call(server, "POST", f"/api/sessions/{sid}/data", {"points": points})
    assert answer["reset"] is True
    data = answer["settings"]["data"]
    assert data["name"] == "drawn" and data["points"] == [list(p) for p in points]
    jitter = data["jitter"]
    drawn = torch.tensor(points)

    def off_the_drawing(x: torch.Tensor) -> float:
        return float(torch.cdist(x.double(), drawn.double()).min(dim=1).values.max())

    frame = answer["frame"]
    assert off_the_drawing(torch.tensor(frame["real"])) < 6 * jitter
    trainer = trainer_of(server, sid)
    seen = []
    hook = trainer.discriminator.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    try:
        act(server, sid, "step_d")
    finally:
        hook.remove()
    real = seen[0]  # D's first call of an update scores the real batch
    assert real.shape == (SMALL["batch_size"], 2)
    assert off_the_drawing(real) < 6 * jitter
    assert off_the_drawing(seen[1]) > 6 * jitter  # the fakes of an untrained G are elsewhere


def test_gankit_train_takes_the_drawing_from_the_exported_yaml(server, tmp_path):
    sid, _ = create(server, {"settings": SMALL})
    points = [[x / 4, (x % 5) / 2] for x in range(16)]
    call(server, "POST", f"/api/sessions/{sid}/data", {"points": points})
    act(server, sid, "step")
    _, _, text = request(server, "GET", f"/api/sessions/{sid}/export.yaml")
    path = tmp_path / "drawn.yaml"
    path.write_bytes(text)
    run = train(str(path), run_dir=tmp_path / "drawn", progress=False)
    assert run.config.data.points == [tuple(p) for p in points]
    assert same(weights(run.generator), weights(trainer_of(server, sid).generator))


# -- export and load -------------------------------------------------------------------------


def test_the_exported_yaml_retrains_to_the_same_weights(server, tmp_path):
    settings = {
        **SMALL,
        "objective": {"name": "wasserstein"},
        "regularisers": {"gradient_penalty": {"weight": 1.0}, "instance_noise": {"std": 0.05}},
        "d_steps": 2,
    }
    config = with_settings(base_config(), settings).to_dict()
    config["log"]["every"] = 4  # gankit train's logging callbacks run on the way
    config.pop("preset")
    sid, _ = create(server)
    loaded = call(server, "POST", f"/api/sessions/{sid}/load", {"yaml": yaml.safe_dump(config)})
    assert loaded["settings"]["regularisers"]["gradient_penalty"]["weight"] == 1.0
    other, _ = create(server, {"settings": settings})
    act(server, sid, "step")
    act(server, sid, "play")
    for _ in range(3):  # another session trains, drawing from torch's generator, meanwhile
        act(server, other, "step")
    time.sleep(0.5)
    frame = act(server, sid, "pause")
    steps = frame["iteration"]
    assert steps > 4
    status, headers, text = request(server, "GET", f"/api/sessions/{sid}/export.yaml")
    assert status == 200 and headers["Content-Type"].startswith("text/yaml")
    assert "X-Gankit-Note" not in headers and b"# note" not in text
    exported = yaml.safe_load(text)
    assert exported["train"]["steps"] == steps and "preset" not in exported
    path = tmp_path / "playground.yaml"
    path.write_bytes(text)
    run = train(str(path), run_dir=tmp_path / "retrained", progress=False)
    session = trainer_of(server, sid)
    assert run.step == steps
    assert same(weights(run.generator), weights(session.generator))
    assert same(weights(run.discriminator), weights(session.discriminator))


def test_a_session_stepped_by_player_exports_with_a_note(server):
    sid, _ = create(server, {"settings": SMALL})
    act(server, sid, "step_d")
    status, headers, text = request(server, "GET", f"/api/sessions/{sid}/export.yaml")
    assert status == 200
    assert "not the weights" in headers["X-Gankit-Note"]
    assert text.startswith(b"# note: ")
    validate(yaml.safe_load(text))


def test_export_run_writes_a_run_gankit_loads_and_resumes_exactly(server):
    sid, _ = create(server, {"settings": {**SMALL, "regularisers": {"r1": {"gamma": 0.5}}}})
    for _ in range(3):
        act(server, sid, "step")
    path = Path(call(server, "POST", f"/api/sessions/{sid}/export-run")["path"])
    assert path.parent == server.sessions.runs_dir
    assert (path / "config.yaml").is_file() and (path / "metrics.jsonl").is_file()
    run = load(path)
    assert run.step == 3
    samples = run.sample(8, seed=1)
    assert samples.shape == (8, 2) and torch.isfinite(samples).all()
    trainer = trainer_of(server, sid)
    assert same(weights(run.generator), weights(trainer.generator))
    # resuming the run two more steps is the session stepped twice more
    resumed = resume(path, {"train.steps": 5}, progress=False)
    act(server, sid, "step")
    act(server, sid, "step")
    assert same(weights(resumed.generator), weights(trainer.generator))
    assert same(weights(resumed.discriminator), weights(trainer.discriminator))


def test_a_config_loads_back_into_a_session(server):
    sid, _ = create(server, {"settings": {**SMALL, "data": {"name": "grid", "std": 0.1}}})
    act(server, sid, "step")
    _, _, text = request(server, "GET", f"/api/sessions/{sid}/export.yaml")
    other, _ = create(server)
    answer = call(server, "POST", f"/api/sessions/{other}/load", {"yaml": text.decode()})
    assert answer["reset"] is True and answer["frame"]["iteration"] == 0
    settings = answer["settings"]
    assert settings["data"] == {"name": "grid", "size": 5, "spacing": 2.0, "std": 0.1}
    assert (settings["nets"], settings["seed"]) == (SMALL["nets"], 3)
    preset = call(server, "POST", f"/api/sessions/{other}/load", {"yaml": "base: grid-2d\n"})
    assert preset["settings"]["regularisers"]["r1"]["gamma"] == 0.1
    message = refused(server, "POST", f"/api/sessions/{other}/load", {"yaml": "base: dcgan-mnist"})
    assert message.startswith("data.name=mnist5k")
    refused(server, "POST", f"/api/sessions/{other}/load", {"yaml": "base: /etc/passwd"})
    refused(server, "POST", f"/api/sessions/{other}/load", {"yaml": "train: [1"})


# -- sessions --------------------------------------------------------------------------------


def test_two_sessions_are_independent(server):
    a, _ = create(server, {"settings": SMALL})
    b, _ = create(server, {"settings": SMALL})
    before = weights(trainer_of(server, b).discriminator)
    act(server, a, "step")
    call(server, "POST", f"/api/sessions/{a}/settings", {"changes": {"objective.name": "hinge"}})
    assert same(weights(trainer_of(server, b).discriminator), before)
    assert trainer_of(server, b).objective.name == "nonsaturating"
    assert act(server, b, "step")["iteration"] == 1
    assert same(weights(trainer_of(server, a).generator), weights(trainer_of(server, b).generator))
    call(server, "DELETE", f"/api/sessions/{a}")
    refused(server, "GET", f"/api/sessions/{a}/frame", status=404)
    assert act(server, b, "step")["iteration"] == 2


def test_idle_sessions_stop(tmp_path):
    server = serve(tmp_path, idle_minutes=0.05)  # 3 s
    try:
        sid, _ = create(server, {"settings": SMALL})
        session = server.sessions.get(sid)
        act(server, sid, "play")  # playing, but no request from its tab from now on
        deadline = time.monotonic() + 30
        while not session.closed:
            assert time.monotonic() < deadline, "an idle session was not stopped in 30 s"
            time.sleep(0.05)
        assert time.monotonic() - session.last_seen > 3  # not before it had been idle 3 s
        assert not session.playing
        refused(server, "POST", f"/api/sessions/{sid}/control", {"action": "step"}, status=404)
        assert len(server.sessions) == 0
    finally:
        server.shutdown()
        server.server_close()


def test_sessions_beyond_the_maximum_are_refused_and_a_closed_tab_frees_one(tmp_path):
    server = serve(tmp_path, max_sessions=2)
    try:
        first, _ = create(server, {"settings": SMALL})
        create(server, {"settings": SMALL})
        message = refused(server, "POST", "/api/sessions", {})
        assert "2 sessions" in message
        call(server, "POST", f"/api/sessions/{first}/close")  # navigator.sendBeacon on pagehide
        create(server, {"settings": SMALL})
    finally:
        server.shutdown()
        server.server_close()


def test_bad_input_gets_400_and_one_line(server):
    sid, _ = create(server, {"settings": SMALL})
    base = f"/api/sessions/{sid}"
    refused(server, "POST", "/api/sessions", raw=b"{not json")
    refused(server, "POST", "/api/sessions", raw=b"[1, 2]")
    refused(server, "POST", "/api/sessions", {"scene": "nope"})
    refused(server, "POST", "/api/sessions", {"settings": {"lr_g": -1}})
    refused(server, "POST", "/api/sessions", {"settings": {"data": {"name": "mnist5k"}}})
    refused(server, "POST", "/api/sessions", {"settings": {"nets": {"width": 100_000}}})
    refused(server, "POST", f"{base}/control", {"action": "jump"})
    refused(server, "POST", f"{base}/control", {"action": "play", "speed": 5})
    refused(server, "POST", f"{base}/settings", {"changes": {"lr_d": "fast"}})
    refused(server, "POST", f"{base}/settings", {"changes": {"no.such.key": 1}})
    refused(server, "POST", f"{base}/settings", {"changes": {}})
    refused(server, "POST", f"{base}/settings", {"changes": {"scene.theta": 1}})
    refused(server, "POST", f"{base}/data", {"points": [[0, 0]] * 3})
    refused(server, "POST", f"{base}/data", {"points": [[0, "x"]] * 20})
    refused(server, "GET", f"{base}/frame?after=soon")
    refused(server, "GET", "/api/sessions/0000/frame", status=404)
    refused(server, "GET", "/nowhere", status=404)
    assert act(server, sid, "step")["iteration"] == 1  # the session still works


# -- scenes ----------------------------------------------------------------------------------


def test_every_scene_starts_steps_and_says_what_to_watch(server):
    for name, scene in SCENES.items():
        sid, answer = create(server, {"scene": name})
        assert answer["settings"]["scene"] == {"name": name, **scene.parameters}
        frame = act(server, sid, "step")
        assert frame["scene"]["name"] == name and frame["scene"]["watch"] == scene.watch
        assert frame["d_updates"] >= 1
        call(server, "DELETE", f"/api/sessions/{sid}")


def test_the_optimal_d_scene_holds_g_at_the_labs_model(server):
    sid, answer = create(server, {"scene": "optimal-d"})
    assert answer["settings"]["data"] == {
        "name": "bimodal1d",
        "weights": OPTIMAL_D_DATA.weights.tolist(),
        "means": OPTIMAL_D_DATA.modes[:, 0].tolist(),
        "stds": OPTIMAL_D_DATA.component_stds[:, 0].tolist(),
    }
    g = weights(trainer_of(server, sid).generator)
    frame = act(server, sid, "step")
    assert (frame["iteration"], frame["d_updates"]) == (0, 1)  # D alone
    assert same(weights(trainer_of(server, sid).generator), g)
    curves = frame["curves1d"]
    assert len(curves["x"]) == len(curves["d_star"]) == 200
    # D* = p_data/(p_data + p_G) of the curves sent
    for p, q, d in zip(curves["p_data"], curves["p_g"], curves["d_star"], strict=True):
        if p + q > 0.05:  # the values sent have 4 decimals
            assert d == pytest.approx(p / (p + q), abs=2e-3)


def test_dragging_theta_moves_gs_segment_and_w1_follows_it(server):
    sid, _ = create(server, {"scene": "js-vs-w"})
    for theta in (0.8, -0.4):
        answer = call(
            server, "POST", f"/api/sessions/{sid}/settings", {"changes": {"scene.theta": theta}}
        )
        assert answer["settings"]["scene"]["theta"] == theta
        fake = torch.tensor(answer["frame"]["fake"])
        assert fake[:, 0].sub(theta).abs().max() < 0.01
        assert 0 <= fake[:, 1].min() and fake[:, 1].max() <= 1
    answer = call(
        server,
        "POST",
        f"/api/sessions/{sid}/settings",
        {"changes": {"objective.name": "wasserstein", "regularisers.gradient_penalty": {}}},
    )
    frame = act(server, sid, "step")
    assert frame["history"]["divergence"] == "w1"
    assert frame["history"]["exact"][-1] == pytest.approx(0.4, abs=0.05)  # W1 = |θ|


@pytest.mark.slow
def test_js_gives_g_no_slope_once_d_separates_the_segments(server):
    """The js-vs-w scene's claim: as D separates the segments its JS estimate climbs to
    log 2 and, under the minimax loss, G's gradient −σ(D(x))∇D(x) vanishes with D(G(z)) → 0,
    while the non-saturating loss's grows (Arjovsky et al. 2017, Example 1 and §2.2)."""
    medians = {}
    for objective in ("minimax", "nonsaturating"):
        sid, first = create(server, {"scene": "js-vs-w"})
        assert first["settings"]["objective"]["name"] == "minimax"
        changes = {"objective.name": objective}
        call(server, "POST", f"/api/sessions/{sid}/settings", {"changes": changes})
        for update in range(1, 601):
            frame = act(server, sid, "step_d")
            if update in (50, 600):
                medians[objective, update] = torch.tensor(frame["arrows"]).norm(dim=1).median()
        assert frame["history"]["estimate"][-1] == pytest.approx(math.log(2), abs=0.01)
    assert medians["minimax", 600] < 0.02 * medians["minimax", 50]
    assert medians["nonsaturating", 600] > 2 * medians["nonsaturating", 50]


def test_the_bilinear_scene_traces_gs_point_and_ds_slope(server):
    sid, _ = create(server, {"scene": "bilinear"})
    for _ in range(20):
        frame = act(server, sid, "step")
    trace = frame["scene"]["trace"]
    assert len(trace) == 21 and trace[0] == [1.0, 0.0]
    # alternating steps with η = 0.1, data at 0: ψ ← ψ − ηθ, then θ ← θ + ηψ
    theta, psi = trace[1]
    assert (theta, psi) == (pytest.approx(0.99, abs=1e-3), pytest.approx(-0.1, abs=1e-3))
    # … which keep ψ² + θ² − ηψθ (gankit.lab.bilinear): the game circles, never settles
    points = np.array([[p, t] for t, p in trace])
    invariant = alternating_invariant(points, 0.1)
    assert np.abs(invariant - 1.0).max() < 5e-3
    assert np.hypot(points[:, 0], points[:, 1]).min() > 0.9
    message = refused(server, "POST", f"/api/sessions/{sid}/export-run")
    assert "export its YAML" in message


# -- the command line ------------------------------------------------------------------------


def test_the_command_refuses_bad_options_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_code:
        main(["playground", "--max-sessions", "0"])
    assert exit_code.value.code == 2
    assert "at least 1" in capsys.readouterr().err
