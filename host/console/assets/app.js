// toolhost console: a small vanilla JS page over the host's JSON API,
// reached through /console/api with the session's key (the server adds it).
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const scopes = document.querySelector('meta[name="key-scopes"]').content.split(" ");
const main = document.getElementById("main");
const can = (s) => scopes.includes(s);
let cleanup = [];

// h builds an element: h("a", {href: "#/"}, "text", child...).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) el.append(k instanceof Node ? k : String(k));
  return el;
}

class APIError extends Error {
  constructor(status, body) { super((body && body.error && body.error.message) || ("HTTP " + status)); this.status = status; }
}

async function api(method, path, body) {
  const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch("/console/api" + path, opts);
  if (res.status === 401) { location.href = "/console/login"; throw new APIError(401); }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
  if (!res.ok || (json && json.status === "error")) throw new APIError(res.status, json);
  return json && "data" in json ? json.data : json;
}

function show(title, ...content) {
  for (const f of cleanup) f();
  cleanup = [];
  document.title = title + " · toolhost console";
  main.replaceChildren(h("h1", {}, title), ...content.flat().filter((c) => c !== null && c !== undefined));
}

// items is a list answer's items (the API answers a bare array or {list}).
function items(x) { return Array.isArray(x) ? x : (x && (x.list || x.data)) || []; }
function errorBox(err) { return h("p", { class: "error", role: "alert" }, err.message || String(err)); }
function pretty(v) { return h("pre", {}, typeof v === "string" ? v : JSON.stringify(v, null, 2)); }
function fmtMs(ms) { return ms === undefined ? "" : (ms < 10 ? ms.toFixed(2) : Math.round(ms)) + " ms"; }
function fmtTime(s) { return s ? new Date(s).toLocaleString() : ""; }
function statusCell(s) { return h("span", { class: "status-" + s }, s); }

// listRuns pages through /v1/runs (100 a page) up to max runs.
async function listRuns(params, max) {
  const out = [];
  let after = "";
  for (;;) {
    const p = new URLSearchParams(params);
    p.set("limit", "100");
    if (after) p.set("after", after);
    const page = await api("GET", "/v1/runs?" + p);
    out.push(...page.list);
    if (!page.has_more || !page.list.length || out.length >= max) return { list: out, has_more: page.has_more };
    after = page.list[page.list.length - 1].id;
  }
}

// ---- overview ----
async function overview() {
  show("Overview", h("p", {}, "Loading…"));
  try {
    const since = new Date(Date.now() - 3600e3).toISOString();
    const [plugins, actions, runs] = await Promise.all([api("GET", "/v1/plugins"), api("GET", "/v1/actions"), listRuns({ created_after: since }, 1000)]);
    const counts = {}, nActions = {};
    for (const a of items(actions)) nActions[a.pluginId] = (nActions[a.pluginId] || 0) + 1;
    const perMin = new Array(60).fill(0), failMin = new Array(60).fill(0);
    let failures = 0;
    for (const r of runs.list) {
      counts[r.plugin_id] = (counts[r.plugin_id] || 0) + 1;
      const m = 59 - Math.min(59, Math.floor((Date.now() - new Date(r.created_at)) / 60e3));
      perMin[m]++;
      if (["failed", "timed_out", "expired"].includes(r.status)) { failures++; failMin[m]++; }
    }
    const max = Math.max(1, ...perMin);
    const bars = h("div", { class: "bars", role: "img", "aria-label": "Runs per minute over the last hour" },
      perMin.map((n, i) => {
        // The failed part of a minute's bar is red, at its base.
        const b = h("span", { title: n + " runs, " + failMin[i] + " failed" }, failMin[i] ? h("span", { class: "fail" }) : null);
        b.style.height = (100 * n / max) + "%";
        if (failMin[i]) b.firstChild.style.height = (100 * failMin[i] / n) + "%";
        return b;
      }));
    show("Overview",
      h("div", { class: "cards" },
        h("div", { class: "card" }, h("div", { class: "big", id: "runs-hour" }, runs.list.length + (runs.has_more ? "+" : "")), "runs in the last hour"),
        h("div", { class: "card" }, h("div", { class: "big", id: "fails-hour" }, failures), "failed in the last hour"),
        h("div", { class: "card" }, h("div", { class: "big" }, items(plugins).length), "plugins")),
      h("h2", {}, "Runs per minute (last hour)"), bars,
      h("h2", {}, "Plugins"),
      h("div", { class: "table-wrap" }, h("table", { id: "plugins-table" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Plugin"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Restarts"), h("th", { scope: "col" }, "Last error"), h("th", { scope: "col" }, "Actions"), h("th", { scope: "col" }, "Runs (1h)"))),
        h("tbody", {}, items(plugins).map((p) => h("tr", {},
          h("td", {}, h("a", { href: "#/plugins/" + encodeURIComponent(p.key) }, p.key)),
          h("td", {}, statusCell(p.status)), h("td", {}, p.restarts || 0), h("td", {}, p.reason || ""), h("td", {}, nActions[p.id] || 0), h("td", {}, counts[p.id] || 0)))))));
  } catch (e) { show("Overview", errorBox(e)); }
}

