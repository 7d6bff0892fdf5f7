// The shaping controls: latency, rate limiting, error injection and the endpoints' switches, globally or for
// one endpoint.

import { api } from "./api.js";
import { FailureKinds } from "./kinds.js";
import { EndpointSwitches } from "./switches.js";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 150;
const HANDS_OFF_MS = 1500; // after the user touches a control, server refreshes leave it alone this long

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(isObj(over) ? over : {})) {
    // Same rule as the server: "kinds" is replaced whole, other sections merge field by field.
    out[k] = isObj(v) && isObj(out[k]) && k !== "kinds" ? merge(out[k], v) : v;
  }
  return out;
}

/** A percent box's value as a fraction in 0..1, to 0.1 %. */
function fraction(el) {
  const pct = Number(el.value);
  return Number.isFinite(pct) ? Math.min(1, Math.max(0, Math.round(pct * 10) / 1000)) : 0;
}

export class Controls {
  constructor({ onConfigLoaded } = {}) {
    this.config = { global: {}, endpoints: {} };
    this.effective = {}; // endpoint → effective config, from GET /api/config/endpoints
    this.endpoints = [];
    this.strategies = [];
    this.scope = "global";
    this.touched = new Map(); // element → time of the last user edit
    this.pending = null; // {scope, patch} waiting for its debounce
    this.timer = 0;
    this.chain = Promise.resolve(); // PATCHes go out one at a time, in order
    this.refreshTimer = 0;
    this.known = new Map(); // "scope|section|field" → JSON of the value last sent
    this.onConfigLoaded = onConfigLoaded || (() => {});
    this.kinds = new FailureKinds();
    this.bind();
    this.switches = new EndpointSwitches(this);
  }

  // ---- metadata from hello ------------------------------------------------------------

  setMeta({ endpoints, strategies, failureModes }) {
    this.endpoints = Array.isArray(endpoints) ? endpoints.filter((e) => typeof e === "string") : [];
    this.strategies = Array.isArray(strategies) ? strategies.filter((s) => isObj(s) && s.name) : [];

    const scope = $("scope");
    const keep = scope.value || this.scope;
    scope.replaceChildren(new Option("global", "global"));
    for (const name of this.endpoints) scope.append(new Option(name, name));
    scope.value = this.endpoints.includes(keep) ? keep : "global";
    this.scope = scope.value;
    this.switches.setEndpoints(this.endpoints);

    const sel = $("rl-strategy");
    sel.replaceChildren(...this.strategies.map((s) => new Option(s.name, s.name)));

    this.kinds.build(Array.isArray(failureModes) ? failureModes.filter((m) => isObj(m) && m.name) : []);
  }

  // ---- configuration from the server ---------------------------------------------------

  setConfig(config, endpointsInfo) {
    if (isObj(config)) {
      this.config = { global: isObj(config.global) ? config.global : {}, endpoints: isObj(config.endpoints) ? config.endpoints : {} };
    }
    if (isObj(endpointsInfo)) this.effective = endpointsInfo;
    else if (isObj(config)) this.effective = {}; // stale: recompute from global + overrides
    if (!this.pending) this.known.clear();
    this.render();
  }

