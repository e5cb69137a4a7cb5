"""One playground session per browser tab: a gankit Trainer, its play loop and its frames.

The Trainer is built from the session's config as ``gankit train`` builds it, with no run
directory written until an export. Every touch of it — a step, a settings change, a frame
— holds the session's lock. A step runs with the session's own state of torch's global
random generator installed (:data:`TORCH_RANDOM` serialises the swap between sessions), so
sessions stay independent and a session stepped with whole iterations draws exactly what
``gankit train`` draws: same seed, same weights.

Playing, a thread of the session trains whole iterations (the discriminator alone in
scenes that hold G) for :data:`FRAME_TRAIN_SECONDS` of each frame, at least one, renders a
frame, and at speed s < 1 waits (1/s − 1) times as long as the frame took. Paused, the
thread waits and costs nothing. :class:`Sessions` bounds their number and stops those idle
for too long.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from gankit import __version__
from gankit.app.playground import settings as playground_settings
from gankit.app.playground.scenes import Scene, scene
from gankit.app.playground.settings import SettingsError
from gankit.app.playground.views import Views
from gankit.config import Config
from gankit.errors import GankitError
from gankit.files import write_text_atomic
from gankit.objectives import build_objective
from gankit.optim import build_optimizer
from gankit.tasks.base import parameters
from gankit.train.callbacks import Callback, MetricsFile
from gankit.train.checkpoint import save_checkpoint
from gankit.train.rundir import RunDir, data_label
from gankit.train.trainer import Trainer, TrainingDiverged
from gankit.viz import save_samples

TORCH_RANDOM = threading.Lock()
"""Held while a session's state of torch's global generator is installed."""

FRAME_TRAIN_SECONDS = 0.025
"""Training time before each frame at full speed (whole iterations, at least one)."""
MIN_SPEED = 0.05
HISTORY_POINTS = 400
CHART_SECONDS = 0.1
"""While playing, the charts gain at most one point in this time (the measures behind a
point cost about a third of a frame)."""
"""Points each chart keeps; older ones are thinned to every other when it fills."""
RECORDS_KEPT = 10_000
"""The training records (one per ``log.every`` steps) a session keeps for its export."""
TRACE_POINTS = 2000
MIN_DRAWN = 16
MAX_DRAWN = 2000
EVENT_NOTES = 3
"""The latest events (a reset, a divergence) a frame repeats in its notes."""


class SessionError(GankitError, ValueError):
    """A request a session cannot carry out (an unknown action, a refused export)."""


class SessionLimit(GankitError, ValueError):
    """More sessions than the server takes."""


class Records(Callback):
    """Keeps the Trainer's logged records (what metrics.jsonl of an export holds)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if len(self.records) < RECORDS_KEPT:
            self.records.append(dict(record))


class History:
    """The charts' columns, one point per chart frame (:meth:`Session._publish`), thinned to
    every other point whenever :data:`HISTORY_POINTS` are reached."""

    COLUMNS = (
        "iteration",
        "d_updates",
        "d_loss",
        "g_loss",
        "estimate",
        "exact",
        "coverage",
        "high_quality",
    )

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {key: [] for key in self.COLUMNS}
        self.divergence: str | None = None
        self.scored = False
        self._stride, self._offered = 1, 0

    def add(self, point: dict[str, Any]) -> None:
        divergence = point.get("divergence")
        if divergence != self.divergence:  # another objective: earlier estimates are of another
            self.columns["estimate"] = [None] * len(self.columns["estimate"])
            self.columns["exact"] = [None] * len(self.columns["exact"])
            self.divergence = divergence
        self.scored = self.scored or point.get("coverage") is not None
        self._offered += 1
        if (self._offered - 1) % self._stride:
            return
        for key in self.COLUMNS:
            self.columns[key].append(_finite(point.get(key)))
        if len(self.columns["iteration"]) >= HISTORY_POINTS:
            for key in self.COLUMNS:
                self.columns[key] = self.columns[key][::2]
            self._stride *= 2

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: list(self.columns[key]) for key in self.COLUMNS}
        out["divergence"] = self.divergence or "js"
        if not self.scored:
            out["coverage"] = out["high_quality"] = None
        return out


