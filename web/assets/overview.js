// overview.js: every target, grouped by kind, with its state, since when,
// latest latency and a 24 h uptime bar; filters; live updates.
import { history } from "./api.js";
import { esc, stateTag, ago, ms, pct, rank, STATES, KINDS, targetHref } from "./util.js";
import { slots, uptimeBar, barLabel } from "./charts.js";

const SLOTS = 48; // 30-minute slots over 24 h
const key = (type, name) => `${type}/${name}`;

/** render draws the overview into ctx.main and returns its live hooks. */
export async function render(ctx) {
  const t0 = performance.now();
  const data = await ctx.call("/status");
  const { main } = ctx;
  const kinds = KINDS.filter((k) => data.databases.some((d) => d.type === k));
  for (const d of data.databases) if (!kinds.includes(d.type)) kinds.push(d.type);
  main.innerHTML = `<h1>Database status</h1>
    <div class="summary" id="summary"></div>
    <form class="filters" role="search" aria-label="Filter targets" id="filters">
      <label>Kind <select id="f-kind"><option value="">All kinds</option>${kinds.map((k) => `<option>${esc(k)}</option>`).join("")}</select></label>
      <label>State <select id="f-state"><option value="">All states</option>${STATES.map((s) => `<option>${s}</option>`).join("")}</select></label>
      <label>Search <input id="f-q" type="search" placeholder="name or kind" autocomplete="off"></label>
      <p id="f-count" class="muted" role="status" aria-live="polite"></p>
    </form>
    <p class="legend" aria-hidden="true"><span><i class="UP"></i>UP</span><span><i class="DEGRADED"></i>DEGRADED</span><span><i class="DOWN"></i>DOWN</span><span><i class="none"></i>no data</span><span>(24 h, 30-minute slots, worst check of each)</span></p>
    <div id="groups">${kinds.map((k) => group(k, data.databases.filter((d) => d.type === k))).join("")}</div>`;
  const rows = new Map();
  for (const tr of main.querySelectorAll("tr[data-key]")) rows.set(tr.dataset.key, tr);
  const states = new Map(data.databases.map((d) => [key(d.type, d.name), d]));
  const summary = () => drawSummary(main.querySelector("#summary"), [...states.values()]);
  summary();
  const apply = filters(main, rows, states);
  const ms1 = performance.now() - t0;
  performance.mark("dbhealth:rendered");
  window.__dbhealthRender = { ms: ms1, targets: rows.size };
  document.documentElement.dataset.rendered = String(rows.size);

  const bars = lazyBars(rows, ctx);
  fillUptime(ctx, rows);
  const tick = setInterval(() => {
    for (const [k, tr] of rows) tr.querySelector(".since").textContent = ago(states.get(k).since);
  }, 15000);

  return {
    onEvent(type, d) {
      const k = key(d.target.type, d.target.name);
      const tr = rows.get(k);
      if (!tr) { if (type.includes("state_changed")) this.resync(); return; }
      const s = states.get(k);
      if (type.includes("state_changed")) {
        Object.assign(s, { state: d.to, since: d.at, reason: d.reason, latency_ms: d.check.latency_ms });
        setState(tr, d.to);
        tr.querySelector(".since").textContent = ago(d.at);
        summary();
        apply();
        // How long from the transition to the row showing it (for the tests).
        window.__dbhealthLive = Date.now() - new Date(d.at).getTime();
      } else {
        s.latency_ms = d.latency_ms;
        bars.push(k, d);
      }
      tr.querySelector(".lat").textContent = ms(s.latency_ms);
    },
    async resync() {
      const fresh = await ctx.call("/status").catch(() => null);
      if (!fresh) return;
      if (fresh.databases.length !== rows.size || fresh.databases.some((d) => !rows.has(key(d.type, d.name)))) {
        this.dispose(); Object.assign(this, await render(ctx)); return;
      }
      for (const d of fresh.databases) {
        const k = key(d.type, d.name);
        // A transition the stream delivered while the snapshot was on its
        // way is newer than the snapshot's state: keep it.
        const had = states.get(k);
        if (had && had.since && d.since && new Date(d.since) < new Date(had.since)) continue;
        states.set(k, d);
        const tr = rows.get(k);
        setState(tr, d.state);
        tr.querySelector(".since").textContent = ago(d.since);
        tr.querySelector(".lat").textContent = ms(d.checked_at ? d.latency_ms : null);
      }
      summary();
      apply();
    },
    dispose() { clearInterval(tick); bars.stop(); },
  };
}

/** group is one kind's table. */
function group(kind, ds) {
  return `<section data-kind="${esc(kind)}" aria-labelledby="g-${esc(kind)}"><h2 id="g-${esc(kind)}">${esc(kind)} <span class="muted">(${ds.length})</span></h2>
    <table class="targets"><thead><tr><th scope="col">Target</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Latency</th><th scope="col">Uptime, last 24 h</th></tr></thead>
    <tbody>${ds.map(row).join("")}</tbody></table></section>`;
}

