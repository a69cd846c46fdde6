// util.js: escaping and formatting shared by the views.
const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** esc makes any value safe inside HTML text or a quoted attribute. */
export const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ESC[c]);

export const STATES = ["UP", "DEGRADED", "DOWN", "UNKNOWN"];
export const KINDS = ["postgres", "elasticsearch", "milvus", "redis", "nacos", "rabbitmq"];

/** stateTag is the state as colour, shape and text (never colour alone). */
export const stateTag = (s) => `<span class="state ${esc(s)}">${esc(s)}</span>`;

/** rank orders states from best to worst. */
export const rank = (s) => ({ UNKNOWN: 0, UP: 1, DEGRADED: 2, DOWN: 3 })[s] ?? 0;

/** ago is a short relative time ("3 min ago"). */
export function ago(t, now = Date.now()) {
  if (!t) return "—";
  const s = Math.round((now - new Date(t).getTime()) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** when is a timestamp as the reader's local date and time. */
export const when = (t) => (t ? new Date(t).toLocaleString() : "—");

/** ms is a latency in milliseconds. */
export const ms = (v) => (v == null ? "—" : v < 0.01 ? "< 0.01 ms" : v < 10 ? `${v.toFixed(2)} ms` : `${Math.round(v)} ms`);

/** pct is a ratio as a percentage ("n/a" for null). */
export const pct = (v) => (v == null ? "n/a" : `${(v * 100).toFixed(v >= 0.9995 || v === 0 ? 0 : 2)}%`);

/** bytes is a byte count with a binary unit. */
export function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** humanKey turns a details key ("replica_lag_seconds") into words. */
export const humanKey = (k) => k.replace(/[_.]+/g, " ").replace(/^./, (c) => c.toUpperCase());

/** factValue renders one details value readably, by its key. */
export function factValue(k, v) {
  if (v == null || v === "") return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") {
    if (/bytes|memory/i.test(k)) return bytes(v);
    if (/_ms$|latency/i.test(k)) return ms(v);
    if (/seconds|_s$/i.test(k)) return `${v} s`;
    return v.toLocaleString();
  }
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : x)).join(", ");
  return String(v);
}

/** flatten turns nested details into [key, value] pairs ("cluster.status"). */
export function flatten(obj, prefix = "", out = []) {
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, out);
    else out.push([key, v]);
  }
  return out;
}

/** targetHref is the page of one target. */
export const targetHref = (type, name) => `/targets/${encodeURIComponent(type)}/${encodeURIComponent(name)}`;
