// llmreplay dashboard: one WebSocket feeds metrics and events; the admin API changes the configuration.

import { askToken, wsUrl } from "./api.js";
import { BarChart, LineChart, Ring, shortNumber } from "./charts.js";
import { Controls } from "./controls.js";
import { JournalView } from "./journal.js";

const $ = (id) => document.getElementById(id);
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v) => (v === null || v === undefined ? "" : String(v));

const WINDOW_MS = 300_000; // charts show the last five minutes
const SERIES_POINTS = 330; // one point a second, with slack for late ticks
const LOG_ROWS = 500; // rows kept in the DOM
const LOG_KEEP = 2_000; // events kept in memory, so a new filter has something to show
const DURATIONS = 2_000; // recent request durations behind the histogram
const RECENT = 20;
const KINDS = [
  "request.start",
  "request.end",
  "rate_limited",
  "fault",
  "config",
  "cassette.hit",
  "cassette.miss",
  "cassette.recorded",
];
const BUCKETS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]; // upper edges, ms
const BUCKET_LABELS = [...BUCKETS.map((b) => (b < 1000 ? `<${b}` : `<${b / 1000}s`)), "≥10s"];

const state = {
  hello: null,
  snapshot: null,
  dropped: 0,
  hits: 0,
  misses: 0,
  recorded: 0,
  recentRecorded: new Ring(RECENT),
  recentMisses: new Ring(RECENT),
  durations: new Ring(DURATIONS),
  log: new Ring(LOG_KEEP),
  pending: [], // events that arrived since the last log render, oldest first
  pausedNew: 0,
  paused: false,
  filter: "",
  kinds: new Set(KINDS),
};

const series = {
  rps: new Ring(SERIES_POINTS),
  tps: new Ring(SERIES_POINTS),
  conns: new Ring(SERIES_POINTS),
  streams: new Ring(SERIES_POINTS),
};

let charts = null;
const controls = new Controls();
const journal = new JournalView();

// ---- render scheduling: every DOM change waits for the next animation frame --------------

const dirty = new Set();
let frame = 0;

function invalidate(...parts) {
  for (const p of parts) dirty.add(p);
  if (!frame) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  const parts = new Set(dirty);
  dirty.clear();
  try {
    if (parts.has("header")) renderHeader();
    if (parts.has("metrics")) renderMetrics();
    if (parts.has("charts")) renderCharts();
    if (parts.has("hist")) renderHistogram();
    if (parts.has("log")) renderLog(false);
    if (parts.has("log-rebuild")) renderLog(true);
    if (parts.has("cassettes")) renderCassettes();
  } catch (err) {
    // A malformed message must not stop later frames from rendering.
    console.warn("dashboard render failed", err);
  }
}

// ---- header and counters ----------------------------------------------------------------

function setConnected(up) {
  $("conn-status").textContent = up ? "connected" : "reconnecting…";
  $("conn-dot").dataset.state = up ? "up" : "down";
}

function formatUptime(s) {
  s = Math.max(0, Math.floor(num(s)));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return d ? `${d}d ${pad(h)}h ${pad(m)}m` : h ? `${h}h ${pad(m)}m ${pad(s % 60)}s` : `${m}m ${pad(s % 60)}s`;
}

function renderHeader() {
  const h = state.hello || {};
  $("mode").textContent = str(h.mode) || "–";
  $("version").textContent = str(h.version) || "–";
}

const ms = (v) => (typeof v === "number" && Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "–");
const esc = (v) =>
  str(v).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function endpointNames(snap) {
  const names = [];
  const seen = new Set();
  const hello = state.hello && Array.isArray(state.hello.endpoints) ? state.hello.endpoints : [];
  for (const n of [...hello, ...Object.keys(isObj(snap.endpoints) ? snap.endpoints : {})]) {
    if (!seen.has(n)) {
      seen.add(n);
      names.push(n);
    }
  }
  return names;
}