  /** Re-fetch the configuration soon; bursts of config events collapse into one fetch. */
  scheduleRefresh(delay = 100) {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), delay);
  }

  async refresh() {
    try {
      const [config, endpoints] = await Promise.all([api("GET", "/api/config"), api("GET", "/api/config/endpoints")]);
      this.setConfig(config, endpoints);
      this.onConfigLoaded();
    } catch {
      // The WebSocket's reconnect and hello bring the configuration back; nothing to show here.
    }
  }

  current() {
    return this.scope === "global" ? this.config.global || {} : this.effectiveOf(this.scope);
  }

  /** An endpoint's effective configuration: the server's, or global merged with its overrides until that comes. */
  effectiveOf(name) {
    const info = this.effective[name];
    if (isObj(info) && isObj(info.effective)) return info.effective;
    const base = { ...(this.config.global || {}) };
    delete base.tool_call_probability;
    return merge(base, this.overridesOf(name));
  }

  /** An endpoint's own overrides, in llmreplay's fields (GET /api/config's entries carry the original's beside them). */
  overridesOf(name) {
    const info = this.effective[name];
    if (isObj(info) && isObj(info.overrides)) return info.overrides;
    const over = this.config.endpoints[name];
    return isObj(over) ? over : {};
  }

  /** Whether an endpoint answers, and whether that is its own setting rather than the global one. */
  stateOf(name) {
    return { enabled: this.effectiveOf(name).enabled !== false, own: "enabled" in this.overridesOf(name) };
  }

  // ---- rendering -----------------------------------------------------------------------

  handsOff(el) {
    if (document.activeElement === el && el.type !== "checkbox" && el.tagName !== "SELECT") return true;
    const t = this.touched.get(el);
    return t !== undefined && performance.now() - t < HANDS_OFF_MS;
  }

  setValue(el, value) {
    if (!el || this.handsOff(el)) return;
    if (el.type === "checkbox") el.checked = Boolean(value);
    else el.value = value === null || value === undefined ? "" : String(value);
  }

  render() {
    const cfg = this.current();
    const lat = isObj(cfg.latency) ? cfg.latency : {};
    for (const el of document.querySelectorAll("#latency-controls input[data-field]")) {
      this.setValue(el, lat[el.dataset.field]);
    }

    const rl = isObj(cfg.rate_limit) ? cfg.rate_limit : {};
    this.setValue($("rl-enabled"), rl.enabled);
    if (rl.strategy && !this.strategies.some((s) => s.name === rl.strategy)) {
      $("rl-strategy").append(new Option(rl.strategy, rl.strategy));
    }
    this.setValue($("rl-strategy"), rl.strategy);
    for (const el of document.querySelectorAll("#rl-controls .params [data-field]")) {
      this.setValue(el, rl[el.dataset.field]);
    }
    this.showParams();

    $("load-controls").classList.toggle("off", !lat.load_degradation);

    const fl = isObj(cfg.failures) ? cfg.failures : {};
    for (const [field, ids] of [
      ["error_rate", ["error-rate", "error-rate-number"]],
      ["stream_interrupt_rate", ["interrupt-rate", "interrupt-rate-number"]],
    ]) {
      const pct = Number.isFinite(fl[field]) ? Math.round(fl[field] * 1000) / 10 : 0;
      for (const id of ids) this.setValue($(id), pct);
    }
    this.kinds.render(isObj(fl.kinds) ? fl.kinds : {}, (el) => this.handsOff(el));

    const scoped = this.scope !== "global";
    const over = scoped ? this.overridesOf(this.scope) : {};
    $("clear-overrides").hidden = !scoped || Object.keys(over).length === 0;
    $("overrides").textContent = scoped
      ? Object.keys(over).length
        ? `overrides: ${JSON.stringify(over)}`
        : "no overrides of its own"
      : "";
    for (const opt of $("scope").options) {
      const off = opt.value === "global" ? this.config.global.enabled === false : !this.stateOf(opt.value).enabled;
      opt.textContent = off ? `${opt.value} (off)` : opt.value;
    }
    this.switches.render();
  }

  showParams() {
    const strategy = this.strategies.find((s) => s.name === $("rl-strategy").value);
    const params = strategy && Array.isArray(strategy.parameters) ? strategy.parameters : [];
    for (const label of document.querySelectorAll("#rl-controls [data-param]")) {
      const p = label.dataset.param;
      // tokens_per_minute and per_key work with every strategy, so they are always offered.
      label.hidden = !(params.includes(p) || p === "tokens_per_minute" || p === "per_key");
    }
    $("rl-description").textContent = strategy ? strategy.description || "" : "";
  }

  // ---- sending changes -------------------------------------------------------------------

  touch(el) {
    this.touched.set(el, performance.now());
  }

  /** Merge a partial patch into the pending one; send after the debounce, or now with immediate. */
  queue(patch, immediate) {
    if (this.pending && this.pending.scope !== this.scope) this.flush();
    const p = this.pending || { scope: this.scope, patch: {} };
    let changed = false;
    for (const [section, fields] of Object.entries(patch)) {
      for (const [field, value] of Object.entries(fields)) {
        // A repeated input/change event (or a blur after the value was already sent) is not a change.
        const queued = p.patch[section] && field in p.patch[section];
        if (!queued && this.same(section, field, value)) continue;
        p.patch[section] = { ...(p.patch[section] || {}), [field]: value };
        this.known.set(`${this.scope}|${section}|${field}`, JSON.stringify(value));
        changed = true;
      }
    }
    if (!changed && !this.pending) return;
    // The failures section always goes whole (rate and kinds), as the panel shows it.
    if (patch.failures && p.patch.failures) p.patch.failures = { ...p.patch.failures, ...patch.failures };
    this.pending = p;
    clearTimeout(this.timer);
    if (immediate) this.flush();
    else this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  /** Whether value is what this scope already has (last sent, or else the loaded configuration). */
  same(section, field, value) {
    const key = `${this.scope}|${section}|${field}`;
    if (this.known.has(key)) return this.known.get(key) === JSON.stringify(value);
    const cur = this.current()[section];
    return isObj(cur) && field in cur && JSON.stringify(cur[field]) === JSON.stringify(value);
  }

  flush() {
    clearTimeout(this.timer);
    const p = this.pending;
    this.pending = null;
    if (!p) return this.chain;
    const errorEl = Object.keys(p.patch).includes("failures")
      ? $("failures-error")
      : Object.keys(p.patch).includes("rate_limit")
        ? $("rl-error")
        : $("latency-error");
    return this.send(p.scope, p.patch, errorEl, () => {
      // Nothing was applied: the server's values are the reference again, so a retry is sent.
      for (const key of [...this.known.keys()]) if (key.startsWith(`${p.scope}|`)) this.known.delete(key);
    });
  }

  /** PATCH one scope, after every change sent before it; a refusal is shown in errorEl. */
  send(scope, patch, errorEl, onRefused = () => {}) {
    if (this.pending) this.flush(); // what the user changed first goes first
    const path = scope === "global" ? "/api/config/global" : `/api/config/endpoints/${encodeURIComponent(scope)}`;
    this.chain = this.chain.then(async () => {
      try {
        await api("PATCH", path, patch);
        errorEl.textContent = "";
        this.scheduleRefresh();
      } catch (err) {
        errorEl.textContent = err.status ? `${err.status}: ${err.message}` : err.message;
        onRefused();
      }
    });
    return this.chain;
  }

  bind() {
    $("scope").addEventListener("change", (e) => {
      this.flush();
      this.scope = e.target.value;
      this.touched.clear();
      for (const id of ["latency-error", "rl-error", "failures-error", "endpoints-error"]) $(id).textContent = "";
      this.render();
    });

    $("clear-overrides").addEventListener("click", async () => {
      if (this.scope === "global") return;
      try {
        await api("DELETE", `/api/config/endpoints/${encodeURIComponent(this.scope)}`);
        this.touched.clear();
        this.scheduleRefresh(0);
      } catch (err) {
        $("latency-error").textContent = err.message;
      }
    });

    // Latency: a slider and a number box per field, kept in step with each other; load degradation's switch.
    for (const el of document.querySelectorAll("#latency-controls input[data-field]")) {
      const field = el.dataset.field;
      if (el.type === "checkbox") {
        el.addEventListener("change", () => {
          this.touch(el);
          $("load-controls").classList.toggle("off", !el.checked);
          this.queue({ latency: { [field]: el.checked } }, true);
        });
        continue;
      }
      const twin = () =>
        [...document.querySelectorAll(`#latency-controls input[data-field="${field}"]`)].filter((o) => o !== el);
      const send = (immediate) => {
        this.touch(el);
        for (const o of twin()) {
          o.value = el.value;
          this.touch(o);
        }
        if (el.value === "") return;
        const v = Number(el.value);
        if (!Number.isFinite(v)) return;
        this.queue({ latency: { [field]: v } }, immediate);
      };
      el.addEventListener("input", () => send(false));
      el.addEventListener("change", () => send(true));
    }

    // Rate limiting applies on every change.
    $("rl-enabled").addEventListener("change", (e) => {
      this.touch(e.target);
      this.queue({ rate_limit: { enabled: e.target.checked } }, true);
    });
    $("rl-strategy").addEventListener("change", (e) => {
      this.touch(e.target);
      this.showParams();
      this.queue({ rate_limit: { strategy: e.target.value } }, true);
    });
    for (const el of document.querySelectorAll("#rl-controls .params [data-field]")) {
      el.addEventListener("input", () => this.touch(el));
      el.addEventListener("change", () => {
        this.touch(el);
        const field = el.dataset.field;
        let v;
        if (el.type === "checkbox") v = el.checked;
        else if (el.value === "") {
          if (field !== "tokens_per_minute") return;
          v = null;
        } else v = Number(el.value);
        this.queue({ rate_limit: { [field]: v } }, true);
      });
    }
    $("rl-reset").addEventListener("click", async () => {
      const path =
        this.scope === "global" ? "/api/rate-limit/reset" : `/api/rate-limit/reset/${encodeURIComponent(this.scope)}`;
      try {
        await api("POST", path);
        $("rl-error").textContent = "";
        $("rl-reset-done").textContent = `reset ${this.scope === "global" ? "all" : this.scope} ✓`;
        setTimeout(() => ($("rl-reset-done").textContent = ""), 2000);
      } catch (err) {
        $("rl-error").textContent = err.status ? `${err.status}: ${err.message}` : err.message;
      }
    });

    // Error injection: the rate and the kinds go together; the interruption rate goes alone.
    const percents = [
      ["error-rate", "error-rate-number", () => this.failures()],
      ["interrupt-rate", "interrupt-rate-number", () => ({
        stream_interrupt_rate: fraction($("interrupt-rate-number")),
      })],
    ];
    for (const [a, b, failures] of percents) {
      for (const [el, twin] of [
        [$(a), $(b)],
        [$(b), $(a)],
      ]) {
        const send = (immediate) => {
          this.touch(el);
          this.touch(twin);
          twin.value = el.value;
          if (el.value === "" || !Number.isFinite(Number(el.value))) return;
          this.queue({ failures: failures() }, immediate);
        };
        el.addEventListener("input", () => send(false));
        el.addEventListener("change", () => send(true));
      }
    }
    const kinds = $("kinds");
    kinds.addEventListener("input", (e) => this.touch(e.target));
    kinds.addEventListener("change", (e) => {
      this.touch(e.target);
      const tr = e.target.closest("tr");
      // Editing a weight or spec of an unchecked kind means the user wants it on.
      if (tr && e.target.type !== "checkbox") tr.querySelector(".kind-check").checked = true;
      this.queue({ failures: this.failures() }, true);
    });
  }

  /** The failures section as the controls show it. */
  failures() {
    return { error_rate: fraction($("error-rate-number")), kinds: this.kinds.value() };
  }
}