class Session:
    """A Trainer for one tab, with its play thread, frames and history."""

    def __init__(
        self,
        session_id: str,
        config: Config,
        chosen: Scene | None = None,
        runs_dir: Path = Path("runs"),
    ) -> None:
        self.id = session_id
        self.runs_dir = Path(runs_dir)
        self.lock = threading.RLock()
        """Held around every use of the Trainer."""
        self.last_seen = time.monotonic()
        self.playing = False
        self.speed = 1.0
        self.frame_no = 0
        self._frame: dict[str, Any] = {}
        self._frame_ready = threading.Condition()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._events: list[str] = []
        self.config = config
        self.scene = chosen
        self.parameters = dict(chosen.parameters) if chosen is not None else {}
        self._build()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        """The Trainer at step 0 from the config (and the scene), and fresh views."""
        records = Records()
        networks = None
        with TORCH_RANDOM:
            caller = torch.get_rng_state()
            try:
                if self.scene is not None:
                    torch.manual_seed(self.config.seed)
                    networks = self.scene.networks(self.config)
                unused = RunDir(self.runs_dir / f".playground-{self.id}")  # never written
                trainer = Trainer(self.config, unused, progress=False, networks=networks)
                trainer.callbacks = [records]
                if self.scene is not None:
                    self.scene.prepare(trainer, self.parameters)
                self._torch_state = torch.get_rng_state()
            finally:
                torch.set_rng_state(caller)
        self.trainer = trainer
        self.records = records
        data_name = self.config.data.name
        bounds = self.scene.bounds if self.scene is not None else None
        self.views = Views(trainer, data_name, bounds)
        self.history = History()
        self.d_updates = 0
        self.trace: list[list[float]] = []
        self.reproducible = self.scene is None or (
            self.scene.players == "both" and type(self.scene).prepare is Scene.prepare
        )
        """Whether whole iterations from step 0 with this config made the weights, so that
        the exported YAML retrains them."""
        self._window: dict[str, list[float]] = {"d_loss": [], "g_loss": []}
        self._marked: tuple[int, int] | None = None
        """(step, D updates) of the last chart point; None before the first."""
        self._charted = -math.inf
        """When the last chart point was added (``time.perf_counter``)."""

    @contextlib.contextmanager
    def _own_random(self) -> Iterator[None]:
        """torch's global generator in this session's state for the block."""
        with TORCH_RANDOM:
            caller = torch.get_rng_state()
            torch.set_rng_state(self._torch_state)
            try:
                yield
            finally:
                self._torch_state = torch.get_rng_state()
                torch.set_rng_state(caller)

    # -- training ---------------------------------------------------------------------------

    def _train(self, part: str) -> None:
        """One part: ``iteration`` (a whole one; k discriminator updates in a scene that
        holds G), ``discriminator`` or ``generator``; a divergence pauses the session."""
        trainer = self.trainer
        try:
            with self._own_random():
                holds_g = self.scene is not None and self.scene.players != "both"
                # the counts first: a divergence is found once the updates are made
                if part == "iteration" and holds_g:
                    for _ in range(self.config.train.d_steps_at(trainer.step)):
                        self.d_updates += 1
                        self._keep(trainer.train_part("discriminator"), ("d_loss",))
                elif part == "iteration":
                    self.d_updates += self.config.train.d_steps_at(trainer.step)
                    self._keep(trainer.train_part("iteration"), ("d_loss", "g_loss"))
                else:
                    self.reproducible = False
                    self.d_updates += part == "discriminator"
                    losses = ("d_loss",) if part == "discriminator" else ("g_loss",)
                    self._keep(trainer.train_part(part), losses)
        except TrainingDiverged as err:  # its advice on checkpoints is for gankit train
            self.playing = False
            self._event(f"paused: {str(err).split('. ')[0]}; lower the learning rates or reset")
        except GankitError as err:
            self.playing = False
            self._event(f"paused: {err}")

    def _keep(self, stats: Mapping[str, torch.Tensor], keys: tuple[str, ...]) -> None:
        """The losses of a part for the charts (a generator part repeats D's last loss in
        its statistics: that one is not counted again)."""
        for key in keys:
            if key in stats:
                self._window[key].append(float(stats[key]))

    def _play(self) -> None:
        """The play thread: frames while playing, waiting while paused, until closed."""
        while not self._closed.is_set():
            if not self.playing:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            started = time.perf_counter()
            with self.lock:
                if not self.playing:
                    continue
                budget = FRAME_TRAIN_SECONDS * self.speed
                while True:
                    self._train("iteration")
                    done = time.perf_counter() - started >= budget
                    if done or not self.playing:
                        break
                if self.trainer.step >= self.config.train.steps:
                    self.playing = False
                    self._event(f"paused at train.steps={self.config.train.steps}")
                self._publish()
            if self.speed < 1:
                self._wake.wait((1 / self.speed - 1) * (time.perf_counter() - started))
                self._wake.clear()

    # -- the page's requests ----------------------------------------------------------------

    def control(self, action: Any, speed: Any = None) -> dict[str, Any]:
        """Carry out one control action of the page and return the newest frame."""
        if speed is not None:
            if isinstance(speed, bool) or not isinstance(speed, int | float):
                raise SessionError(f"speed must be a number in [{MIN_SPEED}, 1], not {speed!r}")
            if not MIN_SPEED <= speed <= 1:
                raise SessionError(f"speed must lie in [{MIN_SPEED}, 1], got {speed}")
            self.speed = float(speed)
        if action == "play":
            self.playing = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._play, daemon=True)
                self._thread.start()
            self._wake.set()
            with self.lock:
                return self._publish(chart=False)
        parts = {"step_d": "discriminator", "step_g": "generator", "step": "iteration"}
        if action not in (*parts, "pause", "reset"):
            raise SessionError(
                f"unknown action {action!r}; choose play, pause, step_d, step_g, step or reset"
            )
        self.playing = False
        self._wake.set()
        with self.lock:
            if action == "reset":
                self._build()
                self._event("reset to step 0")
            elif action in parts:
                self._train(parts[action])
            return self._publish()

    def change(self, changes: Any) -> tuple[dict[str, Any], bool]:
        """Apply dotted setting changes; (frame, whether the session was reset)."""
        patch = playground_settings.changes_to_settings(changes)
        scene_patch = patch.pop("scene", None)
        with self.lock:
            chosen, parameters = self.scene, self.parameters
            if scene_patch is not None:
                if chosen is None:
                    raise SettingsError("scene.*: this session plays no scene")
                if not isinstance(scene_patch, dict):
                    raise SettingsError("scene must be an object of the scene's parameters")
                parameters = chosen.check(scene_patch)
            config = self.config
            if patch:
                config = playground_settings.with_settings(config, patch)
            self.parameters = parameters
            changed = playground_settings.reset_keys(self.config, config)
            if changed:
                self._replace(config, changed)
            else:
                if config != self.config:
                    self._reconfigure(config)
                if chosen is not None and scene_patch is not None:
                    chosen.prepare(self.trainer, parameters)
                    self.reproducible = False
            return self._publish(), bool(changed)

    def draw(self, points: Any) -> dict[str, Any]:
        """Make the drawn points the real data (a reset); the new frame."""
        if not isinstance(points, list) or not MIN_DRAWN <= len(points) <= MAX_DRAWN:
            given = f"{len(points)} points" if isinstance(points, list) else _kind(points)
            wanted = f"{MIN_DRAWN} to {MAX_DRAWN} points [x, y]"
            raise SettingsError(f"points: give {wanted}, not {given}")
        with self.lock:
            config = playground_settings.with_settings(
                self.config, {"data": {"name": "drawn", "points": points}}
            )
            self._replace(config, ["data"])
            return self._publish()

    def load(self, text: Any) -> dict[str, Any]:
        """Replace the config by a loaded one (a reset); the new frame."""
        config = playground_settings.load_config(text)
        with self.lock:
            self.scene, self.parameters = None, {}
            self.config = config
            self._build()
            self._event("loaded a config: reset to step 0")
            return self._publish()

    def settings(self) -> dict[str, Any]:
        """The settings the page shows, with the scene and its parameters."""
        with self.lock:
            out = playground_settings.settings_of(self.config)
            out["scene"] = (
                None if self.scene is None else {"name": self.scene.name, **self.parameters}
            )
            return out

    def export_yaml(self) -> tuple[str, str | None]:
        """The YAML that ``gankit train`` reproduces the session with, and a note (also the
        text's first comment lines) when it reproduces the settings but not the weights."""
        with self.lock:
            config, notes = playground_settings.export_config(self.config, self.trainer.step)
            if not self.reproducible:
                notes.insert(0, self._why_not_reproducible())
            text = playground_settings.yaml_text(config, notes)
            return text, ("; ".join(notes) or None)

    def export_run(self) -> Path:
        """Write a run directory (config.yaml, metrics.jsonl, samples/, a checkpoint of the
        whole training state) that gankit resumes, samples and evaluates."""
        with self.lock:
            if self.scene is not None and type(self.scene).networks is not Scene.networks:
                raise SessionError(
                    f"scene {self.scene.name} trains networks no gankit config names; "
                    "export its YAML instead"
                )
            trainer = self.trainer
            config, _ = playground_settings.export_config(self.config, trainer.step)
            label = data_label(config.data.model_dump(mode="json"))
            stamp = time.strftime("%Y%m%d-%H%M%S")
            run = RunDir.create(self.runs_dir, f"playground-{label}-{stamp}")
            write_text_atomic(run.config_path, playground_settings.yaml_text(config, []))
            used, trainer.run = trainer.run, run
            try:
                metrics = MetricsFile()
                metrics.on_fit_start(trainer)
                for record in self.records.records:
                    metrics.on_log(trainer, record)
                metrics.on_fit_end(trainer, "paused")
                samples = trainer.sample_fixed().cpu()
                path = run.samples_dir / f"step_{trainer.step:08d}.png"
                save_samples(samples, trainer.source, path, f"step {trainer.step}")
                with self._own_random():
                    state = trainer.state.state_dict()
                save_checkpoint(
                    run.checkpoints_dir,
                    state,
                    {
                        "config": config.to_dict(),
                        "data": trainer.data_info,
                        "gankit_version": __version__,
                        "torch_version": torch.__version__,
                        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    },
                    keep=config.checkpoint.keep,
                )
            finally:
                trainer.run = used
            return run.path

    def wait_frame(self, after: int, timeout: float) -> dict[str, Any]:
        """The newest frame, once it is newer than ``after`` or ``timeout`` seconds passed."""
        with self._frame_ready:
            self._frame_ready.wait_for(
                lambda: self.frame_no > after or self._closed.is_set(), timeout
            )
            return self._frame

    def close(self) -> None:
        """Stop playing and end the play thread."""
        self.playing = False
        self._closed.set()
        self._wake.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # -- inside -----------------------------------------------------------------------------

    def _replace(self, config: Config, changed: list[str]) -> None:
        """Rebuild at step 0 with ``config``; a scene that set the data or the noise ends."""
        ends_scene = any(key.startswith(("data", "noise")) for key in changed)
        if self.scene is not None and ends_scene:
            self._event(f"left scene {self.scene.name}: its data changed")
            self.scene, self.parameters = None, {}
        self.config = config
        self._build()
        shown = ", ".join(changed[:3]) + (", …" if len(changed) > 3 else "")
        self._event(f"reset to step 0: {shown} changed")

    def _reconfigure(self, config: Config) -> None:
        """Give the running Trainer ``config`` whose changes are all live
        (:data:`~gankit.app.playground.settings.LIVE_KEYS`): the step reads the objective,
        k, the regularisers and the learning rates afresh; an optimiser of another kind
        starts afresh, one of the same kind keeps its state and takes the new
        hyper-parameters."""
        trainer = self.trainer
        if trainer.step > 0 or self.d_updates > 0:
            self.reproducible = False
        trainer.config = config
        trainer.task.config = config
        trainer.objective = build_objective(config.objective)
        for player, options in (
            ("generator", config.train.g_optimizer),
            ("discriminator", config.train.d_optimizer),
        ):
            task = trainer.task
            names = task.generators if player == "generator" else task.discriminators
            weights = parameters(*(trainer.state.networks[name] for name in names))
            fresh = build_optimizer(weights, options)
            current = trainer.state.optimizers[player]
            if type(fresh) is not type(current):
                trainer.state.optimizers[player] = fresh
                continue
            settings = {k: v for k, v in fresh.param_groups[0].items() if k != "params"}
            for group in current.param_groups:
                group.update(settings)
        self.config = config

    def _publish(self, chart: bool = True) -> dict[str, Any]:
        """Render a frame of the Trainer now (the lock held), make it the newest, and return
        it; a frame after training adds a point to the charts (while playing, at most one
        every :data:`CHART_SECONDS`), with the measures taken for it."""
        trainer = self.trainer
        now = time.perf_counter()
        due = (
            chart
            and (trainer.step, self.d_updates) != self._marked
            and (not self.playing or now - self._charted >= CHART_SECONDS)
        )
        picture, measures = self.views.render(trainer, due)
        if due:
            self._marked, self._charted = (trainer.step, self.d_updates), now
            point = {"iteration": trainer.step, "d_updates": self.d_updates, **measures}
            for key, values in self._window.items():
                point[key] = sum(values) / len(values) if values else None
                values.clear()
            self.history.add(point)
            if self.scene is not None:
                trace = self.scene.trace(trainer)
                if trace is not None:
                    self.trace.append(trace)
                    del self.trace[:-TRACE_POINTS]
        with self._frame_ready:
            self.frame_no += 1
            frame = {
                "frame_no": self.frame_no,
                "iteration": trainer.step,
                "d_updates": self.d_updates,
                "g_updates": trainer.step,
                "playing": self.playing,
                **picture,
                "history": self.history.as_dict(),
                "scene": self._scene_view(),
                "notes": self._notes(),
            }
            self._frame = frame
            self._frame_ready.notify_all()
        return frame

    def _scene_view(self) -> dict[str, Any] | None:
        if self.scene is None:
            return None
        view: dict[str, Any] = {
            "name": self.scene.name,
            "title": self.scene.title,
            "watch": self.scene.watch,
            "parameters": dict(self.parameters),
        }
        if self.trace:
            view["trace"] = [[_finite(round(a, 4)), _finite(round(b, 4))] for a, b in self.trace]
            view["trace_axes"] = ["θ (G's point)", "ψ (D's slope)"]
        return view

    def _notes(self) -> list[str]:
        notes = list(self._events)
        D = self.config.discriminator
        if getattr(D, "pack", 1) > 1:
            notes.append(f"packing: D's surface scores each point as a pack of {D.pack} copies")
        if getattr(D, "minibatch_discrimination", None) is not None:
            notes.append(
                "minibatch discrimination: the surface scores each point as one more member "
                "of a generated batch"
            )
        if self.scene is not None and self.scene.players != "both":
            notes.append(f"scene {self.scene.name}: play trains D alone; G stays as set")
        return notes

    def _event(self, text: str) -> None:
        self._events = [*self._events, text][-EVENT_NOTES:]

    def _why_not_reproducible(self) -> str:
        return (
            "the session was stepped one player at a time, changed while it trained, or set "
            "up by a scene beyond its config: the YAML reproduces the settings, not the weights"
        )