function renderMetrics() {
  const snap = isObj(state.snapshot) ? state.snapshot : {};
  const t = isObj(snap.totals) ? snap.totals : {};
  $("uptime").textContent = snap.uptime_s === undefined ? "–" : formatUptime(snap.uptime_s);
  $("total-requests").textContent = num(t.requests).toLocaleString();
  $("errors").textContent = num(t.errors).toLocaleString();
  $("rate-limited").textContent = num(t.rate_limited).toLocaleString();
  $("faults").textContent = num(t.faults).toLocaleString();
  $("active-connections").textContent = num(t.active_connections).toLocaleString();
  $("active-streams").textContent = num(t.active_streams).toLocaleString();
  $("current-rps").textContent = num(t.requests_per_s).toLocaleString();
  $("current-tps").textContent = num(t.output_tokens_per_s).toLocaleString();
  // At the model catalogue's prices (docs/models.md#cost); six places: a synthetic call costs fractions of a cent.
  const cost = isObj(snap.cost_usd) ? snap.cost_usd : {};
  $("cost-per-min").textContent = num(cost.last_minute).toFixed(6);
  $("cost-total").textContent = num(cost.total).toFixed(6);
  $("peak-rps").textContent = num(t.peak_rps).toLocaleString();
  $("peak-streams").textContent = num(t.peak_concurrent_streams).toLocaleString();
  $("worst-ttft").textContent = `${ms(num(t.worst_ttfb_ms))} ms`;

  const eps = isObj(snap.endpoints) ? snap.endpoints : {};
  const names = endpointNames(snap);
  const conn = [];
  const lat = [];
  for (const name of names) {
    const e = isObj(eps[name]) ? eps[name] : {};
    const busy = num(e.active_connections) > 0 ? ' class="busy"' : "";
    conn.push(
      `<tr data-endpoint="${esc(name)}"${busy}><td>${esc(name)}</td><td>${num(e.active_connections)}</td>` +
        `<td>${num(e.active_streams)}</td><td>${num(e.requests).toLocaleString()}</td><td>${num(e.tokens_per_s)}</td></tr>`,
    );
    const tt = isObj(e.ttfb_ms) ? e.ttfb_ms : {};
    const tl = isObj(e.latency_ms) ? e.latency_ms : {};
    const cells = [tt.p50, tt.p90, tt.p95, tt.p99, tl.p50, tl.p90, tl.p95, tl.p99].map((v) => `<td>${ms(v)}</td>`);
    lat.push(`<tr data-endpoint="${esc(name)}"><td>${esc(name)}</td>${cells.join("")}</tr>`);
  }
  $("connections").tBodies[0].innerHTML = conn.join("");
  $("latency-table").tBodies[0].innerHTML = lat.join("");
}

function pushSnapshot(snap) {
  if (!isObj(snap)) return;
  state.snapshot = snap;
  const t = isObj(snap.totals) ? snap.totals : {};
  const now = Date.now();
  series.rps.push({ t: now, v: num(t.requests_per_s) });
  series.tps.push({ t: now, v: num(t.output_tokens_per_s) });
  series.conns.push({ t: now, v: num(t.active_connections) });
  series.streams.push({ t: now, v: num(t.active_streams) });
  invalidate("metrics", "charts");
}

// ---- charts -----------------------------------------------------------------------------

function makeCharts() {
  charts = {
    rps: new LineChart($("chart-rps"), {
      windowMs: WINDOW_MS,
      series: [{ label: "requests/s", color: "#2563eb", ring: series.rps }],
    }),
    tps: new LineChart($("chart-throughput"), {
      windowMs: WINDOW_MS,
      series: [{ label: "output tokens/s", color: "#059669", ring: series.tps }],
    }),
    conns: new LineChart($("chart-connections"), {
      windowMs: WINDOW_MS,
      series: [
        { label: "connections", color: "#7c3aed", ring: series.conns },
        { label: "streams", color: "#d97706", ring: series.streams },
      ],
    }),
    hist: new BarChart($("chart-latency"), { color: "#0891b2" }),
  };
  const ro = new ResizeObserver(() => invalidate("charts", "hist"));
  for (const id of ["chart-rps", "chart-throughput", "chart-connections", "chart-latency"]) ro.observe($(id));
}

function renderCharts() {
  const now = Date.now();
  charts.rps.draw(now);
  charts.tps.draw(now);
  charts.conns.draw(now);
}

let lastHist = 0;
let histTimer = 0;
function renderHistogram() {
  // At most four times a second: the histogram walks every recent duration.
  const now = performance.now();
  if (now - lastHist < 250) {
    if (!histTimer) {
      histTimer = setTimeout(() => {
        histTimer = 0;
        invalidate("hist");
      }, 250 - (now - lastHist));
    }
    return;
  }
  lastHist = now;
  const counts = new Array(BUCKET_LABELS.length).fill(0);
  const d = state.durations;
  for (let i = 0; i < d.length; i += 1) {
    const v = d.at(i);
    let b = 0;
    while (b < BUCKETS.length && v >= BUCKETS[b]) b += 1;
    counts[b] += 1;
  }
  charts.hist.draw(BUCKET_LABELS, counts);
}

// ---- events -----------------------------------------------------------------------------

