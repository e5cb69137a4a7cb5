// The gankit dashboard page: the runs list (#/), one run (#/run/NAME) and a comparison
// (#/compare/NAME,NAME?stat=STAT). Every view polls the JSON API every POLL_MS.
"use strict";

const POLL_MS = 2000;
const MAX_POINTS = 2000; // per curve on a view's first load: the server keeps each bucket's min and max
const SKIP_KEYS = new Set(["kind", "schema", "step", "time", "event"]);
const COLORS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037"];
const MIN_CHART_PX = 320; // the run view puts as many charts in a row as fit at this width
const CHART_GAP_PX = 14; // .charts' gap
const CHART_FRAME_PX = 18; // .chart's padding and border, left and right
const BAND_FILL = "rgba(96, 125, 139, 0.18)";
const BAND_EDGE = "rgba(96, 125, 139, 0.45)";
const BAND_MEDIAN = "#607d8b";
let stopView = () => {};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

async function api(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function fmt(value) {
  if (typeof value !== "number") return value ?? "–";
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

function duration(seconds) {
  if (typeof seconds !== "number") return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function stateCell(status) {
  const state = status.state ?? "unknown";
  const cell = el("td", { class: `state-${state}` }, state);
  if (status.stale) cell.append(el("div", { class: "stale" }, `stale: ${status.stale}`));
  return cell;
}

const MARKS = { ok: "✓", warning: "⚠", failed: "✗" };

function healthCell(health) {
  if (!health) return el("td", { class: "note" }, "–");
  const cell = el("td", { class: `health-${health.severity}` }, `${MARKS[health.severity] ?? ""} ${health.code}`);
  if (health.severity !== "ok") cell.title = `step ${health.step}: ${health.evidence} — ${health.remedy}`;
  return cell;
}

function setLive(text) {
  document.getElementById("live").textContent = text;
}

function poll(update) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      await update();
      setLive(`updated ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      setLive(`cannot reach the server (${error.message})`);
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

// A run's metric series: first its curves, downsampled by the server (/curves), then grown
// from the records the offset protocol returns.
class Series {
  constructor(name) {
    this.name = name;
    this.offset = null; // null: the curves are still to load
    this.points = new Map(); // statistic -> Map(step -> value)
    this.counts = new Map(); // statistic -> points before downsampling, appended ones included
    this.verdicts = []; // diagnosis events, in file order
  }

  async update() {
    const path = `/api/runs/${encodeURIComponent(this.name)}`;
    if (this.offset === null) {
      const reply = await api(`${path}/curves?points=${MAX_POINTS}`);
      this.points.clear();
      this.counts.clear();
      for (const [stat, curve] of Object.entries(reply.curves)) {
        this.points.set(stat, new Map(curve.steps.map((step, i) => [step, curve.values[i]])));
        this.counts.set(stat, curve.points);
      }
      this.verdicts = reply.verdicts;
      this.offset = reply.offset;
      return true;
    }
    const reply = await api(`${path}/metrics?offset=${this.offset}`);
    // a replaced file, or a resume (which supersedes records already drawn): load it again
    if (reply.reset || reply.records.some((record) => record.kind === "event" && record.event === "resume")) {
      this.offset = null;
      return this.update();
    }
    for (const record of reply.records) this.add(record);
    this.offset = reply.offset;
    return reply.records.length > 0;
  }

  // How many of a statistic's points are shown: "2000 of 100000", or "" when all are.
  shownOf(stat) {
    const shown = this.points.get(stat)?.size ?? 0;
    const all = this.counts.get(stat) ?? shown;
    return all > shown ? `${shown} of ${all} points (min/max per bucket)` : "";
  }

  add(record) {
    if (record.kind === "event") {
      if (record.event === "diagnosis") this.verdicts.push(record);
      return;
    }
    if (typeof record.step !== "number") return;
    for (const [key, value] of Object.entries(record)) {
      if (SKIP_KEYS.has(key) || (typeof value !== "number" && value !== null)) continue;
      if (!this.points.has(key)) this.points.set(key, new Map());
      const steps = this.points.get(key);
      if (!steps.has(record.step)) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      steps.set(record.step, value);
    }
  }

  statistics() {
    return [...this.points.keys()].sort((a, b) => {
      const ea = a.startsWith("eval/"), eb = b.startsWith("eval/");
      return ea === eb ? a.localeCompare(b) : ea ? 1 : -1;
    });
  }
}

// Aligned uPlot data for one statistic: [steps, (with a reference band's curve of it: its 90 %,
// 10 % and median values,) the values of each series]. `points` is how many steps the runs
// have, the band's own steps left out.
function aligned(seriesList, stat, band = null) {
  const steps = new Set();
  for (const series of seriesList) for (const step of (series.points.get(stat) ?? new Map()).keys()) steps.add(step);
  const points = steps.size;
  const curve = band?.curves[stat];
  const bandAt = new Map((curve ? band.steps : []).map((step, i) => [step, i]));
  for (const step of bandAt.keys()) steps.add(step);
  const xs = [...steps].sort((a, b) => a - b);
  const edges = curve ? ["hi", "lo", "median"].map((edge) => xs.map((step) => (bandAt.has(step) ? curve[edge][bandAt.get(step)] : null))) : [];
  const data = [xs, ...edges, ...seriesList.map((series) => {
    const values = series.points.get(stat) ?? new Map();
    return xs.map((step) => (values.has(step) ? values.get(step) : null));
  })];
  data.points = points;
  return data;
}

// The width of a chart's plot when `columns` charts (or as many of MIN_CHART_PX as fit) share
// the width of `container`.
function chartWidth(container, columns = null) {
  const total = container.clientWidth;
  const n = columns ?? Math.max(1, Math.floor((total + CHART_GAP_PX) / (MIN_CHART_PX + CHART_GAP_PX)));
  return Math.max(200, Math.floor((total - CHART_GAP_PX * (n - 1)) / n) - CHART_FRAME_PX);
}

// A chart of one statistic: a line per label and, with a `band` that has a curve of it, the
// band's 10–90 % range shaded and its median dashed, drawn first so that the lines lie on top.
function makeChart(parent, title, labels, width, band = null) {
  const note = el("span", { class: "shown" });
  const box = el("div", { class: "chart", "data-stat": title }, el("div", { class: "title" }, title, note));
  parent.append(box);
  const line = { spanGaps: true, points: { show: false } };
  const series = [{ label: "step" }];
  // one line per chart needs no legend (the page's key explains a band); several get a compact one
  const options = { width, height: labels.length > 1 ? 320 : 190, scales: { x: { time: false } }, series, legend: { show: labels.length > 1, live: false } };
  if (band?.curves[title]) {
    const [lo, mid, hi] = (band.quantiles ?? [0.1, 0.5, 0.9]).map((q) => `${Math.round(q * 100)} %`);
    series.push(
      { ...line, label: `${band.preset} ${hi}`, stroke: BAND_EDGE, width: 0.5 },
      { ...line, label: `${band.preset} ${lo}`, stroke: BAND_EDGE, width: 0.5 },
      { ...line, label: `${band.preset} median`, stroke: BAND_MEDIAN, width: 1, dash: [5, 4] },
    );
    options.bands = [{ series: [1, 2], fill: BAND_FILL }];
    box.dataset.band = band.preset;
    box.title = `shaded: ${lo}–${hi} of healthy ${band.preset} runs (seeds ${band.seeds.join(", ")}); dashed: their ${mid} median`;
  }
  series.push(...labels.map((label, i) => ({ ...line, label, stroke: COLORS[i % COLORS.length], width: 1.5 })));
  const chart = new uPlot(options, series.map(() => []), box);
  box.dataset.series = String(chart.series.length - 1);
  chart.note = note;
  return chart;
}

// Gives a chart new data and records on its box how many steps the runs have (data-points).
function setData(chart, data, shown = "") {
  chart.setData(data);
  chart.root.parentNode.dataset.points = String(data.points);
  chart.note.textContent = shown;
}

async function showRuns(view) {
  view.replaceChildren(el("h2", {}, "Runs"));
  const table = el("table", { id: "runs" });
  const compare = el("button", { onclick: () => {
    const chosen = [...table.querySelectorAll("input:checked")].map((box) => box.value);
    if (chosen.length >= 2) location.hash = `#/compare/${chosen.map(encodeURIComponent).join(",")}`;
  } }, "compare selected");
  view.append(table, compare);
  const checked = new Set();
  return poll(async () => {
    const rows = await api("/api/runs");
    for (const box of table.querySelectorAll("input:checked")) checked.add(box.value);
    for (const box of table.querySelectorAll("input:not(:checked)")) checked.delete(box.value);
    table.replaceChildren(el("tr", {}, ...["", "run", "preset", "task", "status", "step", "ETA", "health", "last losses", "best eval"].map((h) => el("th", {}, h))));
    if (rows.length === 0) table.append(el("tr", {}, el("td", { colspan: 10, class: "note" }, "no run directories here yet")));
    for (const run of rows) {
      const box = el("input", { type: "checkbox", value: run.name });
      box.checked = checked.has(run.name);
      const s = run.status;
      const losses = Object.entries(run.last_train ?? {})
        .filter(([key, value]) => key.endsWith("loss") && typeof value === "number")
        .map(([key, value]) => `${key} ${fmt(value)}`).join(", ");
      const best = Object.entries(run.best_eval ?? {})
        .map(([key, entry]) => `${key.slice(5)} ${fmt(entry.value)} @${entry.step}`).join(", ");
      // until the server has read the whole metrics.jsonl, the best values cover its end only
      const reading = run.complete ? "" : el("span", { class: "reading", title: "the start of metrics.jsonl is still being read" }, " reading…");
      table.append(el("tr", { "data-run": run.name },
        el("td", {}, box),
        el("td", {}, el("a", { href: `#/run/${encodeURIComponent(run.name)}` }, run.name)),
        el("td", {}, run.preset ?? "–"), el("td", {}, run.task ?? "–"), stateCell(s),
        el("td", { class: "num step" }, `${fmt(s.step)} / ${fmt(s.total_steps)}`),
        el("td", { class: "num" }, s.state === "training" && !s.stale ? duration(s.eta_seconds) : "–"),
        run.health || run.complete ? healthCell(run.health) : el("td", { class: "reading" }, "reading…"),
        el("td", {}, losses || "–"), el("td", {}, best || (run.complete ? "–" : ""), reading)));
    }
  });
}

