// The project page: the runs table on the left and the chart grid of the selected runs on the
// right (a split view, as in W&B's workspace). The table announces its selection on the bus;
// the grid follows it.
import { findProject } from "../api.js";
import { emit, on } from "../core/bus.js";
import { earlyOr } from "../early.js";
import { mountRunsTable } from "../runs/table.js";
import { mountChartGrid } from "../charts/grid.js";
import { mountParcoordsPanel } from "../parcoords/panel.js";

export { findProject }; // the run page's look-up too

/**
 * Draw the project page into ``view``.
 * @param {HTMLElement} view
 * @param {string} ws workspace slug
 * @param {string} project project slug
 */
export async function renderProject(view, ws, project) {
  const found = await earlyOr(`project ${ws}/${project}`, null, () => findProject(ws, project));
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
