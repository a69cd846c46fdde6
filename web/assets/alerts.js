// alerts.js: firing and resolved alerts with their marks, the silences,
// and (with the token) silence, expire, ack and unack.
import { esc, when, KINDS } from "./util.js";
import { marks } from "./detail.js";

/** render draws the alerts view and returns its live hooks. */
export async function render(ctx) {
  const { main } = ctx;
  document.title = "Alerts — Database status";
  main.innerHTML = `<h1>Alerts</h1>
    <div class="filters"><label>Show <select id="a-state"><option value="all">firing and resolved</option><option value="firing">firing</option><option value="resolved">resolved</option></select></label>
    <p id="a-msg" role="status" aria-live="polite"></p></div>
    <div id="alerts"></div>
    <h2 id="h-sil">Silences</h2>
    ${ctx.canWrite ? silenceForm() : ""}
    <div id="silences"></div>`;
  const msg = (t, err) => { const el = main.querySelector("#a-msg"); el.textContent = t; el.className = err ? "error" : ""; };
  const act = async (what, fn) => {
    try { await fn(); msg(what); await load(); } catch (e) { msg(`${what} failed: ${e.message}`, true); }
  };
  const load = async () => {
    const state = main.querySelector("#a-state").value;
    const [a, s] = await Promise.all([ctx.call(`/alerts?state=${state}&limit=500`), ctx.call("/alerts/silences")]);
    main.querySelector("#alerts").innerHTML = alertTable(a.alerts, ctx.canWrite);
    main.querySelector("#silences").innerHTML = silenceTable(s.silences, ctx.canWrite);
  };
  main.querySelector("#a-state").onchange = () => load().catch(ctx.fail);
  const listeners = new AbortController(); // main outlives the view
  main.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (!b) return;
    const id = b.dataset.id;
    if (b.dataset.act === "ack") act("Acknowledged", () => ctx.call(`/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: { by: who(main) } }));
    if (b.dataset.act === "unack") act("Acknowledgement removed", () => ctx.call(`/alerts/${encodeURIComponent(id)}/unack`, { method: "POST" }));
    if (b.dataset.act === "expire") act("Silence expired", () => ctx.call(`/alerts/silences/${encodeURIComponent(id)}`, { method: "DELETE" }));
    if (b.dataset.act === "silence") {
      const f = main.querySelector("#sil");
      f.elements.type.value = b.dataset.type;
      f.elements.name.value = b.dataset.name;
      f.elements.name.focus();
    }
  }, { signal: listeners.signal });
  const form = main.querySelector("#sil");
  if (form) form.onsubmit = (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const matchers = ["type", "name", "severity"].filter((k) => f[k].value.trim()).map((k) => ({ name: k, value: f[k].value.trim() }));
    if (!matchers.length) { msg("A silence needs at least one matcher", true); return; }
    const endsAt = new Date(Date.now() + Number(f.hours.value) * 3600e3).toISOString();
    act("Silence created", () => ctx.call("/alerts/silences", { method: "POST", body: { matchers, endsAt, createdBy: f.by.value.trim() || "status page", comment: f.comment.value } }));
  };
  await load();
  let pending = null;
  return {
    onEvent(t) {
      if (!t.includes("state_changed") || pending) return;
      pending = setTimeout(() => { pending = null; load().catch(() => {}); }, 300); // the alert read model follows the transition
    },
    resync() { load().catch(() => {}); },
    dispose() { clearTimeout(pending); listeners.abort(); },
  };
}

/** who is the name written on acks (the silence form's "by", if any). */
const who = (main) => (main.querySelector("#sil")?.elements.by.value.trim()) || "status page";

/** alertTable lists alerts with their marks and, with the token, actions. */
function alertTable(alerts, canWrite) {
  if (!alerts.length) return '<p class="muted">No alert.</p>';
  return `<table class="alerts"><thead><tr><th scope="col">State</th><th scope="col">Target</th><th scope="col">Reason</th><th scope="col">Started</th><th scope="col">Resolved</th><th scope="col">Marks</th>${canWrite ? '<th scope="col">Actions</th>' : ""}</tr></thead><tbody>` +
    alerts.map((a) => `<tr data-alert="${esc(a.id)}"><td><span class="state ${a.state === "firing" ? (a.severity === "critical" ? "DOWN" : "DEGRADED") : "UP"}">${esc(a.state)}</span> <span class="muted">${esc(a.severity)}</span></td>` +
      `<td><a href="/targets/${encodeURIComponent(a.type)}/${encodeURIComponent(a.name)}">${esc(a.type)}/${esc(a.name)}</a></td><td>${esc(a.reason)}</td>` +
      `<td>${esc(when(a.started_at))}</td><td>${esc(when(a.resolved_at))}</td><td class="tags">${marks(a)}</td>` +
      (canWrite ? `<td><div class="row-actions">${a.state !== "firing" ? "" : a.acked_by
        ? `<button type="button" data-act="unack" data-id="${esc(a.id)}">Unack<span class="sr"> ${esc(a.name)}</span></button>`
        : `<button type="button" data-act="ack" data-id="${esc(a.id)}">Ack<span class="sr"> ${esc(a.name)}</span></button>`}` +
        `<button type="button" data-act="silence" data-type="${esc(a.type)}" data-name="${esc(a.name)}">Silence…<span class="sr"> ${esc(a.name)}</span></button></div></td>` : "") +
      "</tr>").join("") + "</tbody></table>";
}

/** silenceTable lists the silences, newest first. */
function silenceTable(silences, canWrite) {
  if (!silences.length) return '<p class="muted">No silence.</p>';
  const m = (s) => s.matchers.map((x) => `${esc(x.name)}${x.isEqual === false ? "!" : ""}${x.isRegex ? "=~" : "="}${esc(x.value)}`).join(", ");
  return `<table><thead><tr><th scope="col">Matchers</th><th scope="col">Status</th><th scope="col">Ends</th><th scope="col">By</th><th scope="col">Comment</th>${canWrite ? '<th scope="col">Actions</th>' : ""}</tr></thead><tbody>` +
    silences.map((s) => `<tr data-silence="${esc(s.id)}"><td><code>${m(s)}</code></td><td>${esc(s.status)}</td><td>${esc(when(s.endsAt))}</td><td>${esc(s.createdBy)}</td><td>${esc(s.comment)}</td>` +
      (canWrite ? `<td>${s.status !== "expired" ? `<button type="button" class="danger" data-act="expire" data-id="${esc(s.id)}">Expire<span class="sr"> silence ${esc(m(s))}</span></button>` : ""}</td>` : "") +
      "</tr>").join("") + "</tbody></table>";
}

/** silenceForm creates a silence over type, name and severity matchers. */
function silenceForm() {
  return `<form id="sil" class="inline panel" aria-labelledby="h-sil">
    <label>Kind <select name="type"><option value="">any</option>${KINDS.map((k) => `<option>${k}</option>`).join("")}</select></label>
    <label>Target name <input name="name" autocomplete="off"></label>
    <label>Severity <select name="severity"><option value="">any</option><option>critical</option><option>warning</option></select></label>
    <label>For <select name="hours"><option value="1">1 hour</option><option value="4">4 hours</option><option value="24">1 day</option><option value="168">1 week</option></select></label>
    <label>By <input name="by" autocomplete="name"></label>
    <label>Comment <input name="comment"></label>
    <button type="submit">Create silence</button></form>`;
}