async function showRun(view, name) {
  const path = `/api/runs/${encodeURIComponent(name)}`;
  const head = el("h2", {}, name);
  const status = el("p", { class: "status-line" });
  const bandNote = el("p", { class: "note", id: "band-note" });
  const charts = el("div", { class: "charts", id: "curves" });
  const health = el("div", { id: "health" }, el("p", { class: "note" }, "no health verdicts yet"));
  const samples = el("div", { class: "samples" });
  const evalBox = el("div", {});
  const config = el("pre", { class: "config" });
  view.replaceChildren(head, status, el("h3", {}, "Health timeline"), health, el("h3", {}, "Curves"), bandNote, charts,
    el("h3", {}, "Samples"), samples, el("h3", {}, "Evaluation (eval.json)"), evalBox,
    el("h3", {}, "Resolved config"), config);
  api(`${path}/config`).then((reply) => { config.textContent = reply.text ?? "(no readable config.yaml)"; }).catch(() => {});
  api(`${path}/eval`).then((report) => showEval(evalBox, report)).catch(() => {});
  const { band, reason } = await api(`${path}/band`).catch(() => ({ band: null, reason: null }));
  if (band) {
    const [lo, , hi] = (band.quantiles ?? [0.1, 0.5, 0.9]).map((q) => Math.round(q * 100));
    bandNote.replaceChildren(el("span", { class: "key key-run" }), "this run",
      el("span", { class: "key key-band" }), `${lo}–${hi} % of healthy ${band.preset} runs (seeds ${band.seeds.join(", ")})`,
      el("span", { class: "key key-median" }), "their median");
  } else bandNote.textContent = `No reference band${reason ? `: ${reason}` : ""}.`;
  const series = new Series(name);
  const plots = new Map();
  const slider = sampleSlider(samples, name);
  return poll(async () => {
    const run = await api(path);
    status.replaceChildren(...statusLine(run));
    if (await series.update()) {
      for (const stat of series.statistics()) {
        if (!plots.has(stat)) plots.set(stat, makeChart(charts, stat, [stat], chartWidth(charts), band));
        setData(plots.get(stat), aligned([series], stat, band), series.shownOf(stat));
      }
      if (series.verdicts.length) showHealth(health, series.verdicts);
    }
    await slider();
  });
}

