// The project page: the runs table on the left and the chart grid of the selected runs on the
// right (a split view, as in W&B's workspace). The table announces its selection on the bus;
// the grid follows it.
import { getJson } from "../api.js";
import { emit, on } from "../core/bus.js";
import { mountRunsTable } from "../runs/table.js";
import { mountChartGrid } from "../charts/grid.js";
import { mountParcoordsPanel } from "../parcoords/panel.js";

/**
 * The project's id and names, by its slugs (``GET /api/v1/workspaces/{ws}/projects/{project}``:
 * one request, however many projects the workspace has); throws the collector's message
 * (``workspace/project … was not found``) when it is unknown.
 * @param {string} ws
 * @param {string} project
 * @returns {Promise<{projectId: string, projectSlug: string, name: string}>}
 */
export function findProject(ws, project) {
  return getJson(`/api/v1/workspaces/${encodeURIComponent(ws)}/projects/` +
    encodeURIComponent(project));
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