// ---- plugins & actions ----
async function plugins() {
  show("Plugins & actions", h("p", {}, "Loading…"));
  try {
    const ps = await api("GET", "/v1/plugins");
    const details = await Promise.all(items(ps).map((p) => api("GET", "/v1/plugins/" + encodeURIComponent(p.id))));
    show("Plugins & actions", details.map((p) => h("section", {},
      h("h2", { id: "plugin-" + p.key }, p.key, " ", statusCell(p.status)),
      p.description ? h("p", {}, p.description) : null,
      p.configurationParameters && p.configurationParameters.length ? h("details", {}, h("summary", {}, "Configuration parameters"),
        h("ul", {}, p.configurationParameters.map((c) => h("li", {}, h("code", {}, c.key), " — ", c.title || "", c.description ? ": " + c.description : "", c.validation && c.validation.required ? " (required)" : "")))) : null,
      h("ul", {}, (p.actions || []).map((a) => h("li", {}, h("a", { href: "#/actions/" + encodeURIComponent(a.alias) }, a.alias), " — ", a.title, a.description ? ": " + a.description : ""))))));
  } catch (e) { show("Plugins & actions", errorBox(e)); }
}

// field makes the input(s) for one JSON Schema property.
function field(name, schema, required, path) {
  const id = "in-" + path.join("-");
  const label = (schema.title || name) + (required ? " (required)" : "");
  const help = schema.description ? h("p", { class: "field-help", id: id + "-help" }, schema.description) : null;
  const common = { id, name: path.join("."), "aria-describedby": help ? id + "-help" : null, required: required || null };
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== "null") : schema.type;
  let input, get;
  if (schema.enum) {
    input = h("select", common, required ? null : h("option", { value: "" }, "—"), schema.enum.map((v) => h("option", { value: JSON.stringify(v) }, String(v))));
    get = () => input.value === "" ? undefined : JSON.parse(input.value);
  } else if (t === "boolean") {
    input = h("input", { ...common, type: "checkbox", required: null });
    if (schema.default === true) input.checked = true;
    get = () => input.checked;
  } else if (t === "integer" || t === "number") {
    input = h("input", { ...common, type: "number", step: t === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum, value: schema.default });
    get = () => input.value === "" ? undefined : Number(input.value);
  } else if (t === "object" && schema.properties) {
    const sub = objectFields(schema, path);
    return { el: h("fieldset", {}, h("legend", {}, label), help, sub.els), get: sub.get };
  } else if (t === "array" || t === "object") {
    const hint = t === "array" ? "One item per line" + (schema.items && schema.items.type && schema.items.type !== "string" ? " (as JSON)" : "") : "A JSON object";
    input = h("textarea", { ...common, rows: 3, placeholder: hint });
    get = () => {
      const v = input.value.trim();
      if (!v) return undefined;
      if (t === "object") return JSON.parse(v);
      if (v.startsWith("[")) return JSON.parse(v);
      const it = schema.items && schema.items.type;
      return v.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => it && it !== "string" ? JSON.parse(l) : l);
    };
  } else {
    input = h(schema.maxLength > 200 || schema.format === "textarea" ? "textarea" : "input", { ...common, type: "text", value: schema.default });
    get = () => input.value === "" ? undefined : input.value;
  }
  const el = t === "boolean" ? h("div", {}, h("label", { for: id }, input, " ", label), help) : h("div", {}, h("label", { for: id }, label), help, input);
  return { el, get };
}

function objectFields(schema, path) {
  const req = new Set(schema.required || []);
  const fs = Object.entries(schema.properties || {}).map(([k, s]) => [k, field(k, s, req.has(k), path.concat(k))]);
  return {
    els: fs.map(([, f]) => f.el),
    get: () => { const o = {}; for (const [k, f] of fs) { const v = f.get(); if (v !== undefined) o[k] = v; } return o; },
  };
}