/** row is one target's table row. */
function row(d) {
  const k = key(d.type, d.name);
  return `<tr data-key="${esc(k)}" data-type="${esc(d.type)}" data-name="${esc(d.name)}" data-state="${esc(d.state)}" class="${esc(d.state)}">` +
    `<td><a href="${esc(targetHref(d.type, d.name))}">${esc(d.name)}</a>${d.reason && d.state !== "UP" ? `<div class="muted">${esc(d.reason)}</div>` : ""}</td>` +
    `<td class="st">${stateTag(d.state)}</td><td class="since">${esc(ago(d.since))}</td>` +
    `<td class="num lat">${esc(ms(d.checked_at ? d.latency_ms : null))}</td>` +
    `<td class="uptime"><span class="bar-slot"><span class="muted">…</span></span> <span class="num up24"></span></td></tr>`;
}

/** setState shows a new state on a row. */
function setState(tr, state) {
  tr.dataset.state = state;
  tr.className = state;
  tr.querySelector(".st").innerHTML = stateTag(state);
}

/** drawSummary is the overall state and the count per state. */
function drawSummary(el, ds) {
  const worst = ds.reduce((w, d) => (rank(d.state) > rank(w) ? d.state : w), "UNKNOWN");
  const n = Object.fromEntries(STATES.map((s) => [s, ds.filter((d) => d.state === s).length]));
  el.innerHTML = `<span class="overall" id="overall">Overall: ${stateTag(worst)}</span>` +
    `<span>${ds.length} targets: ${STATES.map((s) => `${n[s]} ${s.toLowerCase()}`).join(", ")}</span>`;
}

/** filters wires the kind, state and search filters; returns apply(). */
function filters(main, rows, states) {
  const kind = main.querySelector("#f-kind"), state = main.querySelector("#f-state"), q = main.querySelector("#f-q");
  const count = main.querySelector("#f-count");
  const apply = () => {
    const needle = q.value.trim().toLowerCase();
    let shown = 0;
    for (const [k, tr] of rows) {
      const d = states.get(k);
      const ok = (!kind.value || d.type === kind.value) && (!state.value || d.state === state.value) && (!needle || k.toLowerCase().includes(needle));
      tr.hidden = !ok;
      if (ok) shown++;
    }
    for (const sec of main.querySelectorAll("section[data-kind]")) {
      const all = sec.querySelectorAll("tr[data-key]").length, shownHere = sec.querySelectorAll("tr[data-key]:not([hidden])").length;
      sec.hidden = shownHere === 0;
      sec.querySelector("h2 .muted").textContent = shownHere === all ? `(${all})` : `(${shownHere} of ${all})`;
    }
    count.textContent = `Showing ${shown} of ${rows.size} targets`;
  };
  main.querySelector("#filters").addEventListener("submit", (e) => e.preventDefault());
  for (const el of [kind, state]) el.addEventListener("change", apply);
  q.addEventListener("input", apply);
  apply();
  return apply;
}

/** fillUptime writes each row's 24 h uptime from the rollups (one request). */
async function fillUptime(ctx, rows) {
  const m = await ctx.call("/metrics").catch(() => null);
  for (const t of (m && m.targets) || []) {
    const tr = rows.get(key(t.type, t.name));
    if (tr) tr.querySelector(".up24").textContent = pct(t.uptime["24h"]);
  }
}

/**
 * lazyBars loads the history of the rows that come into view, four at a
 * time, and draws their bars; push() adds a live check to a drawn bar.
 */
function lazyBars(rows, ctx) {
  const loaded = new Map(); // key -> checks
  const queue = [];
  let active = 0, stopped = false;
  const draw = (tr, items) => {
    const s = slots(items, Date.now(), 24, SLOTS);
    const label = `Uptime of ${tr.dataset.name}, ${barLabel(s, 24)}`;
    tr.querySelector(".bar-slot").innerHTML = uptimeBar(s, label);
  };
  const next = async () => {
    if (stopped || active >= 4 || !queue.length) return;
    const tr = queue.shift();
    active++;
    try {
      const { items } = await history(tr.dataset.type, tr.dataset.name, new Date(Date.now() - 86400e3), new Date(), 3);
      loaded.set(tr.dataset.key, items);
      if (!stopped) draw(tr, items);
    } catch (e) {
      tr.querySelector(".bar-slot").innerHTML = `<span class="muted">history unavailable</span>`;
    }
    active--;
    next();
  };
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      io.unobserve(e.target);
      queue.push(e.target);
      next();
    }
  }, { rootMargin: "200px" });
  for (const tr of rows.values()) io.observe(tr);
  return {
    push(k, check) {
      const items = loaded.get(k);
      if (!items) return;
      items.unshift(check);
      draw(rows.get(k), items);
    },
    stop() { stopped = true; io.disconnect(); },
  };
}
