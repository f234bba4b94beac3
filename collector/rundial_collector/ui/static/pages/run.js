// The run page: a header (name, state badge, live status, edit), tabs Overview, Charts,
// System, Logs, Traces, Artifacts, Media (``?tab=``), and the linked timeline: a chart
// point's ``step-focus`` opens the "around step N" drawer and moves the Logs and Traces tabs
// to that step. One live feed for the run updates the header, logs and spans; it is live
// before the tabs read anything.
import { emit, on } from "../core/bus.js";
import { getState } from "../core/urlstate.js";
import { runColor } from "../core/colors.js";
import { projectPath } from "../core/routes.js";
import { mountChartGrid } from "../charts/grid.js";
import { followRuns } from "../live/feed.js";
import { findProject } from "./project.js";
import { renderArtifactsTab } from "../runpage/artifacts.js";
import { renderMediaTab } from "../runpage/media.js";
import { getOrNull, runApiPath } from "../runpage/data.js";
import { mountFocusDrawer } from "../runpage/focus.js";
import { mountRunHeader } from "../runpage/header.js";
import { mountLogsTab } from "../runpage/logs.js";
import { renderOverview } from "../runpage/overview.js";
import { mountTabs } from "../runpage/tabs.js";
import { mountTracesTab } from "../runpage/traces.js";
// The tabs' deeper imports, named here too: this module is imported on demand (app.js), so
// without them the browser would discover each level one round trip after the other.
import "../runpage/artifacts_files.js";
import "../runpage/artifacts_version.js";
import "../runpage/assets_dom.js";
import "../runpage/assets_paths.js";
import "../runpage/configtree.js";
import "../runpage/lineage.js";
import "../runpage/lineage_layout.js";
import "../runpage/loglist.js";
import "../runpage/logmath.js";
import "../runpage/media_index.js";
import "../runpage/media_key.js";
import "../runpage/media_logic.js";
import "../runpage/media_table.js";
import "../runpage/spandetails.js";
import "../runpage/spanmath.js";
import "../runpage/tablogic.js";
import "../runpage/timefmt.js";

/** Statuses whose run may still send data (``lost`` revives on its next batch). */
const LIVE_STATUSES = new Set(["running", "lost"]);

/** How long the tabs wait for the run's stream to be live before reading anyway. */
const LIVE_WAIT_MS = 3000;

/**
 * Draw the run page into ``view``; an unknown run gets a clear "not found" message.
 * @param {HTMLElement} view
 * @param {string} ws
 * @param {string} project
 * @param {string} runId
 */
