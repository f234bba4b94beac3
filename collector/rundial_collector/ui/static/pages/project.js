// The project page: the runs table on the left and the chart grid of the selected runs on the
// right (a split view, as in W&B's workspace). The table announces its selection on the bus;
// the grid follows it.
import { getJson } from "../api.js";
import { emit, on } from "../core/bus.js";
import { mountRunsTable } from "../runs/table.js";
import { mountChartGrid } from "../charts/grid.js";
import { mountParcoordsPanel } from "../parcoords/panel.js";

/**
 * The project's id and names (``GET /api/v1/workspaces/{ws}/projects`` holds it).
 * @param {string} ws
 * @param {string} project
 * @returns {Promise<{projectId: string, projectSlug: string, name: string}>}
 */
export async function findProject(ws, project) {
  let cursor = null;
  do {
    const path = `/api/v1/workspaces/${encodeURIComponent(ws)}/projects` +
      (cursor ? `?cursor=${encodeURIComponent(cursor)}` : "");
    const reply = await getJson(path);
    const found = reply.projects.find((/** @type {any} */ p) => p.projectSlug === project);
    if (found) return found;
    cursor = reply.page?.hasMore ? reply.page.nextCursor : null;
  } while (cursor);
  throw new Error(`project ${ws}/${project} was not found`);
}

/**
 * Draw the project page into ``view``.
 * @param {HTMLElement} view
 * @param {string} ws workspace slug
 * @param {string} project project slug
 */
export async function renderProject(view, ws, project) {
  const found = await findProject(ws, project);
  const layout = document.createElement("div");
  layout.className = "split";
  const runsPane = Object.assign(document.createElement("section"), {
    className: "pane runs-pane", id: "runs-pane",
  });
  const chartsPane = Object.assign(document.createElement("section"), {
    className: "pane charts-pane", id: "charts-pane",
  });
  layout.append(runsPane, chartsPane);
  view.replaceChildren(layout);
  const context = { ws, project, projectId: found.projectId, emit, on };
  const gridHost = document.createElement("div");
  const parcoordsHost = Object.assign(document.createElement("section"), {
    className: "card parcoords-panel", id: "parcoords-panel",
  });
  chartsPane.append(gridHost, parcoordsHost);
  const grid = mountChartGrid(gridHost, { ...context, runs: [] });
  const parcoords = mountParcoordsPanel(parcoordsHost, context);
  on("selection", (/** @type {{runs: import("../core/bus.js").RunRef[]}} */ detail) => {
    grid.setRuns(detail.runs);
    void parcoords.setRuns(detail.runs);
  });
  await mountRunsTable(runsPane, context);
}
