// The chart grid (placeholder until the charts land, issue 15).

/**
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {{ws: string, project: string, projectId: string, runs: RunRef[],
 *   keyPrefix?: string, excludePrefix?: string,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} GridOptions
 * @typedef {{setRuns: (runs: RunRef[]) => void, destroy: () => void}} ChartGrid
 */

/**
 * Mount a grid of charts, one per metric key of ``options.runs``, into ``container``.
 * @param {HTMLElement} container
 * @param {GridOptions} options
 * @returns {ChartGrid}
 */
export function mountChartGrid(container, options) {
  const note = Object.assign(document.createElement("p"), { className: "muted" });
  const setRuns = (/** @type {RunRef[]} */ runs) => {
    note.textContent = runs.length ? `${runs.length} runs selected` : "No runs selected.";
  };
  setRuns(options.runs);
  container.replaceChildren(note);
  return { setRuns, destroy: () => container.replaceChildren() };
}
