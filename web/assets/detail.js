// detail.js: one target: latency over 1 h / 24 h / 7 d, the observed state
// timeline and its transitions, the current details, the last errors,
// the rollups and the target's alerts.
import { history } from "./api.js";
import { esc, stateTag, ago, when, ms, pct, flatten, humanKey, factValue } from "./util.js";
import { latencyChart, timeline, transitions } from "./charts.js";

const RANGES = { "1h": [3600e3, 1], "24h": [86400e3, 3], "7d": [7 * 86400e3, 10] }; // span, max history pages

/** render draws the target page and returns its live hooks. */
export async function render(ctx, { type, name }) {
  const { main } = ctx;
  document.title = `${name} (${type}) — Database status`;
  const all = await ctx.call(`/status/${encodeURIComponent(type)}`);
  const st = all.databases.find((d) => d.name === name);
  if (!st) {
    main.innerHTML = `<h1>${esc(type)}/${esc(name)}</h1><p class="error" role="alert">No such target.</p><p><a href="/">Back to the overview</a></p>`;
    return {};
  }
  main.innerHTML = `<p><a href="/">← Overview</a></p>
    <h1>${esc(name)} <span class="muted">${esc(type)}</span></h1>
    <div id="head" class="summary"></div>
    ${ctx.canWrite ? `<div class="row-actions"><button type="button" id="test">Test connection now</button><span id="test-out" role="status" aria-live="polite"></span></div>` : ""}
    <section aria-labelledby="h-lat"><h2 id="h-lat">Latency</h2>
      <div class="row-actions" role="group" aria-label="Time range">${Object.keys(RANGES).map((r) => `<button type="button" data-range="${r}" aria-pressed="false">${r}</button>`).join("")}</div>
      <div id="chart" class="panel"></div></section>
    <section aria-labelledby="h-tl"><h2 id="h-tl">State timeline</h2><div id="tl" class="panel"></div></section>
    <section aria-labelledby="h-roll"><h2 id="h-roll">Rollups</h2><div id="roll" class="cards"></div></section>
    <section aria-labelledby="h-det"><h2 id="h-det">Current details</h2><div id="det" class="panel"></div></section>
    <section aria-labelledby="h-err"><h2 id="h-err">Last errors</h2><div id="errs"></div></section>
    <section aria-labelledby="h-al"><h2 id="h-al">Alerts</h2><div id="al"></div></section>`;
  let cur = st;
  const head = () => {
    main.querySelector("#head").innerHTML = `<span class="overall">${stateTag(cur.state)}</span>
      <span>since ${esc(when(cur.since))} (${esc(ago(cur.since))})</span><span>latest ${esc(ms(cur.checked_at ? cur.latency_ms : null))}, checked ${esc(ago(cur.checked_at))}${cur.prober ? ` by ${esc(cur.prober)}` : ""}</span>
      ${cur.reason ? `<span class="muted">${esc(cur.reason)}</span>` : ""}`;
    main.querySelector("#det").innerHTML = details(cur.details);
  };
  head();
  let range = "1h", items = [], complete = true, queued = false;
  // paint draws the chart, the timeline and the errors of items over the
  // range ending now, dropping the checks that fell out of it.
  const paint = () => {
    const to = Date.now(), from = to - RANGES[range][0];
    items = items.filter((i) => new Date(i.checked_at).getTime() >= from);
    main.querySelector("#chart").innerHTML = latencyChart(items, from, to, `Latency of ${name} over ${range}`) +
      `<p class="muted">${items.length} checks${complete ? "" : " (the newest ones; older checks not loaded)"}.</p>`;
    drawTimeline(main.querySelector("#tl"), items, from, to, range);
    main.querySelector("#errs").innerHTML = errors(items);
  };
  const draw = async (r) => {
    range = r;
    for (const b of main.querySelectorAll("[data-range]")) b.setAttribute("aria-pressed", String(b.dataset.range === r));
    const [span, pages] = RANGES[r];
    const to = Date.now();
    const h = await history(type, name, new Date(to - span), new Date(to), pages);
    items = h.items;
    complete = h.complete;
    paint();
  };
  // A check from the live stream joins the chart (at most two repaints a
  // second); one not newer than the newest drawn is there already.
  const addCheck = (d) => {
    if (items.length && new Date(d.checked_at) <= new Date(items[0].checked_at)) return;
    items.unshift({ checked_at: d.checked_at, state: d.state, latency_ms: d.latency_ms, error: d.error, error_kind: d.error_kind });
    if (queued) return;
    queued = true;
    setTimeout(() => { queued = false; paint(); }, 500);
  };
  for (const b of main.querySelectorAll("[data-range]")) b.onclick = () => draw(b.dataset.range).catch(ctx.fail);
  await draw("1h");
  rollups(ctx, main.querySelector("#roll"), type, name);
  targetAlerts(ctx, main.querySelector("#al"), type, name);
  if (ctx.canWrite) main.querySelector("#test").onclick = () => test(ctx, main.querySelector("#test-out"), type, name);

  return {
    targets: [`${type}/${name}`],
    onEvent(t, d) {
      if (d.target.type !== type || d.target.name !== name) return;
      if (t.includes("state_changed")) {
        cur = { ...cur, state: d.to, since: d.at, reason: d.reason };
        head();
        targetAlerts(ctx, main.querySelector("#al"), type, name);
      } else {
        cur = { ...cur, latency_ms: d.latency_ms, checked_at: d.checked_at, details: d.details || cur.details, error: d.error, error_kind: d.error_kind };
        head();
        addCheck(d);
      }
    },
    resync() { draw(range).catch(() => {}); },
  };
}