export async function renderRun(view, ws, project, runId) {
  const found = await findProject(ws, project);
  const run = await getOrNull(runApiPath(ws, project, runId));
  if (!run) return notFound(view, ws, project, runId);
  const context = { ws, project, projectId: found.projectId, run, emit, on };
  const page = Object.assign(document.createElement("div"), { className: "run-page" });
  view.replaceChildren(page);
  // the editor edits an EditableRun (runs/edit.js), not the run details the page holds
  const editable = () => ({ ws, project, runId, name: run.runName ?? null, tags: run.tags ?? [],
    ...(typeof run.notes === "string" ? { notes: run.notes } : {}) });
  const header = mountRunHeader(page, run, () => editor?.(editable(), refresh));
  header.setLiveStatus(LIVE_STATUSES.has(run.status) ? "connecting" : "finished");
  const body = Object.assign(document.createElement("div"), { className: "run-body" });
  const main = Object.assign(document.createElement("div"), { className: "run-main" });
  body.append(main);
  page.append(body);

  /** @type {import("../runpage/logs.js").LogsTab | null} */
  let logs = null;
  /** @type {import("../runpage/traces.js").TracesTab | null} */
  let traces = null;
  /** @type {any} */
  let lastFocus = null;
  const ref = () => ({ runId, name: run.runName || runId, color: runColor(runId),
    status: run.status, startedAtMs: run.startedAtMs });
  // Subscribe first; the tabs (whose logs, spans and charts reads come next) open once the
  // stream is live, so nothing committed between a read and the subscription is missed.
  if (LIVE_STATUSES.has(run.status)) {
    /** @type {() => void} */
    let settled = () => {};
    const ready = new Promise((/** @type {(v?: any) => void} */ resolve) => {
      settled = resolve;
      setTimeout(resolve, LIVE_WAIT_MS); // a socket that cannot connect never blocks the page
    });
    followRuns(found.projectId, [ref()], {
      onLogs: (_id, lines) => logs?.addLines(lines),
      onSpans: (_id, spans) => traces?.addSpans(spans),
      onState: (_id, state) => {
        for (const field of ["status", "reason", "finishedAtMs", "updatedAtMs",
          "lastHeartbeatMs"]) if (state && field in state) run[field] = state[field];
        header.setRun(run);
      },
      onStatus: (_id, status, detail) => {
        header.setLiveStatus(status, detail);
        if (status !== "connecting" && status !== "replaying" && status !== "reconnecting") {
          settled();
        }
      },
    });
    await ready;
  }
  const tabs = mountTabs(main, async (tab, panel) => {
    if (tab === "overview") return renderOverview(panel, context);
    if (tab === "charts") {
      return void mountChartGrid(panel, { ...context, runs: [ref()], excludePrefix: "system/" });
    }
    if (tab === "system") {
      return void mountChartGrid(panel, { ...context, runs: [ref()], keyPrefix: "system/" });
    }
    if (tab === "logs") {
      logs = mountLogsTab(panel, context);
      if (lastFocus) void logs.focus(lastFocus);
      return;
    }
    if (tab === "traces") {
      traces = await mountTracesTab(panel, context, () => LIVE_STATUSES.has(run.status));
      if (lastFocus) void traces.focus(lastFocus);
      return;
    }
    if (tab === "artifacts") return renderArtifactsTab(panel, context);
    if (tab === "media") return renderMediaTab(panel, context);
  });
  const drawer = mountFocusDrawer(body, context, tabs.select);
  const focus = (/** @type {any} */ detail) => {
    if (!detail || typeof detail.step !== "number" || (detail.runId && detail.runId !== runId)) {
      return;
    }
    lastFocus = detail;
    void drawer.show(detail);
    void logs?.focus(detail);
    void traces?.focus(detail);
  };
  on("step-focus", focus);
  const stepInUrl = getState("step"); // a copied link of a focused step reopens it
  if (stepInUrl !== null && /^\d+$/.test(stepInUrl)) {
    focus({ runId, key: null, step: Number(stepInUrl), timeMs: null });
  }

  const refresh = async () => {
    const next = await getOrNull(runApiPath(ws, project, runId));
    if (!next) return window.location.assign(projectPath(ws, project));
    Object.assign(run, next);
    header.setRun(run);
  };
  /** @type {((run: any, onDone: () => void) => void) | null} */
  let editor = null;
  // The runs area's editor, loaded when first needed by the page (no edit button without it).
  import("../runs/edit.js").then((module) => {
    if (typeof module.openRunEditor !== "function") return;
    editor = module.openRunEditor;
    header.showEdit(true);
  }).catch(() => header.showEdit(false));

}

/**
 * The empty state of an unknown run.
 * @param {HTMLElement} view
 * @param {string} ws
 * @param {string} project
 * @param {string} runId
 */
function notFound(view, ws, project, runId) {
  const box = Object.assign(document.createElement("div"), { className: "run-missing card" });
  box.dataset.state = "not-found";
  box.append(Object.assign(document.createElement("h1"), { textContent: "Run not found" }),
    Object.assign(document.createElement("p"), {
      textContent: `There is no run ${runId} in ${ws}/${project} (404). It may have been ` +
        "deleted, or the link has a typo." }),
    Object.assign(document.createElement("a"), { href: projectPath(ws, project),
      textContent: `Back to ${project}` }));
  view.replaceChildren(box);
}