async function action(id) {
  show("Action", h("p", {}, "Loading…"));
  let a;
  try { a = await api("GET", "/v1/actions/" + encodeURIComponent(id)); } catch (e) { show("Action", errorBox(e)); return; }
  const schema = a.inputSchema || { type: "object", properties: {} };
  const fields = objectFields(schema, ["input"]);
  const out = h("div", { id: "try-output", "aria-live": "polite" });
  const form = h("form", { id: "try-form", novalidate: true, onsubmit: (ev) => { ev.preventDefault(); tryRun(a, fields, out); } },
    fields.els, h("p", {}, can("run") ? h("button", { type: "submit" }, "Run") : h("span", { class: "hint" }, "This key lacks the run scope.")));
  show(a.alias,
    h("p", {}, a.description || ""),
    h("h2", {}, "Try it"), form, out,
    h("details", {}, h("summary", {}, "Input schema"), pretty(schema)),
    h("details", {}, h("summary", {}, "Output schema"), pretty(a.outputSchema || {})));
}

// tryRun starts the run non-blocking, then follows its events over SSE.
async function tryRun(a, fields, out) {
  let input;
  try { input = fields.get(); } catch (e) { out.replaceChildren(errorBox(new Error("A JSON field does not parse: " + e.message))); return; }
  out.replaceChildren(h("p", {}, "Starting…"));
  try {
    const res = await api("POST", "/v1/actions/" + encodeURIComponent(a.alias) + "/run?blocking=false", input);
    const id = res.run_id || (res.run && res.run.id) || res.id;
    out.replaceChildren(h("p", {}, "Run ", h("a", { href: "#/runs/" + id, id: "try-run-link" }, id)));
    follow(id, out);
  } catch (e) { out.replaceChildren(errorBox(e)); }
}

// follow shows a run's events as they come (SSE), then its output.
function follow(id, into, opts = {}) {
  const status = h("p", { id: "live-status" }, "queued");
  const progress = h("progress", { max: 1, value: 0, "aria-label": "Progress" });
  const logs = h("ol", { id: "live-logs", "aria-label": "Logs" });
  const output = h("div", { id: "live-output" });
  into.append(status, progress, h("h3", {}, "Logs"), logs, opts.output === false ? "" : output);
  const es = new EventSource("/console/api/v1/runs/" + encodeURIComponent(id) + "/events");
  cleanup.push(() => es.close());
  // Each event's data is {seq, at, data}: the payload is its data.
  const on = (type, fn) => es.addEventListener(type, (ev) => {
    let d = null;
    try { d = JSON.parse(ev.data); } catch (e) { d = ev.data; }
    fn(d && typeof d === "object" && "data" in d ? d.data : d);
  });
  on("run.running", () => { status.textContent = "running"; });
  on("run.log", (d) => logs.append(h("li", {}, (d.level ? "[" + d.level + "] " : "") + d.message)));
  on("run.progress", (d) => { if (d.fraction !== undefined) progress.value = d.fraction; status.textContent = "running: " + (d.message || ""); });
  on("run.output", (d) => output.replaceChildren(h("h3", {}, "Output"), pretty(d)));
  for (const end of ["run.succeeded", "run.failed", "run.cancelled", "run.timed_out", "run.expired"]) {
    on(end, (d) => {
      status.replaceChildren(statusCell(end.slice(4)));
      if (d && d.error) output.append(errorBox(new Error(d.error.code + ": " + d.error.message)));
      es.close();
    });
  }
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) return; es.close(); };
}

