// The gankit playground page: one training session per tab, driven through the playground's
// JSON API (docs/playground.md), drawn on a 2-D canvas, with uPlot charts of its history.
// Everything the tests read is exposed on window.playground and on data attributes.
"use strict";

const COLOURS = {
  real: "#2e7d32", fake: "#6a1b9a", d: "#263238", dStar: "#ef6c00", axis: "#90a4ae",
  grid: "#eceff1", text: "#37474f", arrow: "#212121",
};
const SURFACE_LOW = [168, 120, 204];  // D's surface where D says "generated" (0, or the critic's minimum)
const SURFACE_MID = [250, 250, 250];
const SURFACE_HIGH = [112, 181, 116]; // where D says "real" (1, or the critic's maximum)
const ARROW_PX = 14;                  // the length, in CSS pixels, of a frame's typical gradient arrow:
const ARROW_QUANTILE = 0.9;           // the one at this quantile of the frame's gradient norms
const ARROW_CAP_PX = 40;              // longer arrows are drawn this long (their direction kept)
const POINT_RADIUS = 2.3;
const MANIFOLD_ALPHA_MAX = 0.45;      // the shade of the densest manifold cells
const MANIFOLD_QUANTILE = 0.9;        // cells at or above this quantile of density get the full shade
const SPRAY_PER_EVENT = 4;            // points a click or a drag movement adds
const SPRAY_SPREAD = 0.025;           // their standard deviation, as a share of the view's width
const MIN_DRAWN = 16;                 // the fewest drawn points the server takes
const DEFAULT_DRAW_BOUNDS = [-3, 3, -3, 3];
const CHART_EVERY_MS = 200;           // charts redraw at most this often while playing
const CHART_HEIGHT = 168;
const LEGEND_BAND = 40;               // the canvas's bottom band with the legend, CSS pixels
const FPS_WINDOW = 30;                // draws the frame rate is averaged over
const MESSAGE_MS = 8000;
const SESSION_GONE = "the session has ended (closed, or idle too long); reload the page for a new one";
const ONE_D_ARROWS = 96;              // arrows drawn in 1-D (evenly chosen among the samples)
const D_STAR_FLOOR = 0.01;            // D* is drawn where p_data + p_G is at least this share of the peak
const DIVERGENCES = {
  js: "Jensen–Shannon", w1: "Wasserstein-1", kl: "KL", reverse_kl: "reverse KL",
  hellinger: "squared Hellinger", chi2: "Pearson χ²", neyman: "Neyman χ²", tv: "total variation",
};
const OPTION_SIGNS = { weight: "×", gamma: "γ", clip: "±", std: "σ" };
const INTEGER_KEYS = new Set(["nets.width", "nets.depth", "z_dim", "d_steps", "batch_size", "seed"]);

const state = {
  options: null, settings: null, id: null, frame: null,
  generation: 0, polling: -1, queue: Promise.resolve(),
  speed: 1, drawing: null, view: null, dirty: true, chartsDirty: false, chartsAt: 0,
};

// What the tests and a curious reader can look at.
window.playground = {
  sessionId: null, lastFrame: null, settings: null, options: null,
  framesReceived: 0, framesDrawn: 0, fps: 0, renderMs: 0, drawnPoints: [], busy: 0,
};

// ---------------------------------------------------------------- small utilities

function $(id) { return document.getElementById(id); }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