/** details renders the probe's facts as a definition list. */
function details(obj) {
  const pairs = flatten(obj);
  if (!pairs.length) return '<p class="muted">No details reported.</p>';
  return `<dl class="facts">${pairs.map(([k, v]) => `<dt>${esc(humanKey(k))}</dt><dd>${esc(factValue(k, v))}</dd>`).join("")}</dl>`;
}

/** drawTimeline is the observed state bar and the list of its changes. */
function drawTimeline(el, items, from, to, r) {
  const tr = transitions(items);
  el.innerHTML = timeline(items, from, to, `Observed state of each check over ${r}, ${tr.length} changes`) +
    (tr.length
      ? `<table><caption class="sr">State changes</caption><thead><tr><th scope="col">At</th><th scope="col">From</th><th scope="col">To</th></tr></thead><tbody>` +
        tr.slice(-20).reverse().map((x) => `<tr><td>${esc(when(x.at))}</td><td>${stateTag(x.from)}</td><td>${stateTag(x.to)}</td></tr>`).join("") + "</tbody></table>"
      : `<p class="muted">No state change over ${esc(r)}.</p>`);
}

/** errors lists the last ten checks that failed. */
function errors(items) {
  const errs = items.filter((i) => i.error).slice(0, 10);
  if (!errs.length) return '<p class="muted">No error in this range.</p>';
  return `<table><thead><tr><th scope="col">At</th><th scope="col">Kind</th><th scope="col">Error</th></tr></thead><tbody>` +
    errs.map((e) => `<tr><td>${esc(when(e.checked_at))}</td><td><code>${esc(e.error_kind || "—")}</code></td><td>${esc(e.error)}</td></tr>`).join("") + "</tbody></table>";
}

/** rollups shows the target's uptime and latency percentiles. */
async function rollups(ctx, el, type, name) {
  const m = await ctx.call("/metrics").catch(() => null);
  const t = m && m.targets.find((x) => x.type === type && x.name === name);
  if (!t) { el.innerHTML = '<p class="muted">No rollups yet.</p>'; return; }
  const card = (label, v) => `<div class="card"><span class="muted">${esc(label)}</span><b>${esc(v)}</b></div>`;
  el.innerHTML = card("Uptime 1 h", pct(t.uptime["1h"])) + card("Uptime 24 h", pct(t.uptime["24h"])) + card("Uptime 7 d", pct(t.uptime["7d"])) +
    card("p50 (24 h)", ms(t.latency_ms.p50)) + card("p95 (24 h)", ms(t.latency_ms.p95)) + card("p99 (24 h)", ms(t.latency_ms.p99)) +
    card("Error rate (24 h)", pct(t.error_rate)) + card("Checks (24 h)", t.checks.toLocaleString());
}

/** targetAlerts lists the target's alerts, newest first. */
async function targetAlerts(ctx, el, type, name) {
  const a = await ctx.call("/alerts?limit=1000").catch(() => null);
  const mine = ((a && a.alerts) || []).filter((x) => x.type === type && x.name === name).slice(0, 20);
  if (!mine.length) { el.innerHTML = '<p class="muted">No alert.</p>'; return; }
  el.innerHTML = `<table><thead><tr><th scope="col">Alert</th><th scope="col">Started</th><th scope="col">Resolved</th><th scope="col">Marks</th></tr></thead><tbody>` +
    mine.map((x) => `<tr><td><strong>${esc(x.state)}</strong> ${esc(x.severity)}: ${esc(x.reason)}</td><td>${esc(when(x.started_at))}</td><td>${esc(when(x.resolved_at))}</td>` +
      `<td class="tags">${marks(x)}</td></tr>`).join("") + "</tbody></table>" + '<p><a href="/alerts">All alerts and silences</a></p>';
}

/** marks are an alert's silenced / acked / maintenance tags. */
export function marks(x) {
  return [
    ...(x.silenced_by || []).map((s) => `<span title="silence ${esc(s)}">silenced (${esc(s.slice(0, 8))})</span>`),
    x.acked_by ? `<span>acked by ${esc(x.acked_by)}</span>` : "",
    x.maintenance ? `<span>maintenance ${esc(x.maintenance)}</span>` : "",
  ].join("");
}

/** test probes the target now and shows the outcome. */
async function test(ctx, out, type, name) {
  out.textContent = "Testing…";
  try {
    const r = await ctx.call(`/connections/test/${encodeURIComponent(type)}?name=${encodeURIComponent(name)}`, { method: "POST" });
    const x = r.results[0];
    out.innerHTML = x ? `Test: ${stateTag(x.state)} in ${esc(ms(x.latency_ms))}${x.error ? ` — ${esc(x.error_kind)}: ${esc(x.error)}` : ""}` : "No result.";
  } catch (e) {
    out.innerHTML = `<span class="error">${esc(e.message)}</span>`;
  }
}