// The run view's status: state, step of total, rate and ETA while training, latest verdict.
function statusLine(run) {
  const s = run.status;
  const parts = [`${run.preset ?? "no preset"} · ${run.task ?? "unknown task"} · `,
    el("span", { class: `state-${s.state ?? "unknown"}` }, s.state ?? "no status.json"),
    ` at step ${fmt(s.step)} / ${fmt(s.total_steps)}`];
  if (s.state === "training" && !s.stale) parts.push(`, ${fmt(s.steps_per_s)} steps/s, ETA ${duration(s.eta_seconds)}`);
  if (s.stale) parts.push(el("span", { class: "stale" }, ` stale: ${s.stale}`));
  if (run.health) parts.push(" · ", el("span", { class: `health-${run.health.severity}` }, `${MARKS[run.health.severity] ?? ""} ${run.health.code}`));
  return parts;
}

function sampleSlider(box, name) {
  const image = el("img", { alt: "sample grid" });
  const label = el("div", { class: "note" }, "no sample grids saved yet");
  const range = el("input", { type: "range", min: 0, max: 0, value: 0 });
  let entries = [];
  const show = () => {
    const entry = entries[Number(range.value)];
    if (!entry) return;
    image.src = `/runs/${encodeURIComponent(name)}/samples/${entry.file}`;
    label.textContent = `step ${entry.step} (${Number(range.value) + 1} of ${entries.length})`;
  };
  range.addEventListener("input", show);
  box.append(range, label, image);
  return async () => {
    const latest = await api(`/api/runs/${encodeURIComponent(name)}/samples`);
    if (latest.length === entries.length) return;
    const atEnd = entries.length === 0 || Number(range.value) === entries.length - 1;
    entries = latest;
    range.max = Math.max(0, entries.length - 1);
    if (atEnd) range.value = range.max;
    show();
  };
}