function details(ev) {
  switch (ev.kind) {
    case "request.start":
      return `${str(ev.method)} ${str(ev.path)}${ev.stream ? " (stream)" : ""}`;
    case "request.end":
      return (
        `${str(ev.status)} ${str(ev.model)} ${ms(ev.duration_ms)} ms, ttfb ${ms(ev.ttfb_ms)} ms, ` +
        `${num(ev.input_tokens)} in / ${num(ev.output_tokens)} out tokens${ev.stream ? `, ${num(ev.chunks)} chunks` : ""}`
      );
    case "rate_limited":
      return `429 ${str(ev.model)}`;
    case "fault":
      return str(ev.fault);
    case "config":
      return `${str(ev.what)} changed`;
    case "cassette.hit":
      return str(ev.cassette);
    case "cassette.miss":
      return str(ev.path);
    case "cassette.recorded":
      return `${str(ev.cassette)} (${str(ev.status)})`;
    default: {
      const { kind, t, endpoint, ...rest } = ev;
      return JSON.stringify(rest);
    }
  }
}

function clock(t) {
  const d = new Date(num(t));
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function severity(ev) {
  if (ev.kind === "request.end") return num(ev.status) >= 400 ? "bad" : "good";
  if (ev.kind === "rate_limited" || ev.kind === "fault" || ev.kind === "cassette.miss") return "bad";
  if (ev.kind === "config") return "info";
  return "";
}

function matches(ev) {
  if (!state.kinds.has(ev.kind) && KINDS.includes(ev.kind)) return false;
  if (!state.filter) return true;
  if (ev._text === undefined) ev._text = `${ev.kind} ${str(ev.endpoint)} ${details(ev)}`.toLowerCase();
  return ev._text.includes(state.filter);
}

function rowHtml(ev) {
  return (
    `<tr data-kind="${esc(ev.kind)}" class="${severity(ev)}"><td>${clock(ev.t)}</td><td>${esc(ev.kind)}</td>` +
    `<td>${esc(ev.endpoint)}</td><td>${esc(details(ev))}</td></tr>`
  );
}

function onEvents(msg) {
  const events = Array.isArray(msg.events) ? msg.events : [];
  state.dropped += num(msg.dropped);
  let config = false;
  let cassettes = false;
  let hist = false;
  const journalled = [];
  for (const ev of events) {
    if (!isObj(ev) || typeof ev.kind !== "string") continue;
    if (ev.kind === "request.journal") {
      journalled.push(ev); // the journal's own list, not the event log (request.end already says it there)
      continue;
    }
    switch (ev.kind) {
      case "request.end":
        if (typeof ev.duration_ms === "number" && Number.isFinite(ev.duration_ms)) {
          state.durations.push(ev.duration_ms);
          hist = true;
        }
        break;
      case "config":
        config = true;
        break;
      case "cassette.hit":
        state.hits += 1;
        cassettes = true;
        break;
      case "cassette.miss":
        state.misses += 1;
        state.recentMisses.push(ev);
        cassettes = true;
        break;
      case "cassette.recorded":
        state.recorded += 1;
        state.recentRecorded.push(ev);
        cassettes = true;
        break;
      default:
        break;
    }
    state.log.push(ev);
    if (state.paused) state.pausedNew += 1;
    else state.pending.push(ev);
  }
  if (journalled.length) journal.add(journalled);
  // Only the newest rows can ever be shown: drop the rest before they cost any DOM work.
  if (state.pending.length > LOG_KEEP) state.pending = state.pending.slice(-LOG_KEEP);
  if (config) controls.scheduleRefresh();
  const parts = ["log"];
  if (hist) parts.push("hist");
  if (cassettes) parts.push("cassettes");
  invalidate(...parts);
}

function renderLog(rebuild) {
  $("log-dropped").textContent = state.dropped.toLocaleString();
  $("log-pending").textContent = state.paused ? `paused, ${state.pausedNew.toLocaleString()} new` : "";
  if (state.paused) return;
  const body = $("event-log").tBodies[0];
  if (rebuild) {
    state.pending = [];
    const rows = [];
    for (let i = state.log.length - 1; i >= 0 && rows.length < LOG_ROWS; i -= 1) {
      const ev = state.log.at(i);
      if (matches(ev)) rows.push(rowHtml(ev));
    }
    body.innerHTML = rows.join("");
    return;
  }
  if (state.pending.length === 0) return;
  const rows = [];
  for (let i = state.pending.length - 1; i >= 0 && rows.length < LOG_ROWS; i -= 1) {
    if (matches(state.pending[i])) rows.push(rowHtml(state.pending[i]));
  }
  state.pending = [];
  if (rows.length === 0) return;
  if (rows.length >= LOG_ROWS) {
    body.innerHTML = rows.join("");
    return;
  }
  body.insertAdjacentHTML("afterbegin", rows.join(""));
  let extra = body.rows.length - LOG_ROWS;
  while (extra > 0) {
    body.lastElementChild.remove();
    extra -= 1;
  }
}

function setupLog() {
  const box = $("log-kinds");
  for (const kind of KINDS) {
    const label = document.createElement("label");
    label.className = "check";
    const cb = Object.assign(document.createElement("input"), { type: "checkbox", checked: true, value: kind });
    cb.setAttribute("data-testid", `log-kind-${kind}`);
    label.append(cb, ` ${kind}`);
    box.append(label);
  }
  box.addEventListener("change", (e) => {
    if (e.target.type !== "checkbox") return;
    if (e.target.checked) state.kinds.add(e.target.value);
    else state.kinds.delete(e.target.value);
    invalidate("log-rebuild");
  });
  let filterTimer = 0;
  $("log-filter").addEventListener("input", (e) => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      state.filter = e.target.value.trim().toLowerCase();
      invalidate("log-rebuild");
    }, 100);
  });
  $("log-pause").addEventListener("click", (e) => {
    state.paused = !state.paused;
    e.target.textContent = state.paused ? "resume" : "pause";
    e.target.setAttribute("aria-pressed", String(state.paused));
    state.pausedNew = 0;
    invalidate(state.paused ? "log" : "log-rebuild");
  });
  $("log-clear").addEventListener("click", () => {
    state.log.clear();
    state.pending = [];
    state.pausedNew = 0;
    state.dropped = 0;
    invalidate("log-rebuild");
  });
}