// ---- runs ----
async function runs(params) {
  const q = new URLSearchParams(params);
  const fAction = h("input", { id: "f-action", name: "action_id", value: q.get("action_id") || "" });
  const fStatus = h("select", { id: "f-status", name: "status" }, ["", "queued", "running", "succeeded", "failed", "cancelled", "timed_out"].map((s) => h("option", { value: s, selected: s === (q.get("status") || "") || null }, s || "any")));
  const fKey = h("input", { id: "f-key", name: "key", value: q.get("key") || "" });
  const fSince = h("input", { id: "f-since", name: "since", type: "datetime-local", value: q.get("since") || "" });
  const live = h("input", { id: "f-live", type: "checkbox" });
  const body = h("tbody", {});
  const err = h("div", { "aria-live": "polite" });
  const load = async () => {
    const p = new URLSearchParams({ limit: "100" });
    if (fAction.value) p.set("action_id", fAction.value);
    if (fStatus.value) p.set("status", fStatus.value);
    if (fSince.value) p.set("created_after", new Date(fSince.value).toISOString());
    try {
      const r = await api("GET", "/v1/runs?" + p);
      const rows = r.list.filter((x) => !fKey.value || x.key_name === fKey.value);
      body.replaceChildren(...rows.map((x) => h("tr", {},
        h("td", {}, h("a", { href: "#/runs/" + x.id }, x.id)), h("td", {}, x.action || x.kind), h("td", {}, statusCell(x.status)),
        h("td", {}, x.key_name || ""), h("td", {}, fmtTime(x.created_at)), h("td", {}, x.duration_ms !== undefined ? Math.round(x.duration_ms) + " ms" : ""))));
      err.replaceChildren();
    } catch (e) { err.replaceChildren(errorBox(e)); }
  };
  const form = h("form", { class: "filters", role: "search", onsubmit: (ev) => { ev.preventDefault(); load(); } },
    h("div", {}, h("label", { for: "f-action" }, "Action"), fAction),
    h("div", {}, h("label", { for: "f-status" }, "Status"), fStatus),
    h("div", {}, h("label", { for: "f-key" }, "Key name"), fKey),
    h("div", {}, h("label", { for: "f-since" }, "Since"), fSince),
    h("div", {}, h("button", { type: "submit" }, "Filter")),
    h("div", {}, h("label", { for: "f-live" }, live, " Live tail")));
  show("Runs", form, err, h("div", { class: "table-wrap" }, h("table", { id: "runs-table" },
    h("thead", {}, h("tr", {}, ["Run", "Action", "Status", "Key", "Created", "Duration"].map((c) => h("th", { scope: "col" }, c)))), body)));
  await load();
  const timer = setInterval(() => { if (live.checked) load(); }, 2000);
  cleanup.push(() => clearInterval(timer));
}

async function run(id) {
  show("Run " + id, h("p", {}, "Loading…"));
  let r;
  try { r = await api("GET", "/v1/runs/" + encodeURIComponent(id)); } catch (e) { show("Run " + id, errorBox(e)); return; }
  const live = h("div", { "aria-live": "polite" });
  const msg = h("div", { "aria-live": "assertive" });
  const cancel = h("button", { id: "cancel-run", type: "button", onclick: async () => {
    cancel.disabled = true;
    try { await api("POST", "/v1/runs/" + encodeURIComponent(id) + "/cancel"); msg.replaceChildren(h("p", {}, "Cancelled.")); } catch (e) { msg.replaceChildren(errorBox(e)); cancel.disabled = false; }
  } }, "Cancel run");
  const running = r.status === "queued" || r.status === "running";
  show("Run " + id,
    h("dl", {},
      h("dt", {}, "Action"), h("dd", {}, r.action || r.kind),
      h("dt", {}, "Status"), h("dd", { id: "run-status" }, statusCell(r.status)),
      h("dt", {}, "Key"), h("dd", {}, r.key_name || ""),
      h("dt", {}, "Created"), h("dd", {}, fmtTime(r.created_at)),
      h("dt", {}, "Started"), h("dd", {}, fmtTime(r.started_at)),
      h("dt", {}, "Finished"), h("dd", {}, fmtTime(r.finished_at)),
      h("dt", {}, "Duration"), h("dd", {}, fmtMs(r.duration_ms))),
    running && can("run") ? cancel : null, msg,
    h("h2", {}, "Input"), pretty(r.input || {}),
    r.error ? [h("h2", {}, "Error"), errorBox(new Error(r.error.code + ": " + r.error.message))] : null,
    r.output !== undefined ? [h("h2", {}, "Output"), pretty(r.output)] : null,
    h("h2", {}, "Events"), live);
  // A finished run's output is shown above already.
  follow(id, live, { output: r.output === undefined });
}

// ---- threads ----
async function threads() {
  show("Threads", h("p", {}, "Loading…"));
  try {
    const t = await api("GET", "/v1/threads?limit=100");
    show("Threads", items(t).length ? h("ul", {}, items(t).map((x) => h("li", {}, h("a", { href: "#/threads/" + x.id }, x.id), " ", fmtTime(x.created_at ? x.created_at * (typeof x.created_at === "number" ? 1000 : 1) : "")))) : h("p", {}, "No threads yet."));
  } catch (e) { show("Threads", errorBox(e)); }
}

function messageText(m) {
  if (typeof m.content === "string") return m.content;
  return (m.content || []).map((c) => (c.text && (c.text.value || c.text)) || JSON.stringify(c)).join("\n");
}