function showHealth(box, verdicts) {
  const table = el("table", {}, el("tr", {}, ...["step", "verdict", "evidence", "remedy"].map((h) => el("th", {}, h))));
  for (const verdict of verdicts) {
    table.append(el("tr", { class: `health-${verdict.severity}` }, el("td", { class: "num" }, verdict.step),
      el("td", {}, `${MARKS[verdict.severity] ?? ""} ${verdict.code}`), el("td", {}, verdict.evidence ?? ""), el("td", {}, verdict.remedy ?? "")));
  }
  box.replaceChildren(table);
}

function flatten(value, prefix = "", into = {}) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, into);
  } else into[prefix] = Array.isArray(value) ? JSON.stringify(value) : fmt(value);
  return into;
}

function showEval(box, report) {
  if (!report) { box.replaceChildren(el("p", { class: "note" }, "no eval.json (run `gankit eval RUN`)")); return; }
  const table = el("table", {}, el("tr", {}, el("th", {}, "key"), el("th", {}, "value")));
  for (const [key, value] of Object.entries(flatten(report))) {
    table.append(el("tr", {}, el("td", {}, key), el("td", { class: "num" }, value)));
  }
  box.replaceChildren(table);
}

async function showCompare(view, names, stat) {
  const seriesList = names.map((name) => new Series(name));
  const picker = el("select", { id: "stat" });
  const charts = el("div", { class: "charts" });
  const diff = el("div", {});
  const evals = el("div", {});
  view.replaceChildren(el("h2", {}, `Compare ${names.join(", ")}`), el("label", {}, "statistic ", picker),
    charts, el("h3", {}, "Config differences"), diff, el("h3", {}, "Evaluations (eval.json)"), evals);
  let chart = null;
  const draw = () => {
    charts.replaceChildren();
    chart = makeChart(charts, picker.value || "(no statistic yet)", names, chartWidth(charts, 1));
    setData(chart, aligned(seriesList, picker.value), shownOf(seriesList, picker.value));
  };
  picker.addEventListener("change", () => {
    history.replaceState(null, "", `#/compare/${names.map(encodeURIComponent).join(",")}?stat=${encodeURIComponent(picker.value)}`);
    draw();
  });
  Promise.all(names.map((name) => api(`/api/runs/${encodeURIComponent(name)}/config`).catch(() => ({ values: {} }))))
    .then((configs) => showConfigDiff(diff, names, configs.map((c) => c.values ?? {})));
  Promise.all(names.map((name) => api(`/api/runs/${encodeURIComponent(name)}/eval`).catch(() => null)))
    .then((reports) => showEvalsSideBySide(evals, names, reports));
  return poll(async () => {
    const grew = (await Promise.all(seriesList.map((series) => series.update()))).some(Boolean);
    const stats = [...new Set(seriesList.flatMap((series) => series.statistics()))];
    if (stats.length !== picker.options.length) {
      const chosen = picker.value || stat || stats[0];
      picker.replaceChildren(...stats.map((s) => el("option", { value: s }, s)));
      if (stats.includes(chosen)) picker.value = chosen;
      draw();
    } else if (grew && chart) setData(chart, aligned(seriesList, picker.value), shownOf(seriesList, picker.value));
  });
}