// ---- record / replay --------------------------------------------------------------------

function listItems(ul, ring, text) {
  const items = [];
  for (let i = ring.length - 1; i >= 0; i -= 1) {
    const ev = ring.at(i);
    items.push(`<li><span class="muted">${clock(ev.t)}</span> ${esc(text(ev))}</li>`);
  }
  ul.innerHTML = items.join("") || '<li class="muted">none yet</li>';
}

function renderCassettes() {
  const c = state.hello ? state.hello.cassettes : null;
  const on = isObj(c);
  $("cassettes-synthetic").hidden = on;
  $("cassettes-body").hidden = !on;
  if (!on) return;
  const loaded = Array.isArray(c.loaded) ? c.loaded : [];
  $("cassette-folder").textContent = str(c.folder) || "–";
  $("cassette-loaded").textContent = loaded.length ? loaded.join(", ") : "none";
  $("cassette-interactions").textContent = num(c.interactions).toLocaleString();
  $("cassette-recording").textContent = str(c.recording_into) || "not recording";
  $("cassette-upstream").textContent = str(c.upstream) || "–";
  $("cassette-hits").textContent = state.hits.toLocaleString();
  $("cassette-misses").textContent = state.misses.toLocaleString();
  $("cassette-recorded").textContent = state.recorded.toLocaleString();
  listItems($("recent-recorded"), state.recentRecorded, (ev) => `${str(ev.endpoint)} → ${str(ev.cassette)} (${str(ev.status)})`);
  listItems($("recent-misses"), state.recentMisses, (ev) => `${str(ev.endpoint)} ${str(ev.path)}`);
}

// ---- the WebSocket ----------------------------------------------------------------------

function onHello(msg) {
  backoff = 500; // a server that says hello is healthy: the next drop retries quickly again
  state.hello = msg;
  controls.setMeta({ endpoints: msg.endpoints, strategies: msg.strategies, failureModes: msg.failure_modes });
  controls.setConfig(msg.config, null);
  controls.scheduleRefresh(0); // hello has no effective per-endpoint values (an endpoint may inherit from another)
  pushSnapshot(msg.metrics);
  invalidate("header", "metrics", "cassettes", "hist", "log");
  journal.load();
}

function onMessage(e) {
  let msg;
  try {
    msg = JSON.parse(e.data);
  } catch {
    return;
  }
  if (!isObj(msg)) return;
  if (msg.type === "hello") onHello(msg);
  else if (msg.type === "metrics") pushSnapshot(msg.snapshot);
  else if (msg.type === "events") onEvents(msg);
}

let backoff = 500;
let retryTimer = 0;

function connect() {
  clearTimeout(retryTimer);
  let ws;
  try {
    ws = new WebSocket(wsUrl());
  } catch {
    retry();
    return;
  }
  ws.addEventListener("open", () => setConnected(true));
  ws.addEventListener("message", onMessage);
  ws.addEventListener("close", (e) => {
    setConnected(false);
    if (e.code === 4401) {
      askToken().then(connect);
      return;
    }
    retry();
  });
}

function retry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 5000);
}

function start() {
  makeCharts();
  setupLog();
  journal.setup();
  journal.render();
  renderCassettes();
  connect();
  // Keep the time axis moving while the server is quiet or away.
  setInterval(() => invalidate("charts"), 1000);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
