// The run page: tabs Overview, Charts, System, Logs, Traces, Artifacts, Media (``?tab=``).
// Placeholder until the run page lands (issue 15).
import { getJson } from "../api.js";

/**
 * Draw the run page into ``view``.
 * @param {HTMLElement} view
 * @param {string} ws
 * @param {string} project
 * @param {string} runId
 */
export async function renderRun(view, ws, project, runId) {
  const run = await getJson(`/api/v1/workspaces/${encodeURIComponent(ws)}/projects/` +
    `${encodeURIComponent(project)}/runs/${encodeURIComponent(runId)}`);
  const heading = Object.assign(document.createElement("h1"), {
    textContent: run.runName || run.runId,
  });
  view.replaceChildren(heading);
}