function shownOf(seriesList, stat) {
  return seriesList.map((series) => series.shownOf(stat) && `${series.name}: ${series.shownOf(stat)}`).filter(Boolean).join("; ");
}

function showEvalsSideBySide(box, names, reports) {
  const flat = reports.map((report) => (report ? flatten(report) : {}));
  const keys = [...new Set(flat.flatMap((values) => Object.keys(values)))];
  if (keys.length === 0) { box.replaceChildren(el("p", { class: "note" }, "no eval.json in these runs")); return; }
  const table = el("table", { id: "eval-compare" }, el("tr", {}, el("th", {}, "key"), ...names.map((name) => el("th", {}, name))));
  for (const key of keys) {
    const shown = flat.map((values) => values[key] ?? "–");
    table.append(el("tr", { class: new Set(shown).size > 1 ? "differs" : "" }, el("td", {}, key), ...shown.map((value) => el("td", { class: "num" }, value))));
  }
  box.replaceChildren(table);
}

function showConfigDiff(box, names, configs) {
  const keys = [...new Set(configs.flatMap((config) => Object.keys(config)))].sort();
  const table = el("table", { id: "config-diff" }, el("tr", {}, el("th", {}, "key"), ...names.map((name) => el("th", {}, name))));
  let differing = 0;
  for (const key of keys) {
    const shown = configs.map((config) => (key in config ? JSON.stringify(config[key]) : "–"));
    if (new Set(shown).size === 1) continue;
    differing += 1;
    table.append(el("tr", { class: "differs" }, el("td", {}, key), ...shown.map((value) => el("td", {}, value))));
  }
  box.replaceChildren(differing ? table : el("p", { class: "note" }, "the configs are the same"));
}

async function route() {
  stopView();
  const view = document.getElementById("view");
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  const params = new URLSearchParams(query ?? "");
  if (parts[0] === "run" && parts[1]) stopView = await showRun(view, decodeURIComponent(parts[1]));
  else if (parts[0] === "compare" && parts[1]) {
    stopView = await showCompare(view, parts[1].split(",").map(decodeURIComponent), params.get("stat"));
  } else stopView = await showRuns(view);
}

window.addEventListener("hashchange", route);
route();
