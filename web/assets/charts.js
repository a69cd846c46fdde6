// charts.js: hand-written SVG charts (uptime bars, latency, state timeline).
import { esc, rank, ms } from "./util.js";

const NS = 'xmlns="http://www.w3.org/2000/svg"';

/**
 * slots buckets checks (any order) into n slots ending at now: each slot is
 * the worst observed state in it, or "none". A slot before `oldest` (the
 * oldest time loaded) stays "none".
 */
export function slots(items, now, hours, n) {
  const span = hours * 3600e3;
  const start = now - span;
  const out = new Array(n).fill("none");
  for (const it of items) {
    const t = new Date(it.checked_at).getTime();
    if (t < start || t > now) continue;
    const i = Math.min(n - 1, Math.floor(((t - start) / span) * n));
    if (out[i] === "none" || rank(it.state) > rank(out[i])) out[i] = it.state;
  }
  return out;
}

/** uptimeBar draws slots as an SVG bar with a text alternative. */
export function uptimeBar(s, label) {
  const w = 4;
  const rects = s.map((st, i) => st === "none"
    ? `<rect class="none" x="${i * w}" y="7" width="${w - 1}" height="4"/>`
    : `<rect class="${esc(st)}" x="${i * w}" y="0" width="${w - 1}" height="18"/>`).join("");
  return `<svg class="bar" ${NS} viewBox="0 0 ${s.length * w} 18" preserveAspectRatio="none" role="img" aria-label="${esc(label)}">${rects}</svg>`;
}

/** barLabel summarizes slots in words for screen readers and tooltips. */
export function barLabel(s, hours) {
  const c = { UP: 0, DEGRADED: 0, DOWN: 0, none: 0 };
  for (const st of s) c[st in c ? st : "none"]++;
  const per = Math.round((hours * 60) / s.length);
  return `last ${hours} h in ${per}-minute slots: ${c.UP} up, ${c.DEGRADED} degraded, ${c.DOWN} down, ${c.none} without data`;
}

/**
 * latencyChart draws the latency of checks (newest first, as the history
 * API returns them) from `from` to `to` as one polyline: one vertex per
 * check.
 */
export function latencyChart(items, from, to, title) {
  const W = 800, H = 220, L = 48, B = 22, T = 8;
  const pts = items.slice().reverse();
  // A range longer than the data is drawn from the first check on.
  if (pts.length > 1) from = Math.max(from, new Date(pts[0].checked_at).getTime() - 1000);
  const max = Math.max(1, ...pts.map((p) => p.latency_ms)) * 1.1;
  const x = (t) => L + ((t - from) / (to - from)) * (W - L - 4);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const poly = pts.map((p) => `${x(new Date(p.checked_at).getTime()).toFixed(1)},${y(p.latency_ms).toFixed(1)}`).join(" ");
  const ticks = [0, 0.5, 1].map((f) => {
    const v = max * f;
    return `<line class="axis" x1="${L}" x2="${W}" y1="${y(v)}" y2="${y(v)}"/><text x="${L - 4}" y="${y(v) + 4}" text-anchor="end">${esc(ms(v))}</text>`;
  }).join("");
  const times = [0, 0.5, 1].map((f) => {
    const t = from + (to - from) * f;
    const d = new Date(t);
    const span = to - from;
    const label = span > 86400e3 ? d.toLocaleDateString()
      : d.toLocaleTimeString([], span < 600e3 ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : { hour: "2-digit", minute: "2-digit" });
    return `<text x="${x(t)}" y="${H - 6}" text-anchor="${f === 0 ? "start" : f === 1 ? "end" : "middle"}">${esc(label)}</text>`;
  }).join("");
  const lat = pts.map((p) => p.latency_ms).sort((a, b) => a - b);
  const med = lat.length ? lat[Math.floor(lat.length / 2)] : null;
  const desc = `${pts.length} checks; median ${ms(med)}, max ${ms(lat[lat.length - 1])}`;
  const dots = pts.length <= 120 ? pts.map((p) => `<circle class="dot" r="2.5" cx="${x(new Date(p.checked_at).getTime()).toFixed(1)}" cy="${y(p.latency_ms).toFixed(1)}"/>`).join("") : "";
  return `<svg class="chart" ${NS} viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title + ": " + desc)}" data-points="${pts.length}" data-from="${new Date(from).toISOString()}" data-to="${new Date(to).toISOString()}"${pts.length ? ` data-newest="${esc(pts[pts.length - 1].checked_at)}"` : ""}>` +
    `${ticks}${times}${pts.length ? `<polyline class="line" points="${poly}"/>` : ""}${dots}</svg>`;
}

/**
 * transitions are the changes of observed state between consecutive checks
 * (items newest first): [{at, from, to}], oldest first.
 */
export function transitions(items) {
  const pts = items.slice().reverse();
  const out = [];
  for (let i = 1; i < pts.length; i++) {
    if (pts[i].state !== pts[i - 1].state) out.push({ at: pts[i].checked_at, from: pts[i - 1].state, to: pts[i].state });
  }
  return out;
}

/** timeline draws the observed state over [from, to] as coloured segments. */
export function timeline(items, from, to, label) {
  const W = 800;
  const pts = items.slice().reverse();
  if (pts.length > 1) from = Math.max(from, new Date(pts[0].checked_at).getTime() - 1000);
  const x = (t) => ((Math.max(t, from) - from) / (to - from)) * W;
  const segs = [];
  for (const p of pts) {
    const t = new Date(p.checked_at).getTime();
    if (!segs.length || segs[segs.length - 1].state !== p.state) segs.push({ state: p.state, a: t });
  }
  const rects = segs.map((s, i) => {
    const b = i + 1 < segs.length ? segs[i + 1].a : to;
    return `<rect class="${esc(s.state)}" x="${x(s.a).toFixed(1)}" y="0" width="${Math.max(0.5, x(b) - x(s.a)).toFixed(1)}" height="26"/>`;
  }).join("");
  return `<svg class="timeline" ${NS} viewBox="0 0 ${W} 26" preserveAspectRatio="none" role="img" aria-label="${esc(label)}">${rects}</svg>`;
}