async function thread(id) {
  show("Thread " + id, h("p", {}, "Loading…"));
  let msgs;
  try { msgs = await api("GET", "/v1/threads/" + encodeURIComponent(id) + "/messages?order=asc&limit=100"); } catch (e) { show("Thread " + id, errorBox(e)); return; }
  const list = h("ol", { id: "messages" }, items(msgs).map((m) => h("li", {}, h("strong", {}, m.role + ": "), messageText(m))));
  const text = h("textarea", { id: "msg-text", rows: 3, required: true });
  const stream = h("pre", { "aria-live": "polite" });
  const form = h("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/v1/threads/" + encodeURIComponent(id) + "/messages", { role: "user", content: text.value });
      list.append(h("li", {}, h("strong", {}, "user: "), text.value));
      text.value = "";
      const res = await fetch("/console/api/v1/threads/" + encodeURIComponent(id) + "/runs", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "text/event-stream" }, body: JSON.stringify({ stream: true }) });
      if (!res.ok) { const b = await res.json().catch(() => null); throw new APIError(res.status, b); }
      const reader = res.body.getReader(); const dec = new TextDecoder();
      for (;;) { const { done, value } = await reader.read(); if (done) break; stream.textContent += dec.decode(value); }
    } catch (e) { stream.textContent += "\n" + e.message; }
  } }, h("label", { for: "msg-text" }, "Message"), text, h("p", {}, h("button", { type: "submit" }, "Send and run the assistant")));
  show("Thread " + id, list, can("run") ? form : null, stream);
}

// ---- keys ----
async function keys() {
  if (!can("admin")) { show("Keys", h("p", {}, "Managing keys needs the admin scope.")); return; }
  show("Keys", h("p", {}, "Loading…"));
  let ks;
  try { ks = await api("GET", "/v1/admin/keys"); } catch (e) { show("Keys", errorBox(e)); return; }
  const name = h("input", { id: "key-name", required: true, pattern: "[A-Za-z0-9_.-]+" });
  const boxes = ["read", "run", "admin", "audit"].map((s) => h("input", { type: "checkbox", id: "scope-" + s, value: s, checked: s !== "audit" || null }));
  const created = h("div", { "aria-live": "assertive", id: "key-created" });
  const form = h("form", { id: "key-form", onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const k = await api("POST", "/v1/admin/keys", { name: name.value, scopes: boxes.filter((b) => b.checked).map((b) => b.value) });
      await keys();
      document.getElementById("key-created").replaceChildren(h("p", {}, "Key ", h("strong", {}, k.name), " created. Copy it now: it is not shown again."), h("pre", { id: "new-key" }, k.key));
    } catch (e) { created.replaceChildren(errorBox(e)); }
  } },
  h("label", { for: "key-name" }, "Name"), name,
  h("fieldset", {}, h("legend", {}, "Scopes"), boxes.map((b) => h("label", { for: b.id }, b, " " + b.value))),
  h("button", { type: "submit" }, "Create key"));
  const list = items(ks);
  show("Keys", created, h("div", { class: "table-wrap" }, h("table", { id: "keys-table" },
    h("thead", {}, h("tr", {}, ["Name", "Prefix", "Scopes", "Created", "Last used", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, list.map((k) => h("tr", {}, h("td", {}, k.name), h("td", {}, h("code", {}, k.prefix)), h("td", {}, (k.scopes || []).join(" ")),
      h("td", {}, fmtTime(k.created_at)), h("td", {}, fmtTime(k.last_used_at)),
      h("td", {}, h("button", { type: "button", class: "secondary", "data-revoke": k.name, "aria-label": "Revoke key " + k.name, onclick: async () => {
        if (!confirm("Revoke key " + k.name + "?")) return;
        try { await api("DELETE", "/v1/admin/keys/" + encodeURIComponent(k.name)); await keys(); } catch (e) { created.replaceChildren(errorBox(e)); }
      } }, "Revoke"))))))),
    h("h2", {}, "Create a key"), form);
}

// ---- routing ----
function route() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query || ""));
  switch (parts[0]) {
    case undefined: return overview();
    case "plugins": return plugins();
    case "actions": return action(parts[1]);
    case "runs": return parts[1] ? run(parts[1]) : runs(params);
    case "threads": return parts[1] ? thread(parts[1]) : threads();
    case "keys": return keys();
    default: show("Not found", h("p", {}, "No such page."));
  }
}
if (!can("admin")) document.getElementById("nav-keys").hidden = true;
window.addEventListener("hashchange", () => { route(); main.focus(); });
route();
