// The request journal: recent requests listed live (request.journal events), and one request in full on a click
// (GET /api/requests/{id}): what was sent, secrets redacted, and what answered.

import { api } from "./api.js";

const ROWS = 200; // rows kept in the list
const $ = (id) => document.getElementById(id);
const str = (v) => (v === null || v === undefined ? "" : String(v));
const esc = (v) =>
  str(v).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const ms = (v) => (typeof v === "number" && Number.isFinite(v) ? `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms` : "–");
const json = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

function clock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function answeredBy(a) {
  if (!a || typeof a !== "object") return "";
  if ("rule" in a) return `rule ${a.rule}, step ${a.step}`;
  if ("cassette" in a) return `cassette ${a.cassette} #${a.index}`;
  const kept = "recorded_into" in a ? `, recorded into ${a.recorded_into}` : "";
  if ("upstream" in a) return `upstream ${a.upstream}${kept}`;
  if ("missed" in a) return `no recording in cassette ${a.missed}`;
  return Object.keys(a).join(", ");
}

function rowHtml(e, selected) {
  const bad = typeof e.status === "number" && (e.status >= 400 || e.status === 0) ? "bad" : "good";
  return (
    `<tr data-id="${esc(e.id)}" class="${bad}${selected ? " selected" : ""}" tabindex="0">` +
    `<td>${clock(e.time)}</td><td>${esc(e.endpoint)}</td><td>${esc(e.model)}</td><td>${esc(e.status || "–")}</td>` +
    `<td>${esc(e.source || "–")}</td><td>${esc(e.test_id || "")}</td><td>${ms(e.duration_ms)}</td></tr>`
  );
}

function kv(pairs) {
  return `<dl class="kv">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
}

function messagesHtml(n) {
  const rows = [];
  if (n.system) rows.push(`<li><b>system</b> ${esc(n.system)}</li>`);
  for (const m of Array.isArray(n.messages) ? n.messages : []) {
    const results = (Array.isArray(m.results) ? m.results : [])
      .map((r) => `<div class="muted">result of ${esc(r.name || r.call_id)}: ${esc(r.content)}</div>`)
      .join("");
    rows.push(`<li><b>${esc(m.role)}</b> ${esc(m.text)}${results}</li>`);
  }
  const tools = (Array.isArray(n.tools) ? n.tools : []).map((t) => t.name).join(", ");
  return (
    `<ul class="turns">${rows.join("")}</ul>` +
    kv([
      ["api", n.api],
      ["tools", tools || "none"],
      ["tool choice", n.tool_choice ? n.tool_choice.mode : ""],
      ["output", n.output ? n.output.kind : ""],
      ["stream", n.stream],
    ])
  );
}

function replyHtml(r) {
  if (!r) return '<p class="muted">No neutral reply (a recording, the upstream or an early answer spoke).</p>';
  const calls = (Array.isArray(r.tool_calls) ? r.tool_calls : [])
    .map((c) => `<li><code>${esc(c.name)}(${esc(JSON.stringify(c.arguments))})</code></li>`)
    .join("");
  return (
    (r.text ? `<pre class="body" data-testid="journal-reply-text">${esc(r.text)}</pre>` : "") +
    (calls ? `<ul class="turns">${calls}</ul>` : "") +
    kv([["finish", r.finish]])
  );
}

export function detailHtml(d) {
  const req = d.request || {};
  const headers = Object.entries(req.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  return (
    `<h3>${esc(d.method)} ${esc(d.path)} <small class="muted">${esc(d.id)}</small></h3>` +
    '<div class="journal-cols"><div>' +
    "<h3>Sent</h3>" +
    `<pre class="body" data-testid="journal-headers">${esc(headers)}</pre>` +
    `<pre class="body" data-testid="journal-body">${esc(json(req.body))}${req.truncated ? "\n… (cut)" : ""}</pre>` +
    (d.neutral ? `<h3>Neutral view</h3>${messagesHtml(d.neutral)}` : "") +
    "</div><div>" +
    "<h3>Answered</h3>" +
    kv([
      ["source", d.source || "–"],
      ["by", answeredBy(d.answered_by)],
      ["status", d.status],
      ["outcome", d.outcome || "ok"],
      ["tokens", `${d.input_tokens} in / ${d.output_tokens} out`],
      ["ttfb", ms(d.ttfb_ms)],
      ["duration", ms(d.duration_ms)],
      ["chunks", d.chunks],
      ["test id", d.test_id || "–"],
    ]) +
    "<h3>Reply</h3>" +
    replyHtml(d.reply) +
    "</div></div>"
  );
}

export class JournalView {
  constructor() {
    this.rows = []; // newest last
    this.ids = new Set();
    this.selected = null;
    this.filter = "";
    this.dirty = false;
  }

  setup() {
    $("journal-list").addEventListener("click", (e) => {
      const tr = e.target.closest("tr[data-id]");
      if (tr) this.show(tr.dataset.id);
    });
    $("journal-list").addEventListener("keydown", (e) => {
      const tr = e.target.closest("tr[data-id]");
      if (tr && (e.key === "Enter" || e.key === " ")) this.show(tr.dataset.id);
    });
    let timer = 0;
    $("journal-filter").addEventListener("input", (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.filter = e.target.value.trim().toLowerCase();
        this.render();
      }, 100);
    });
    $("journal-reload").addEventListener("click", () => this.load());
  }

  /** The newest entries the server has (on connect, and on demand). */
  async load() {
    try {
      const entries = await api("GET", `/api/requests?limit=${ROWS}`);
      this.rows = [];
      this.ids.clear();
      this.add(Array.isArray(entries) ? entries : []);
      $("journal-error").textContent = "";
    } catch (err) {
      $("journal-error").textContent = `journal: ${err.message}`;
    }
  }

  /** Entries (list-row fields) from the server, oldest first. */
  add(entries) {
    for (const e of entries) {
      if (!e || typeof e.id !== "string" || this.ids.has(e.id)) continue;
      this.ids.add(e.id);
      this.rows.push(e);
    }
    while (this.rows.length > ROWS) this.ids.delete(this.rows.shift().id);
    this.invalidate();
  }

  invalidate() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => this.render());
  }

  matches(e) {
    if (!this.filter) return true;
    return `${e.endpoint} ${e.model} ${e.source} ${e.test_id} ${e.status}`.toLowerCase().includes(this.filter);
  }

  render() {
    this.dirty = false;
    const out = [];
    for (let i = this.rows.length - 1; i >= 0; i -= 1) {
      const e = this.rows[i];
      if (this.matches(e)) out.push(rowHtml(e, e.id === this.selected));
    }
    $("journal-list").tBodies[0].innerHTML = out.join("") || '<tr><td colspan="7" class="muted">no requests yet</td></tr>';
  }

  async show(id) {
    this.selected = id;
    this.render();
    const pane = $("journal-detail");
    pane.hidden = false;
    try {
      pane.innerHTML = detailHtml(await api("GET", `/api/requests/${encodeURIComponent(id)}`));
    } catch (err) {
      pane.innerHTML = `<p class="error">${esc(err.status === 404 ? "no longer in the journal" : err.message)}</p>`;
    }
  }
}
