// app.js: the shell: picks the view of the path, keeps the live link and
// the token controls.
import { call, stream, token, ApiError } from "./api.js";
import { esc } from "./util.js";
import * as overview from "./overview.js";
import * as detail from "./detail.js";
import * as alerts from "./alerts.js";

const main = document.getElementById("main");
const liveEl = document.getElementById("live");
const authEl = document.getElementById("auth");

/** route is the view of the current path and its parameters. */
function route() {
  const p = location.pathname;
  const m = p.match(/^\/targets\/([^/]+)\/([^/]+)$/);
  if (m) return { view: detail, nav: "", args: { type: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) } };
  if (p === "/alerts") return { view: alerts, nav: "alerts", args: {} };
  return { view: overview, nav: "overview", args: {} };
}

let current = null;

/** start renders the view; the write controls exist only with a token. */
async function start() {
  const r = route();
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === r.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (current && current.dispose) current.dispose();
  const ctx = { main, canWrite: !!token.get(), call, fail: (e) => failure(e) };
  try {
    current = await r.view.render(ctx, r.args);
  } catch (e) {
    failure(e);
  }
}

/** failure shows why the view could not load. */
function failure(e) {
  const needsToken = e instanceof ApiError && e.status === 401;
  main.innerHTML = `<h1>Cannot load</h1><p class="error" role="alert">${esc(e.message)}</p>` +
    (needsToken ? "<p>This server needs the API token to read: use “Sign in” above.</p>" : "");
}

/** authControls draws “Sign in” (a password field) or “Sign out”. */
function authControls() {
  if (token.get()) {
    authEl.innerHTML = '<span class="muted">Signed in (token in this tab only)</span> <button type="button" id="signout">Sign out</button>';
    authEl.querySelector("#signout").onclick = () => { token.set(""); authControls(); restart(); };
    return;
  }
  authEl.innerHTML = `<form id="signin" class="inline"><label>API token <input type="password" name="token" autocomplete="off" required></label>
    <button type="submit">Sign in</button><span id="autherr" class="error" role="alert"></span></form>`;
  authEl.querySelector("#signin").onsubmit = async (ev) => {
    ev.preventDefault();
    const t = new FormData(ev.target).get("token").trim();
    token.set(t);
    try {
      await call("/config"); // needs the token whenever one is configured
      authControls();
      restart();
    } catch (e) {
      token.set("");
      authEl.querySelector("#autherr").textContent = e.status === 401 ? "Wrong token" : e.message;
    }
  };
}

let stopStream = null;

/** live follows the event stream and hands each event to the view. */
function live() {
  if (stopStream) stopStream();
  let wasDown = true; // the first connect catches up too
  // A view that follows some targets only (a target's page) says so: the
  // stream then carries their events alone.
  const targets = current && current.targets ? current.targets : null;
  stopStream = stream(["state_changed", "checked"], (type, env) => {
    if (current && current.onEvent) current.onEvent(type, env.data, env);
  }, (up, why) => {
    liveEl.className = "live " + (up ? "on" : "off");
    liveEl.textContent = up ? "Live" : why;
    document.documentElement.dataset.live = up ? "on" : "off";
    if (up && wasDown && current && current.resync) current.resync(); // catch up on what was missed
    wasDown = !up;
  }, targets);
}

async function restart() { await start(); live(); }

authControls();
restart();
