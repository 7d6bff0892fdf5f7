// Small <canvas> charts and a ring buffer: no library, nothing fetched at run time.

/** A fixed-capacity FIFO: pushing past capacity overwrites the oldest item. */
export class Ring {
  constructor(capacity) {
    this.capacity = capacity;
    this.items = new Array(capacity);
    this.start = 0;
    this.length = 0;
  }

  push(item) {
    if (this.length < this.capacity) {
      this.items[(this.start + this.length) % this.capacity] = item;
      this.length += 1;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** i = 0 is the oldest item. */
  at(i) {
    return this.items[(this.start + i) % this.capacity];
  }

  clear() {
    this.start = 0;
    this.length = 0;
    this.items = new Array(this.capacity);
  }

  toArray() {
    const out = new Array(this.length);
    for (let i = 0; i < this.length; i += 1) out[i] = this.at(i);
    return out;
  }
}

const AXIS = "#6b7280";
const GRID = "#e5e7eb";
const FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/** A "nice" axis maximum at or above v: 1, 2 or 5 times a power of ten. */
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function shortNumber(v) {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return a < 100 ? v.toFixed(1) : v.toFixed(0);
}

/** Sizes the canvas backing store to its CSS box times devicePixelRatio; returns a context in CSS pixels. */
function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth));
  const h = Math.max(1, Math.round(canvas.clientHeight));
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.font = FONT;
  return { ctx, w, h };
}

function drawYAxis(ctx, box, max) {
  ctx.strokeStyle = GRID;
  ctx.fillStyle = AXIS;
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let i = 0; i <= 4; i += 1) {
    const y = Math.round(box.y + box.h - (box.h * i) / 4) + 0.5;
    ctx.beginPath();
    ctx.moveTo(box.x, y);
    ctx.lineTo(box.x + box.w, y);
    ctx.stroke();
    ctx.fillText(shortNumber((max * i) / 4), box.x - 4, y);
  }
}

/**
 * Line chart over a sliding time window. series: [{label, color, ring}] where each ring holds
 * {t, v} points (t in ms). Redraw with draw(now).
 */
export class LineChart {
  constructor(canvas, { windowMs = 300_000, series = [] } = {}) {
    this.canvas = canvas;
    this.windowMs = windowMs;
    this.series = series;
  }

  draw(now = Date.now()) {
    const { canvas } = this;
    if (!canvas.isConnected || canvas.clientWidth === 0) return;
    const { ctx, w, h } = prepare(canvas);
    const box = { x: 44, y: 8, w: w - 52, h: h - 28 };
    if (box.w <= 0 || box.h <= 0) return;
    const from = now - this.windowMs;
    let max = 0;
    for (const s of this.series) {
      for (let i = 0; i < s.ring.length; i += 1) {
        const p = s.ring.at(i);
        if (p.t >= from && p.v > max) max = p.v;
      }
    }
    max = niceMax(max);
    drawYAxis(ctx, box, max);

    ctx.fillStyle = AXIS;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const minutes = this.windowMs / 60_000;
    for (let m = 0; m <= minutes; m += 1) {
      const x = box.x + box.w - (box.w * m) / minutes;
      ctx.textAlign = m === 0 ? "right" : "center";
      ctx.fillText(m === 0 ? "now" : `-${m}m`, x, box.y + box.h + 6);
    }

    const xOf = (t) => box.x + ((t - from) / this.windowMs) * box.w;
    const yOf = (v) => box.y + box.h - (Math.min(v, max) / max) * box.h;
    ctx.save();
    ctx.beginPath();
    ctx.rect(box.x, box.y - 2, box.w, box.h + 4);
    ctx.clip();
    for (const s of this.series) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.5;
      ctx.lineJoin = "round";
      ctx.beginPath();
      let started = false;
      let prevT = 0;
      for (let i = 0; i < s.ring.length; i += 1) {
        const p = s.ring.at(i);
        if (p.t < from - 2000) continue;
        const x = xOf(p.t);
        const y = yOf(p.v);
        // A gap of several seconds (disconnected) breaks the line instead of bridging it.
        if (!started || p.t - prevT > 3500) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
        started = true;
        prevT = p.t;
      }
      ctx.stroke();
    }
    ctx.restore();

    if (this.series.length > 1) {
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      let x = box.x + 6;
      for (const s of this.series) {
        ctx.fillStyle = s.color;
        ctx.fillRect(x, box.y + 3, 10, 3);
        ctx.fillStyle = AXIS;
        ctx.fillText(s.label, x + 14, box.y);
        x += 22 + ctx.measureText(s.label).width;
      }
    }
  }
}

/** Vertical bar chart: draw(labels, values). */
export class BarChart {
  constructor(canvas, { color = "#2563eb" } = {}) {
    this.canvas = canvas;
    this.color = color;
    this.labels = [];
    this.values = [];
  }

  draw(labels = this.labels, values = this.values) {
    this.labels = labels;
    this.values = values;
    const { canvas } = this;
    if (!canvas.isConnected || canvas.clientWidth === 0) return;
    const { ctx, w, h } = prepare(canvas);
    const box = { x: 44, y: 8, w: w - 52, h: h - 28 };
    if (box.w <= 0 || box.h <= 0 || values.length === 0) return;
    const max = niceMax(Math.max(0, ...values));
    drawYAxis(ctx, box, max);
    const slot = box.w / values.length;
    const bar = Math.max(1, slot * 0.75);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const every = Math.ceil(40 / slot); // skip labels that would overlap on narrow screens
    for (let i = 0; i < values.length; i += 1) {
      const bh = (values[i] / max) * box.h;
      const x = box.x + i * slot + (slot - bar) / 2;
      ctx.fillStyle = this.color;
      ctx.fillRect(x, box.y + box.h - bh, bar, bh);
      if (i % every === 0) {
        ctx.fillStyle = AXIS;
        ctx.fillText(labels[i] ?? "", box.x + i * slot + slot / 2, box.y + box.h + 6);
      }
    }
  }
}
