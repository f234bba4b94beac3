// The run page's Overview tab: the run's state and reason, kind, group, job type, tags,
// notes, host, times (relative, exact on hover) and duration; its summary (``summary.``
// config keys); its config, nested by the dots of its keys and searchable; and the latest
// client diagnostics the collector stored (GET …/runs/{runId}/diagnostics).
import { formatDuration, relativeTime } from "../format.js";
import { getOrNull, runApiPath } from "./data.js";
import { nestEntries, searchEntries, splitConfig, valueText } from "./configtree.js";
import { stateBadge } from "../core/badge.js";
import { exactTime, runDurationMs } from "./timefmt.js";

/** Config keys that may hold the host of a run whose client did not report one (rc1 SDKs). */
const HOST_KEYS = ["host", "hostname", "system.hostname", "env.host"];

/**
 * Draw the overview tab into ``panel``.
 * @param {HTMLElement} panel
 * @param {import("./data.js").RunContext} context
 * @returns {Promise<void>}
 */
export async function renderOverview(panel, context) {
  const { run } = context;
  const { config, summary } = splitConfig(run.config);
  const diagnostics = card("Diagnostics", Object.assign(document.createElement("p"), {
    className: "muted", textContent: "Loading…" }));
  panel.replaceChildren(
    card("Run", facts(run)),
    card("Summary", summary.length ? entriesTable(summary) : muted("No summary values.")),
    configCard(config), diagnostics);
  diagnostics.classList.add("diagnostics");
  const found = await getOrNull(runApiPath(context.ws, context.project, run.runId,
    "/diagnostics")).catch(() => null);
  const body = found?.diagnostics
    ? entriesTable(Object.entries(found.diagnostics).sort(([a], [b]) => (a < b ? -1 : 1)))
    : muted("No client diagnostics stored for this run (clients may send them with their data).");
  const note = found?.capturedAtMs ? muted(`captured ${relativeTime(found.capturedAtMs,
    Date.now())}${found.client ? ` by ${found.client.name} ${found.client.version}` : ""}`) : "";
  diagnostics.replaceChildren(heading("Diagnostics"), body, note);
}

/** @param {string} text */
function heading(text) {
  return Object.assign(document.createElement("h2"), { textContent: text });
}

/** @param {string} text */
function muted(text) {
  return Object.assign(document.createElement("p"), { className: "muted", textContent: text });
}

/** @param {string} title @param {...(Node | string)} children */
function card(title, ...children) {
  const section = Object.assign(document.createElement("section"), { className: "card" });
  section.append(heading(title), ...children);
  return section;
}

/** @param {number | null} ms */
function when(ms) {
  if (!ms) return "—";
  const span = Object.assign(document.createElement("span"), {
    textContent: relativeTime(ms, Date.now()), title: exactTime(ms) });
  span.dataset.exactMs = String(ms);
  return span;
}

/** @param {Record<string, any>} run */
function facts(run) {
  const host = run.host ?? HOST_KEYS.map((k) => run.config?.[k]).find((v) => v !== undefined);
  const state = document.createElement("span");
  state.append(stateBadge(run.status, run.reason));
  if (run.reason) state.append(" ", Object.assign(document.createElement("span"), {
    className: "state-reason", textContent: run.reason }));
  const tags = document.createElement("span");
  for (const tag of run.tags ?? []) {
    tags.append(Object.assign(document.createElement("span"), { className: "tag", textContent: tag }));
  }
  const duration = runDurationMs(run.startedAtMs, run.finishedAtMs, Date.now());
  /** @type {[string, Node | string][]} */
  const rows = [
    ["state", state], ["run id", run.runId], ["kind", run.kind ?? "—"],
    ["group", run.group ?? "—"], ["job type", run.jobType ?? "—"],
    ["tags", (run.tags ?? []).length ? tags : "—"],
    ["notes", run.notes ?? run.config?.notes ?? "—"],
    ["host", host === undefined ? "not recorded" : valueText(host)],
    ["started", when(run.startedAtMs)], ["finished", when(run.finishedAtMs)],
    ["duration", duration === null ? "—" :
      formatDuration(duration) + (run.finishedAtMs ? "" : " so far")],
    ["last heartbeat", when(run.lastHeartbeatMs)],
  ];
  const table = document.createElement("table");
  table.className = "run-facts";
  for (const [label, value] of rows) {
    const tr = table.insertRow();
    tr.dataset.field = label;
    const td = document.createElement("td");
    td.append(value);
    tr.append(Object.assign(document.createElement("th"), { textContent: label }), td);
  }
  return table;
}

/** @param {[string, unknown][]} entries */
function entriesTable(entries) {
  const table = document.createElement("table");
  table.className = "kv";
  for (const [key, value] of entries) {
    const tr = table.insertRow();
    tr.append(Object.assign(document.createElement("th"), { textContent: key }),
      Object.assign(document.createElement("td"), { className: "num", textContent: valueText(value) }));
  }
  return table;
}

/** @param {[string, unknown][]} config */
function configCard(config) {
  const search = Object.assign(document.createElement("input"), {
    type: "search", id: "config-search", placeholder: "Search config keys and values" });
  search.setAttribute("aria-label", "Search config");
  const tree = Object.assign(document.createElement("div"), { className: "config-tree" });
  const draw = () => {
    const shown = searchEntries(config, search.value);
    tree.replaceChildren(shown.length ? nodes(nestEntries(shown))
      : muted(config.length ? "No config entry matches." : "No config."));
  };
  search.addEventListener("input", draw);
  draw();
  return card("Config", search, tree);
}

/** @param {import("./configtree.js").ConfigNode[]} list @returns {HTMLElement} */
function nodes(list) {
  const ul = Object.assign(document.createElement("ul"), { className: "config-list" });
  for (const node of list) {
    const li = document.createElement("li");
    if (node.leaf) {
      li.className = "config-entry";
      li.dataset.key = node.path;
      li.append(Object.assign(document.createElement("span"), { className: "config-key",
        textContent: node.name, title: node.path }), Object.assign(document.createElement("span"), {
        className: "config-value", textContent: valueText(node.value) }));
    } else {
      const details = Object.assign(document.createElement("details"), { open: true });
      details.append(Object.assign(document.createElement("summary"), { textContent: node.name }),
        nodes(node.children));
      li.append(details);
    }
    ul.append(li);
  }
  return ul;
}