class Sessions:
    """The live sessions of one server: at most ``max_sessions``, each stopped after
    ``idle_seconds`` without a request from its tab."""

    def __init__(self, runs_dir: Path, idle_seconds: float, max_sessions: int) -> None:
        self.runs_dir = Path(runs_dir)
        self.idle_seconds = idle_seconds
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, body: Any) -> Session:
        """A new session from ``{"settings": {...}}``, ``{"scene": name}`` or ``{}``."""
        if not isinstance(body, dict):
            raise SettingsError('the body must be {"settings": {...}}, {"scene": NAME} or {}')
        unknown = sorted(set(body) - {"settings", "scene"})
        if unknown or ("settings" in body and "scene" in body):
            raise SettingsError('give "settings" or "scene", not both and nothing else')
        self.reap()
        self._check_room()
        chosen = scene(body["scene"]) if "scene" in body else None
        if chosen is not None:
            config = chosen.config()
        else:
            base = playground_settings.base_config()
            config = playground_settings.with_settings(base, body.get("settings") or {})
        session = Session(secrets.token_hex(8), config, chosen, self.runs_dir)
        with self._lock:
            try:
                self._check_room()
            except SessionLimit:
                session.close()
                raise
            session.last_seen = time.monotonic()
            self._sessions[session.id] = session
        return session

    def _check_room(self) -> None:
        if len(self._sessions) >= self.max_sessions:
            raise SessionLimit(
                f"the playground already runs {self.max_sessions} sessions (its maximum); "
                "close another tab, or wait until a session has been idle for "
                f"{self.idle_seconds / 60:g} minutes"
            )

    def get(self, session_id: str) -> Session | None:
        """The session ``session_id`` (now seen), or None."""
        with self._lock:
            session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = time.monotonic()
        return session

    def close(self, session_id: str) -> bool:
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is not None:
            session.close()
        return session is not None

    def reap(self) -> list[str]:
        """Stop the sessions idle for longer than ``idle_seconds``; their ids."""
        now = time.monotonic()
        with self._lock:
            idle = [s for s in self._sessions.values() if now - s.last_seen > self.idle_seconds]
            for session in idle:
                del self._sessions[session.id]
        for session in idle:
            session.close()
        return [session.id for session in idle]

    def close_all(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()

    def __len__(self) -> int:
        return len(self._sessions)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
