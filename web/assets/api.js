// api.js: the page's only way to the server. Every call goes to this
// origin's /api; the token (sessionStorage, never a URL) rides in the
// Authorization header.
const KEY = "dbhealth.token";

export const token = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (t) => (t ? sessionStorage.setItem(KEY, t) : sessionStorage.removeItem(KEY)),
};

/** ApiError carries the HTTP status and the API's error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || "HTTP " + status);
    this.status = status;
    this.code = code;
  }
}

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  const t = token.get();
  if (t) h.Authorization = "Bearer " + t;
  return h;
}

/** call fetches path (under /api/database) and decodes its JSON answer. */
export async function call(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, headers: headers(body ? { "Content-Type": "application/json" } : {}) };
  if (body) init.body = JSON.stringify(body);
  const res = await fetch("/api/database" + path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code, e.message);
  }
  return data;
}

/** history reads up to maxPages pages of one target's checks in [since, until], newest first. */
export async function history(type, name, since, until, maxPages, signal) {
  const items = [];
  let cursor = "";
  let complete = false;
  for (let i = 0; i < maxPages; i++) {
    const q = new URLSearchParams({ name, since: since.toISOString(), until: until.toISOString(), limit: "1000" });
    if (cursor) q.set("cursor", cursor);
    const page = await call(`/history/${encodeURIComponent(type)}?${q}`, { signal });
    items.push(...page.items);
    cursor = page.next;
    if (!cursor) { complete = true; break; }
  }
  return { items, complete };
}

/**
 * stream follows the Server-Sent Events of /api/database/events with
 * fetch() (EventSource cannot send the Authorization header), calling
 * onEvent(type, data) per event and onState(live, detail) when the link
 * comes up or goes down. It reconnects with a growing delay (1 s to 5 s)
 * until stop() is called.
 */
export function stream(types, onEvent, onState, targets) {
  let stopped = false;
  let ctrl = null;
  let delay = 1000;
  async function once() {
    ctrl = new AbortController();
    const only = targets && targets.length ? "&target=" + encodeURIComponent(targets.join(",")) : "";
    const res = await fetch("/api/database/events?type=" + types.join(",") + only, {
      headers: headers({ Accept: "text/event-stream" }), signal: ctrl.signal, cache: "no-store",
    });
    if (!res.ok) throw new ApiError(res.status, "", res.status === 401 ? "the stream needs the token" : "HTTP " + res.status);
    onState(true, "");
    delay = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let type = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trimStart();
        }
        if (!data) continue;
        try { onEvent(type, JSON.parse(data)); } catch (e) { console.warn("event not handled", e); }
      }
    }
  }
  (async () => {
    while (!stopped) {
      let why = "the stream ended";
      try { await once(); } catch (e) { why = e.message || String(e); }
      if (stopped) return;
      onState(false, `not live (${why}); reconnecting in ${Math.round(delay / 1000)} s`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  })();
  return () => { stopped = true; if (ctrl) ctrl.abort(); };
}