async function call(method, path, body) {
  const init = { method, cache: "no-store" };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let reply = null;
  try { reply = JSON.parse(text); } catch { reply = null; }
  if (!response.ok) {
    const error = new Error(reply?.error ?? `${method} ${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return reply;
}

function sessionPath(suffix) { return `/api/sessions/${state.id}/${suffix}`; }

function fmt(value, digits = 3) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e4 || size < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(digits)));
}

function gaussian() {
  const u = 1 - Math.random(), v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function download(blob, name) {
  const link = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// Nice round tick values covering [lo, hi] (about `count` of them).
function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

function quantile(values, q) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// ---------------------------------------------------------------- messages

let messageTimer = null;

function say(text, kind = "info") {
  const line = $("message");
  line.textContent = text;
  line.className = `message ${kind}`;
  line.hidden = !text;
  clearTimeout(messageTimer);
  if (text && kind !== "error") messageTimer = setTimeout(() => { line.hidden = true; }, MESSAGE_MS);
}

function setLive(text, error = false) {
  const live = $("live");
  live.textContent = text;
  live.classList.toggle("error", error);
}

// ---------------------------------------------------------------- requests in order

// Runs mutating requests one after another; the frame each returns is the newest there is.
function act(work) {
  window.playground.busy += 1;
  const run = async () => {
    const generation = ++state.generation;
    try {
      const reply = await work();
      if (reply?.settings) applySettings(reply.settings);
      if (reply?.frame) accept(reply.frame, generation, true);
      return reply;
    } catch (error) {
      say(error.status === 404 ? `${error.message}: ${SESSION_GONE}` : error.message, "error");
      if (state.settings) fillForm(state.settings);
      return null;
    } finally {
      window.playground.busy -= 1;
    }
  };
  state.queue = state.queue.then(run);
  return state.queue;
}

function accept(frame, generation, authoritative) {
  if (generation !== state.generation) return;
  if (!authoritative && state.frame && frame.frame_no <= state.frame.frame_no) return;
  state.frame = frame;
  window.playground.lastFrame = frame;
  window.playground.framesReceived += 1;
  state.dirty = true;
  state.chartsDirty = true;
  showCounters(frame);
  showScene(frame.scene);
  showNotes(frame.notes ?? []);
  showPlaying(frame.playing);
  if (frame.playing && state.polling !== state.generation) poll(state.generation);
}

async function poll(generation) {
  state.polling = generation;
  while (generation === state.generation && state.frame?.playing && state.id) {
    try {
      const after = state.frame.frame_no;
      const frame = await call("GET", sessionPath(`frame?after=${after}`));
      accept(frame, generation, false);
    } catch (error) {
      if (error.status === 404) {
        say(`${error.message}: ${SESSION_GONE}`, "error");
        state.frame = { ...state.frame, playing: false };
        showPlaying(false);
        break;
      }
      setLive(`cannot reach the server (${error.message})`, true);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  if (state.polling === generation) state.polling = -1;
}

// ---------------------------------------------------------------- sessions

async function openSession(body) {
  const reply = await act(async () => {
    const opened = await call("POST", "/api/sessions", body);
    if (state.id) navigator.sendBeacon(`/api/sessions/${state.id}/close`);
    state.id = opened.id;
    window.playground.sessionId = opened.id;
    return opened;
  });
  if (reply) leaveDrawMode();
}

function closeSession() {
  if (state.id) navigator.sendBeacon(`/api/sessions/${state.id}/close`);
  state.id = null;
}

function control(action) {
  if (!state.id) return;
  act(() => call("POST", sessionPath("control"), { action, speed: state.speed }));
}

function change(changes) {
  if (!state.id) return;
  act(() => call("POST", sessionPath("settings"), { changes }));
}

// ---------------------------------------------------------------- the form

function buildForm(options) {
  const data = $("data");
  data.replaceChildren(...options.data.map((source) => el("option", { value: source.name },
    source.name === "drawn" ? `${source.label} (draw…)` : source.label)));
  $("objective").replaceChildren(...options.objectives.map((o) => el("option", { value: o.name }, o.label)));
  $("optimiser").replaceChildren(...options.optimisers.map((name) => el("option", { value: name }, name)));

  const regularisers = $("regularisers");
  regularisers.replaceChildren();
  for (const reg of options.regularisers) {
    const toggle = el("input", { type: "checkbox", "data-reg": reg.name, id: `reg-${reg.name}` });
    const opts = el("span", { class: "opts" });
    const [key, value] = Object.entries(reg.options ?? {}).find(([, v]) => typeof v === "number") ?? [];
    if (key) {
      opts.append(el("label", { class: "opt", title: `${reg.label}: ${key}` }, OPTION_SIGNS[key] ?? key,
        el("input", { type: "number", step: "any", min: 0, "data-reg": reg.name, "data-option": key, value })));
    }
    regularisers.append(el("div", { class: "reg off", "data-reg": reg.name },
      toggle, el("label", { for: `reg-${reg.name}` }, reg.label), opts));
  }

  const scenes = $("scenes");
  scenes.replaceChildren(...options.scenes.map((scene) => el("li", { "data-scene": scene.name },
    el("button", { type: "button", title: scene.watch, onclick: () => openSession({ scene: scene.name }) }, scene.title))));
}

function regulariserOptions(name) {
  const defaults = state.options.regularisers.find((reg) => reg.name === name)?.options ?? {};
  const chosen = { ...defaults, ...(state.settings?.regularisers?.[name] ?? {}) };
  for (const input of document.querySelectorAll(`input[data-reg="${name}"][data-option]`)) {
    const value = Number(input.value);
    if (Number.isFinite(value)) chosen[input.dataset.option] = value;
  }
  return chosen;
}

function valueAt(settings, key) {
  return key.split(".").reduce((node, part) => (node == null ? undefined : node[part]), settings);
}

// Fields for the chosen objective's options (named objective.<option>): numbers, switches
// and words, as the options' defaults are.
function showObjectiveOptions(objective) {
  const box = $("objective-options");
  if (box.dataset.objective === objective.name) return;
  box.dataset.objective = objective.name;
  box.replaceChildren();
  for (const [key, value] of Object.entries(objective)) {
    if (key === "name") continue;
    const name = `objective.${key}`;
    const label = key.replaceAll("_", " ");
    if (typeof value === "boolean") {
      box.append(el("label", { class: "row" }, label, el("input", { type: "checkbox", name })));
    } else if (typeof value === "number") {
      box.append(el("label", { class: "row" }, label, el("input", { type: "number", step: "any", name })));
    } else if (typeof value === "string") {
      box.append(el("label", { class: "row" }, label, el("input", { type: "text", name, spellcheck: "false" })));
    }
  }
}

function fillForm(settings) {
  if (settings.objective) showObjectiveOptions(settings.objective);
  for (const input of document.querySelectorAll("#panel [name]")) {
    const value = valueAt(settings, input.name);
    if (value === undefined || document.activeElement === input) continue;
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value;
  }
  if (!state.drawing) $("data").value = settings.data?.name;
  for (const row of document.querySelectorAll(".reg")) {
    const name = row.dataset.reg;
    const chosen = settings.regularisers?.[name];
    row.querySelector('input[type="checkbox"]').checked = Boolean(chosen);
    row.classList.toggle("off", !chosen);
    for (const input of row.querySelectorAll("input[data-option]")) {
      const value = chosen?.[input.dataset.option];
      if (typeof value === "number" && document.activeElement !== input) input.value = value;
    }
  }
}

function applySettings(settings) {
  state.settings = settings;
  window.playground.settings = settings;
  fillForm(settings);
}

function wireForm() {
  $("panel").addEventListener("change", (event) => {
    const input = event.target;
    const key = input.name;
    if (!key || input.id === "data") return;
    let value = input.value;
    if (input.type === "checkbox") value = input.checked;
    else if (input.type === "number") {
      value = INTEGER_KEYS.has(key) ? Number.parseInt(value, 10) : Number(value);
      if (!Number.isFinite(value)) { say(`${key}: not a number`, "error"); fillForm(state.settings); return; }
    }
    change({ [key]: value });
  });
  $("data").addEventListener("change", () => {
    const name = $("data").value;
    if (name === "drawn") enterDrawMode();
    else { leaveDrawMode(); change({ "data.name": name }); }
  });
  $("regularisers").addEventListener("change", (event) => {
    const input = event.target;
    const name = input.dataset.reg;
    if (!name) return;
    if (input.type === "checkbox") {
      input.closest(".reg").classList.toggle("off", !input.checked);
      change({ [`regularisers.${name}`]: input.checked ? regulariserOptions(name) : null });
    } else if ($(`reg-${name}`).checked) {
      change({ [`regularisers.${name}`]: regulariserOptions(name) });
    }
  });
}

// ---------------------------------------------------------------- counters, scene, notes

function showCounters(frame) {
  for (const [id, value] of [["iteration", frame.iteration], ["d-updates", frame.d_updates], ["g-updates", frame.g_updates]]) {
    const out = $(id);
    out.dataset.value = String(value);
    out.textContent = String(value);
  }
}

const PARAMETER_SIGNS = { theta: "θ", psi: "ψ" };

function showScene(scene) {
  for (const item of document.querySelectorAll("#scenes li")) {
    const chosen = scene?.name === item.dataset.scene;
    item.classList.toggle("chosen", chosen);
    let detail = item.querySelector(".scene-detail");
    if (chosen && !detail) {
      detail = el("div", { class: "scene-detail" }, el("p", { class: "scene-watch" }, scene.watch));
      for (const [key, value] of Object.entries(scene.parameters ?? {})) detail.append(parameterSlider(key, value));
      item.append(detail);
    }
    if (!chosen && detail) detail.remove();
    if (chosen) {
      for (const input of item.querySelectorAll("input[data-parameter]")) {
        const value = scene.parameters?.[input.dataset.parameter];
        if (typeof value === "number" && document.activeElement !== input) {
          input.value = value;
          input.nextElementSibling.textContent = fmt(value);
        }
      }
    }
  }
}

// A slider for a scene's parameter, sent to the session while it is dragged.
function parameterSlider(key, value) {
  const span = Math.max(1, 2 * Math.abs(value));
  const input = el("input", { type: "range", min: -span, max: span, step: span / 100, value, "data-parameter": key });
  const shown = el("output", {}, fmt(value));
  input.addEventListener("input", () => {
    shown.textContent = fmt(Number(input.value));
    sendParameter(key, Number(input.value));
  });
  return el("label", { class: "parameter" }, PARAMETER_SIGNS[key] ?? key, input, shown);
}

let parameterPending = null;
let parameterSending = false;

// Sends the latest value of a dragged parameter, one request at a time.
async function sendParameter(key, value) {
  parameterPending = { [`scene.${key}`]: value };
  if (parameterSending) return;
  parameterSending = true;
  while (parameterPending && state.id) {
    const changes = parameterPending;
    parameterPending = null;
    await act(() => call("POST", sessionPath("settings"), { changes }));
  }
  parameterSending = false;
}

let shownNotes = "";

function showNotes(notes) {
  const key = JSON.stringify(notes);
  if (key === shownNotes) return;
  shownNotes = key;
  $("notes").replaceChildren(...notes.map((note) => el("li", {}, note)));
}

function showPlaying(playing) {
  const button = $("play");
  if (button.dataset.playing !== String(Boolean(playing))) liveAt = 0;
  button.textContent = playing ? "❚❚ pause" : "▶ play";
  button.dataset.playing = String(Boolean(playing));
}

// ---------------------------------------------------------------- drawing your own data

function enterDrawMode() {
  if (state.frame?.playing) control("pause");
  const bounds = state.frame?.dim === 2 ? state.frame.bounds : DEFAULT_DRAW_BOUNDS;
  const own = state.settings?.data?.name === "drawn" ? (state.settings.data.points ?? []) : [];
  state.drawing = { bounds: [...bounds], points: own.map((p) => [p[0], p[1]]), spraying: false };
  window.playground.drawnPoints = state.drawing.points;
  $("draw-tools").hidden = false;
  $("view").classList.add("drawing");
  $("data").value = "drawn";
  showDrawnCount();
  state.dirty = true;
}

function leaveDrawMode() {
  state.drawing = null;
  $("draw-tools").hidden = true;
  $("view").classList.remove("drawing");
  if (state.settings) $("data").value = state.settings.data?.name;
  state.dirty = true;
}

function showDrawnCount() {
  const count = state.drawing?.points.length ?? 0;
  const out = $("drawn-count");
  out.dataset.value = String(count);
  out.textContent = `${count} point${count === 1 ? "" : "s"}${count < MIN_DRAWN ? ` (at least ${MIN_DRAWN})` : ""}`;
  $("use-drawn").disabled = count < MIN_DRAWN;
}

function spray(event) {
  const drawing = state.drawing;
  if (!drawing || !state.view) return;
  const rect = $("view").getBoundingClientRect();
  const [x, y] = state.view.invert(event.clientX - rect.left, event.clientY - rect.top);
  const [x0, x1, y0, y1] = drawing.bounds;
  const spread = SPRAY_SPREAD * (x1 - x0);
  for (let i = 0; i < SPRAY_PER_EVENT; i++) {
    const px = x + spread * gaussian(), py = y + spread * gaussian();
    if (px >= x0 && px <= x1 && py >= y0 && py <= y1) drawing.points.push([px, py]);
  }
  showDrawnCount();
  state.dirty = true;
}

function wireDrawing() {
  const canvas = $("view");
  canvas.addEventListener("pointerdown", (event) => {
    if (!state.drawing) return;
    state.drawing.spraying = true;
    canvas.setPointerCapture(event.pointerId);
    spray(event);
  });
  canvas.addEventListener("pointermove", (event) => { if (state.drawing?.spraying) spray(event); });
  const stop = () => { if (state.drawing) state.drawing.spraying = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  $("clear-drawn").addEventListener("click", () => {
    if (!state.drawing) return;
    state.drawing.points.length = 0;
    showDrawnCount();
    state.dirty = true;
  });
  $("cancel-drawn").addEventListener("click", leaveDrawMode);
  $("use-drawn").addEventListener("click", async () => {
    if (!state.drawing || state.drawing.points.length < MIN_DRAWN) return;
    const points = state.drawing.points.map(([x, y]) => [x, y]);
    const reply = await act(() => call("POST", sessionPath("data"), { points }));
    if (reply) leaveDrawMode();
  });
}

// ---------------------------------------------------------------- take-away

function wireTakeaway() {
  const result = $("takeaway-result");
  const show = (text, error = false) => {
    result.textContent = text;
    result.classList.toggle("error", error);
  };
  $("export-yaml").addEventListener("click", async () => {
    if (!state.id) return;
    try {
      const response = await fetch(sessionPath("export.yaml"), { cache: "no-store" });
      if (!response.ok) throw new Error((await response.json()).error ?? `HTTP ${response.status}`);
      const named = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") ?? "");
      const name = named ? named[1] : `playground-${state.frame?.iteration ?? 0}.yaml`;
      download(await response.blob(), name);
      const note = response.headers.get("X-Gankit-Note");
      show(`downloaded ${name}${note ? ` — note: ${note}` : ""}`);
      result.dataset.yaml = name;
    } catch (error) { show(`export YAML: ${error.message}`, true); }
  });
  $("export-run").addEventListener("click", async () => {
    if (!state.id) return;
    try {
      const reply = await call("POST", sessionPath("export-run"));
      show(`run written to ${reply.path}`);
      result.dataset.path = reply.path;
    } catch (error) { show(`export run: ${error.message}`, true); }
  });
  $("save-png").addEventListener("click", () => {
    const frame = state.frame;
    const name = `playground-${state.settings?.data?.name ?? "view"}-${frame?.iteration ?? 0}.png`;
    $("view").toBlob((blob) => { if (blob) { download(blob, name); show(`saved ${name}`); } }, "image/png");
  });
  $("load-config").addEventListener("click", () => $("config-file").click());
  $("config-file").addEventListener("change", async () => {
    const file = $("config-file").files[0];
    if (!file || !state.id) return;
    const text = await file.text();
    $("config-file").value = "";
    const reply = await act(() => call("POST", sessionPath("load"), { yaml: text }));
    if (reply) { leaveDrawMode(); show(`loaded ${file.name}`); }
  });
}

// ---------------------------------------------------------------- the canvas

const canvas = () => $("view");

function sizeCanvas() {
  const box = document.querySelector(".view-box");
  const width = Math.max(320, Math.floor(box.clientWidth) - 2);
  const height = Math.max(320, Math.min(Math.floor(box.clientHeight) - 2, Math.round(width * 1.2)));
  const element = canvas();
  const ratio = window.devicePixelRatio || 1;
  element.style.width = `${width}px`;
  element.style.height = `${height}px`;
  element.width = Math.round(width * ratio);
  element.height = Math.round(height * ratio);
  state.size = { width, height, ratio };
  state.dirty = true;
}

function surfaceColour(t) {
  const u = Math.min(1, Math.max(0, t));
  const [a, b, s] = u < 0.5 ? [SURFACE_LOW, SURFACE_MID, u * 2] : [SURFACE_MID, SURFACE_HIGH, (u - 0.5) * 2];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * s));
}

function rgb(colour) { return `rgb(${colour.join(",")})`; }

// An equal-aspect frame for the view box `bounds` inside the canvas, above the legend band.
function layout2d(bounds, width, height) {
  const margin = { left: 34, right: 12, top: 10, bottom: 22 + LEGEND_BAND };
  const [x0, x1, y0, y1] = bounds;
  const pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom;
  const k = Math.min(pw / (x1 - x0), ph / (y1 - y0));
  const w = (x1 - x0) * k, h = (y1 - y0) * k;
  const left = margin.left + (pw - w) / 2, top = margin.top + (ph - h) / 2;
  return {
    left, top, w, h, k, bounds,
    sx: (x) => left + (x - x0) * k,
    sy: (y) => top + h - (y - y0) * k,
    invert: (px, py) => [x0 + (px - left) / k, y0 + (top + h - py) / k],
  };
}

function drawAxes2d(ctx, view) {
  const [x0, x1, y0, y1] = view.bounds;
  ctx.strokeStyle = COLOURS.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(view.left - 0.5, view.top - 0.5, view.w + 1, view.h + 1);
  ctx.fillStyle = COLOURS.text;
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks(x0, x1, 6)) {
    const x = view.sx(t);
    ctx.fillRect(x, view.top + view.h, 1, 4);
    ctx.fillText(fmt(t), x, view.top + view.h + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of ticks(y0, y1, 6)) {
    const y = view.sy(t);
    ctx.fillRect(view.left - 4, y, 4, 1);
    ctx.fillText(fmt(t), view.left - 6, y);
  }
}

function drawSurface(ctx, view, surface) {
  const { nx, ny, values } = surface;
  const finite = values.filter(Number.isFinite);
  const critic = surface.kind !== "probability";
  const lo = critic ? Math.min(...finite) : 0, hi = critic ? Math.max(...finite) : 1;
  const image = new ImageData(nx, ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const value = values[j * nx + i];
      const t = Number.isFinite(value) ? (hi > lo ? (value - lo) / (hi - lo) : 0.5) : 0.5;
      const [r, g, b] = surfaceColour(t);
      const at = ((ny - 1 - j) * nx + i) * 4;
      image.data[at] = r; image.data[at + 1] = g; image.data[at + 2] = b; image.data[at + 3] = 255;
    }
  }
  const tile = drawSurface.tile ?? (drawSurface.tile = document.createElement("canvas"));
  tile.width = nx;
  tile.height = ny;
  tile.getContext("2d").putImageData(image, 0, 0);
  // Value (i, j) is D at the centre of cell (i, j) of an nx × ny grid over the view box,
  // so the tile's pixels are those cells and the image covers the box exactly.
  ctx.save();
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tile, view.left, view.top, view.w, view.h);
  ctx.restore();
  return { lo, hi, critic };
}

function drawManifold(ctx, view, manifold) {
  const { nx, ny, points, density } = manifold;
  const at = (i, j) => points[j * nx + i];
  const cells = (nx - 1) * (ny - 1);
  const perCell = density && density.length === cells;
  const cellDensity = (i, j) => {
    if (!density) return 0;
    if (perCell) return density[j * (nx - 1) + i];
    return (density[j * nx + i] + density[j * nx + i + 1] + density[(j + 1) * nx + i] + density[(j + 1) * nx + i + 1]) / 4;
  };
  const all = [];
  for (let j = 0; j < ny - 1; j++) for (let i = 0; i < nx - 1; i++) all.push(cellDensity(i, j));
  const top = quantile(all.filter((d) => d > 0), MANIFOLD_QUANTILE);
  ctx.save();
  ctx.beginPath();
  ctx.rect(view.left, view.top, view.w, view.h);
  ctx.clip();
  if (top > 0) {
    for (let j = 0; j < ny - 1; j++) {
      for (let i = 0; i < nx - 1; i++) {
        const shade = MANIFOLD_ALPHA_MAX * Math.min(1, cellDensity(i, j) / top);
        if (!(shade > 0.01)) continue;
        const corners = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
        ctx.beginPath();
        corners.forEach(([x, y], n) => (n ? ctx.lineTo(view.sx(x), view.sy(y)) : ctx.moveTo(view.sx(x), view.sy(y))));
        ctx.closePath();
        ctx.fillStyle = `rgba(106, 27, 154, ${shade.toFixed(3)})`;
        ctx.fill();
      }
    }
  }
  ctx.beginPath();
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const [x, y] = at(i, j);
      if (i === 0) ctx.moveTo(view.sx(x), view.sy(y)); else ctx.lineTo(view.sx(x), view.sy(y));
    }
  }
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const [x, y] = at(i, j);
      if (j === 0) ctx.moveTo(view.sx(x), view.sy(y)); else ctx.lineTo(view.sx(x), view.sy(y));
    }
  }
  ctx.strokeStyle = "rgba(74, 20, 140, 0.55)";
  ctx.lineWidth = 0.8;
  ctx.stroke();
  ctx.restore();
}

function drawDots(ctx, xys, colour, alpha = 0.85) {
  ctx.beginPath();
  for (const [x, y] of xys) {
    ctx.moveTo(x + POINT_RADIUS, y);
    ctx.arc(x, y, POINT_RADIUS, 0, 2 * Math.PI);
  }
  ctx.globalAlpha = alpha;
  ctx.fillStyle = colour;
  ctx.fill();
  ctx.globalAlpha = 1;
}

// Arrows from `starts` (canvas pixels) along `vectors` (canvas pixels).
function drawArrows(ctx, starts, vectors) {
  ctx.beginPath();
  for (let n = 0; n < starts.length; n++) {
    const [x, y] = starts[n];
    const full = Math.hypot(vectors[n][0], vectors[n][1]);
    if (!(full > 0.5)) continue;
    const length = Math.min(full, ARROW_CAP_PX);
    const dx = vectors[n][0] * length / full, dy = vectors[n][1] * length / full;
    const ex = x + dx, ey = y + dy;
    ctx.moveTo(x, y);
    ctx.lineTo(ex, ey);
    if (length > 4) {
      const head = Math.min(5, length * 0.4), ux = dx / length, uy = dy / length;
      ctx.moveTo(ex - head * (ux - 0.5 * uy), ey - head * (uy + 0.5 * ux));
      ctx.lineTo(ex, ey);
      ctx.lineTo(ex - head * (ux + 0.5 * uy), ey - head * (uy - 0.5 * ux));
    }
  }
  ctx.strokeStyle = COLOURS.arrow;
  ctx.globalAlpha = 0.55;
  ctx.lineWidth = 1;
  ctx.stroke();
  ctx.globalAlpha = 1;
}

// Pixels per unit of gradient for a frame: its ARROW_QUANTILE-th gradient norm is drawn
// ARROW_PX long (a scale set by the largest norm would hide all but a few arrows).
function arrowScale(norms) {
  const reference = quantile(norms.filter((norm) => norm > 0), ARROW_QUANTILE);
  return { reference, scale: reference > 0 ? ARROW_PX / reference : 0 };
}

function arrowLabel(arrows) {
  if (!(arrows.scale > 0)) return "G's push −∇ₓ loss_G: zero everywhere";
  return `G's push −∇ₓ loss_G; this frame: ${ARROW_PX} px = |∇| ${fmt(arrows.reference)} ` +
    `(its ${Math.round(ARROW_QUANTILE * 100)}th percentile)`;
}

function legend(ctx, width, height, items, line = 0) {
  let x = 10;
  const y = height - LEGEND_BAND + 8 + line * 17;
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  for (const item of items) {
    if (item.kind === "bar") {
      const w = 96;
      ctx.fillStyle = COLOURS.text;
      ctx.fillText(item.label, x, y);
      x += ctx.measureText(item.label).width + 6;
      ctx.textAlign = "right";
      ctx.fillText(item.lo, x + ctx.measureText(item.lo).width, y);
      x += ctx.measureText(item.lo).width + 4;
      const gradient = ctx.createLinearGradient(x, 0, x + w, 0);
      for (const t of [0, 0.25, 0.5, 0.75, 1]) gradient.addColorStop(t, rgb(surfaceColour(t)));
      ctx.fillStyle = gradient;
      ctx.fillRect(x, y - 5, w, 10);
      ctx.strokeStyle = COLOURS.axis;
      ctx.strokeRect(x - 0.5, y - 5.5, w + 1, 11);
      x += w + 4;
      ctx.textAlign = "left";
      ctx.fillStyle = COLOURS.text;
      ctx.fillText(item.hi, x, y);
      x += ctx.measureText(item.hi).width + 16;
      continue;
    }
    ctx.strokeStyle = item.colour;
    ctx.fillStyle = item.colour;
    if (item.kind === "dot") {
      ctx.beginPath();
      ctx.arc(x + 4, y, 3.5, 0, 2 * Math.PI);
      ctx.fill();
      x += 12;
    } else if (item.kind === "line" || item.kind === "dash") {
      ctx.setLineDash(item.kind === "dash" ? [5, 3] : []);
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + 18, y);
      ctx.stroke();
      ctx.setLineDash([]);
      x += 23;
    } else if (item.kind === "fill") {
      ctx.globalAlpha = 0.35;
      ctx.fillRect(x, y - 5, 16, 10);
      ctx.globalAlpha = 1;
      x += 21;
    } else if (item.kind === "arrow") {
      drawArrows(ctx, [[x, y]], [[18, 0]]);
      x += 23;
    } else if (item.kind === "cell") {
      ctx.globalAlpha = 0.35;
      ctx.fillRect(x, y - 5, 12, 10);
      ctx.globalAlpha = 1;
      ctx.strokeRect(x - 0.5, y - 5.5, 13, 11);
      x += 17;
    }
    ctx.fillStyle = COLOURS.text;
    ctx.fillText(item.label, x, y);
    x += ctx.measureText(item.label).width + 14;
  }
}

function toggles() {
  return {
    surface: $("show-surface").checked, real: $("show-real").checked, fake: $("show-fake").checked,
    arrows: $("show-arrows").checked, manifold: $("show-manifold").checked,
  };
}

function render2d(ctx, frame, size) {
  const view = layout2d(frame.bounds, size.width, size.height);
  state.view = view;
  const show = toggles();
  let range = null;
  if (show.surface && frame.surface) range = drawSurface(ctx, view, frame.surface);
  if (show.manifold && frame.manifold) drawManifold(ctx, view, frame.manifold);
  drawAxes2d(ctx, view);
  ctx.save();
  ctx.beginPath();
  ctx.rect(view.left, view.top, view.w, view.h);
  ctx.clip();
  const fake = frame.fake.map(([x, y]) => [view.sx(x), view.sy(y)]);
  if (show.fake) drawDots(ctx, fake, COLOURS.fake);
  if (show.real) drawDots(ctx, frame.real.map(([x, y]) => [view.sx(x), view.sy(y)]), COLOURS.real);
  const arrows = show.arrows ? arrowScale(frame.arrows.map(([dx, dy]) => Math.hypot(dx, dy))) : null;
  if (arrows && arrows.scale > 0) {
    drawArrows(ctx, fake, frame.arrows.map(([dx, dy]) => [dx * arrows.scale, -dy * arrows.scale]));
  }
  ctx.restore();

  const first = [];
  if (range) {
    const label = range.critic ? "critic D(x)" : "D(x) = P(real)";
    first.push({ kind: "bar", label, lo: range.critic ? fmt(range.lo) : "0", hi: range.critic ? fmt(range.hi) : "1" });
  }
  first.push({ kind: "dot", colour: COLOURS.real, label: "real" }, { kind: "dot", colour: COLOURS.fake, label: "generated" });
  if (show.manifold && frame.manifold) first.push({ kind: "cell", colour: COLOURS.fake, label: "G's manifold (darker: denser)" });
  legend(ctx, size.width, size.height, first);
  if (arrows) {
    legend(ctx, size.width, size.height, [{ kind: "arrow", colour: COLOURS.arrow,
      label: arrowLabel(arrows) }], 1);
  }
}

function render1d(ctx, frame, size) {
  const [x0, x1] = frame.bounds;
  const strip = 44;
  const margin = { left: 44, right: 44, top: 12, bottom: 22 + strip + LEGEND_BAND };
  const w = size.width - margin.left - margin.right, h = size.height - margin.top - margin.bottom;
  const sx = (x) => margin.left + (x - x0) / (x1 - x0) * w;
  state.view = null;
  const curves = frame.curves1d;
  const show = toggles();
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = COLOURS.text;
  ctx.strokeStyle = COLOURS.axis;
  ctx.lineWidth = 1;
  ctx.strokeRect(margin.left - 0.5, margin.top - 0.5, w + 1, h + 1);

  let dRange = [0, 1];
  if (curves) {
    const dataTop = Math.max(...curves.p_data.filter(Number.isFinite));
    const gTop = Math.max(...curves.p_g.filter(Number.isFinite));
    const top = 1.1 * Math.max(dataTop, Math.min(gTop, 3 * dataTop)) || 1;
    const sy = (p) => margin.top + h - (p / top) * h;
    const dValues = curves.d.filter(Number.isFinite);
    if (dValues.some((v) => v < 0 || v > 1)) {
      const lo = Math.min(...dValues), hi = Math.max(...dValues);
      const pad = 0.08 * (hi - lo || 1);
      dRange = [lo - pad, hi + pad];
    }
    const sd = (d) => margin.top + h - ((d - dRange[0]) / (dRange[1] - dRange[0])) * h;
    // grid and axes
    ctx.textBaseline = "middle";
    for (const t of ticks(0, top, 5)) {
      ctx.fillStyle = COLOURS.grid;
      ctx.fillRect(margin.left, sy(t), w, 1);
      ctx.fillStyle = COLOURS.text;
      ctx.textAlign = "right";
      ctx.fillText(fmt(t), margin.left - 5, sy(t));
    }
    ctx.textAlign = "left";
    for (const t of ticks(dRange[0], dRange[1], 5)) ctx.fillText(fmt(t), margin.left + w + 5, sd(t));
    ctx.save();
    ctx.translate(11, margin.top + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText("density", 0, 0);
    ctx.restore();
    ctx.save();
    ctx.translate(size.width - 9, margin.top + h / 2);
    ctx.rotate(Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText(dRange[0] === 0 && dRange[1] === 1 ? "D(x) = P(real)" : "critic D(x)", 0, 0);
    ctx.restore();

    ctx.save();
    ctx.beginPath();
    ctx.rect(margin.left, margin.top, w, h);
    ctx.clip();
    const path = (ys, scale) => {
      ctx.beginPath();
      let open = false;
      curves.x.forEach((x, n) => {
        const y = ys[n];
        if (!Number.isFinite(y)) { open = false; return; }
        if (open) ctx.lineTo(sx(x), scale(y)); else { ctx.moveTo(sx(x), scale(y)); open = true; }
      });
    };
    if (show.real) {
      path(curves.p_data, sy);
      ctx.lineTo(sx(curves.x[curves.x.length - 1]), sy(0));
      ctx.lineTo(sx(curves.x[0]), sy(0));
      ctx.closePath();
      ctx.globalAlpha = 0.25;
      ctx.fillStyle = COLOURS.real;
      ctx.fill();
      ctx.globalAlpha = 1;
      path(curves.p_data, sy);
      ctx.strokeStyle = COLOURS.real;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
    if (show.fake) {
      path(curves.p_g, sy);
      ctx.strokeStyle = COLOURS.fake;
      ctx.lineWidth = 2.2;
      ctx.stroke();
    }
    if (show.surface && curves.d_star) {
      const floor = D_STAR_FLOOR * Math.max(dataTop, gTop);
      path(curves.d_star.map((d, n) => (curves.p_data[n] + curves.p_g[n] >= floor ? d : null)), sd);
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = COLOURS.dStar;
      ctx.lineWidth = 2;
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (show.surface) {
      path(curves.d, sd);
      ctx.strokeStyle = COLOURS.d;
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    ctx.restore();
  }
  ctx.fillStyle = COLOURS.text;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of ticks(x0, x1, 8)) {
    ctx.fillRect(sx(t), margin.top + h, 1, 4);
    ctx.fillText(fmt(t), sx(t), margin.top + h + 5);
  }

  // The samples below the axis: real ones as ticks, generated ones as dots (spread over
  // the strip's height by their index, so that equal values stay visible) with G's arrows.
  const stripTop = margin.top + h + 22;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText("real", margin.left - 5, stripTop + 5);
  ctx.fillText("G(z)", margin.left - 5, stripTop + 26);
  if (show.real) {
    ctx.beginPath();
    for (const x of frame.real) { ctx.moveTo(sx(x), stripTop); ctx.lineTo(sx(x), stripTop + 10); }
    ctx.strokeStyle = "rgba(46, 125, 50, 0.35)";
    ctx.lineWidth = 1;
    ctx.stroke();
  }
  const lane = (n) => stripTop + 16 + ((n * 0.618034) % 1) * 20;
  const fake = frame.fake.map((x, n) => [sx(x), lane(n)]);
  ctx.save();
  ctx.beginPath();
  ctx.rect(margin.left, stripTop - 2, w, strip);
  ctx.clip();
  if (show.fake) drawDots(ctx, fake, COLOURS.fake, 0.5);
  const arrows = show.arrows ? arrowScale(frame.arrows.map(Math.abs)) : null;
  if (arrows && arrows.scale > 0) {
    const every = Math.max(1, Math.floor(fake.length / ONE_D_ARROWS));
    const chosen = fake.map((_, n) => n).filter((n) => n % every === 0);
    drawArrows(ctx, chosen.map((n) => fake[n]), chosen.map((n) => [frame.arrows[n] * arrows.scale, 0]));
  }
  ctx.restore();

  const items = [{ kind: "fill", colour: COLOURS.real, label: "p_data" }, { kind: "line", colour: COLOURS.fake, label: "p_G" },
    { kind: "line", colour: COLOURS.d, label: "D(x)" }];
  if (curves?.d_star) items.push({ kind: "dash", colour: COLOURS.dStar, label: "D*(x) = p_data / (p_data + p_G)" });
  legend(ctx, size.width, size.height, items);
  if (arrows) {
    legend(ctx, size.width, size.height, [{ kind: "arrow", colour: COLOURS.arrow,
      label: arrowLabel(arrows) }], 1);
  }
}

function renderDrawing(ctx, drawing, size) {
  const view = layout2d(drawing.bounds, size.width, size.height);
  state.view = view;
  ctx.fillStyle = "#fffdf5";
  ctx.fillRect(view.left, view.top, view.w, view.h);
  drawAxes2d(ctx, view);
  drawDots(ctx, drawing.points.map(([x, y]) => [view.sx(x), view.sy(y)]), COLOURS.real);
  if (drawing.points.length === 0) {
    ctx.fillStyle = COLOURS.text;
    ctx.font = "15px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("Click or drag here to spray the real data's points", view.left + view.w / 2, view.top + view.h / 2);
  }
  legend(ctx, size.width, size.height, [{ kind: "dot", colour: COLOURS.real, label: `drawn points (${drawing.points.length})` }]);
}

function render() {
  const size = state.size;
  const ctx = canvas().getContext("2d");
  ctx.setTransform(size.ratio, 0, 0, size.ratio, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size.width, size.height);
  if (state.drawing) renderDrawing(ctx, state.drawing, size);
  else if (state.frame?.dim === 1) render1d(ctx, state.frame, size);
  else if (state.frame) render2d(ctx, state.frame, size);
}

// ---------------------------------------------------------------- charts

class Chart {
  constructor(name, labels, colours, range) {
    this.box = document.querySelector(`.chart[data-chart="${name}"]`);
    this.title = this.box.querySelector(".title");
    this.empty = el("p", { class: "empty" });
    this.empty.hidden = true;
    this.box.append(this.empty);
    const width = Math.max(240, this.box.clientWidth - 14);
    this.plot = new uPlot({
      width, height: CHART_HEIGHT,
      scales: { x: { time: false }, ...(range ? { y: { range } } : {}) },
      axes: [{ size: 30 }, { size: 46 }],
      series: [{ label: "iteration" }, ...labels.map((label, i) => ({
        label, stroke: colours[i], width: 1.5, spanGaps: true, points: { show: false },
      }))],
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
    }, [[], ...labels.map(() => [])], this.box);
    this.box.dataset.points = "0";
  }

  set(data, title) {
    if (title) this.title.textContent = title;
    this.empty.hidden = true;
    this.plot.root.hidden = false;
    if (this.trace) this.trace.hidden = true;
    this.plot.setData(data);
    this.box.dataset.points = String(data[0].length);
  }

  hide(title, message) {
    this.title.textContent = title;
    this.empty.textContent = message;
    this.empty.hidden = !message;
    this.plot.root.hidden = true;
    if (this.trace) this.trace.hidden = true;
    this.box.dataset.points = "0";
  }

  resize() { this.plot.setSize({ width: Math.max(240, this.box.clientWidth - 14), height: CHART_HEIGHT }); }
}

let charts = null;

function makeCharts() {
  charts = {
    losses: new Chart("losses", ["D loss", "G loss"], [COLOURS.real, COLOURS.fake]),
    divergence: new Chart("divergence", ["D's estimate", "exact"], ["#1565c0", COLOURS.d]),
    modes: new Chart("modes", ["mode coverage", "high-quality share"], ["#00838f", COLOURS.dStar],
      (u, lo, hi) => [0, Math.max(1, hi ?? 1)]),
  };
}

// A path in the plane of two parameters (the bilinear game's θ and ψ) around (0, 0), on
// equal scales, with its latest point marked.
function drawTrace(chart, trace, axes) {
  const width = Math.max(240, chart.box.clientWidth - 14), height = CHART_HEIGHT;
  if (!chart.trace) {
    chart.trace = el("canvas", { class: "trace" });
    chart.box.append(chart.trace);
  }
  const element = chart.trace;
  const ratio = window.devicePixelRatio || 1;
  element.hidden = false;
  element.style.width = `${width}px`;
  element.style.height = `${height}px`;
  element.width = Math.round(width * ratio);
  element.height = Math.round(height * ratio);
  chart.box.dataset.points = String(trace.length);
  const ctx = element.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const reach = 1.1 * Math.max(1e-6, ...trace.flat().filter(Number.isFinite).map(Math.abs));
  const k = Math.min((width - 40) / (2 * reach), (height - 30) / (2 * reach));
  const cx = width / 2, cy = (height - 14) / 2;
  const at = ([a, b]) => [cx + a * k, cy - b * k];
  ctx.strokeStyle = COLOURS.axis;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(cx - reach * k, cy); ctx.lineTo(cx + reach * k, cy);
  ctx.moveTo(cx, cy - reach * k); ctx.lineTo(cx, cy + reach * k);
  ctx.stroke();
  ctx.beginPath();
  trace.forEach((point, n) => {
    if (!point.every(Number.isFinite)) return;
    const [x, y] = at(point);
    if (n === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.strokeStyle = "#1565c0";
  ctx.lineWidth = 1.5;
  ctx.stroke();
  const last = trace[trace.length - 1];
  if (last.every(Number.isFinite)) {
    const [x, y] = at(last);
    ctx.fillStyle = COLOURS.fake;
    ctx.beginPath();
    ctx.arc(x, y, 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.fillStyle = COLOURS.text;
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  ctx.fillText(`${axes[0]} →`, cx + reach * k, cy + 3);
  ctx.textAlign = "left";
  ctx.fillText(`↑ ${axes[1]}`, cx + 4, Math.max(0, cy - reach * k));
  ctx.textAlign = "center";
  ctx.fillText(`± ${fmt(reach)} on both axes; the dot is now, (0, 0) the equilibrium`, cx, height - 12);
}

function finiteOrNull(values) { return (values ?? []).map((v) => (Number.isFinite(v) ? v : null)); }

// The charts' x values: the iterations, or where play trains D alone (the iteration stays
// put) the D updates when the history has them, else the chart points' numbers.
function chartSteps(history) {
  const iterations = history.iteration ?? [];
  if (iterations.length < 2 || iterations[0] !== iterations[iterations.length - 1]) {
    return { steps: iterations, against: "" };
  }
  if (history.d_updates) return { steps: history.d_updates, against: " (against D updates)" };
  return { steps: iterations.map((_, n) => n), against: " (against chart points: D alone trains)" };
}

function updateCharts(frame) {
  const history = frame.history ?? {};
  const { steps, against } = chartSteps(history);
  charts.losses.set([steps, finiteOrNull(history.d_loss), finiteOrNull(history.g_loss)], `Losses${against}`);
  const name = history.divergence;
  if (name) {
    const label = DIVERGENCES[name] ?? name;
    charts.divergence.set([steps, finiteOrNull(history.estimate), finiteOrNull(history.exact)],
      `${label}: D's estimate and the exact value`);
  } else {
    charts.divergence.hide("Divergence", "This objective's D estimates no divergence with a known exact value.");
  }
  const trace = frame.scene?.trace;
  if (trace && trace.length) {
    charts.modes.hide(`Trace: ${(frame.scene.trace_axes ?? ["θ", "ψ"]).join(" against ")}`, "");
    drawTrace(charts.modes, trace, frame.scene.trace_axes ?? ["θ", "ψ"]);
  } else if (history.coverage) {
    charts.modes.set([steps, finiteOrNull(history.coverage), finiteOrNull(history.high_quality)],
      "Modes: coverage and high-quality share");
  } else {
    charts.modes.hide("Modes", "Mode coverage and the high-quality share are measured on the ring and the grid.");
  }
}

// ---------------------------------------------------------------- the animation loop

const drawTimes = [];
const renderCosts = [];

function tick(now) {
  if (state.dirty && state.size) {
    state.dirty = false;
    const began = performance.now();
    render();
    renderCosts.push(performance.now() - began);
    if (renderCosts.length > FPS_WINDOW) renderCosts.shift();
    window.playground.renderMs = renderCosts.reduce((sum, cost) => sum + cost, 0) / renderCosts.length;
    if (!state.drawing && state.frame) {
      window.playground.framesDrawn += 1;
      drawTimes.push(now);
      if (drawTimes.length > FPS_WINDOW) drawTimes.shift();
    }
  }
  const playing = Boolean(state.frame?.playing);
  if (state.chartsDirty && state.frame && charts && (!playing || now - state.chartsAt >= CHART_EVERY_MS)) {
    state.chartsDirty = false;
    state.chartsAt = now;
    updateCharts(state.frame);
  }
  if (drawTimes.length > 1 && now - drawTimes[drawTimes.length - 1] < 1000) {
    window.playground.fps = (drawTimes.length - 1) * 1000 / (drawTimes[drawTimes.length - 1] - drawTimes[0]);
  } else {
    window.playground.fps = 0;
  }
  showLive(now);
  requestAnimationFrame(tick);
}

let liveAt = 0;

function showLive(now) {
  if (now - liveAt < 500 || !state.id) return;
  liveAt = now;
  const playing = state.frame?.playing;
  const fps = window.playground.fps;
  setLive(`session ${state.id.slice(0, 6)} · ${playing ? `playing${fps > 0 ? ` · ${fps.toFixed(0)} frames/s` : ""}` : "paused"}`);
}

// ---------------------------------------------------------------- start

function wireControls() {
  $("play").addEventListener("click", () => control(state.frame?.playing ? "pause" : "play"));
  $("step-d").addEventListener("click", () => control("step_d"));
  $("step-g").addEventListener("click", () => control("step_g"));
  $("step").addEventListener("click", () => control("step"));
  $("reset").addEventListener("click", () => control("reset"));
  $("speed").addEventListener("change", () => {
    state.speed = Number($("speed").value);
    if (state.frame?.playing) control("play");
  });
  for (const id of ["show-surface", "show-real", "show-fake", "show-arrows", "show-manifold"]) {
    $(id).addEventListener("change", () => { state.dirty = true; });
  }
  document.addEventListener("keydown", (event) => {
    if (event.code !== "Space" || event.target.closest("input, select, button, textarea")) return;
    event.preventDefault();
    $("play").click();
  });
}

async function start() {
  say("");
  wireForm();
  wireControls();
  wireDrawing();
  wireTakeaway();
  sizeCanvas();
  makeCharts();
  new ResizeObserver(sizeCanvas).observe(document.querySelector(".view-box"));
  window.addEventListener("resize", () => { for (const chart of Object.values(charts)) chart.resize(); });
  window.addEventListener("pagehide", closeSession);
  window.addEventListener("pageshow", (event) => { if (event.persisted) openSession({}); });
  requestAnimationFrame(tick);
  try {
    state.options = await call("GET", "/api/options");
  } catch (error) {
    setLive(`cannot reach the server (${error.message})`, true);
    return;
  }
  window.playground.options = state.options;
  buildForm(state.options);
  await openSession({});
}

start();
