// Small pure helpers of the runs table view (no DOM; tested with node --test): the virtual
// window, durations, the selection rules and the run refs the charts get.
import { distinctColors } from "../core/colors.js";

/** @typedef {import("./fields.js").TableRun} TableRun */

/**
 * Which display rows to put in the DOM: those visible in the viewport plus ``overscan`` on
 * each side, and the spacer heights above and below them.
 * @param {number} scrollTop px
 * @param {number} viewportPx height of the scroll viewport
 * @param {number} rowPx fixed row height
 * @param {number} total number of display rows
 * @param {number} overscan extra rows each side
 * @returns {{start: number, end: number, padTopPx: number, padBottomPx: number}} rows
 *   [start, end)
 */
export function virtualWindow(scrollTop, viewportPx, rowPx, total, overscan) {
  const first = Math.floor(Math.max(0, scrollTop) / rowPx);
  const visible = Math.ceil(Math.max(0, viewportPx) / rowPx) + 1;
  const start = Math.min(total, Math.max(0, first - overscan));
  const end = Math.min(total, first + visible + overscan);
  return { start, end: Math.max(start, end), padTopPx: start * rowPx,
    padBottomPx: (total - Math.max(start, end)) * rowPx };
}

/**
 * The ids of the ``count`` most recently started runs (the default selection).
 * @param {TableRun[]} runs
 * @param {number} count
 * @returns {string[]}
 */
export function defaultSelection(runs, count) {
  return [...runs].sort((a, b) => b.startedAtMs - a.startedAtMs || (a.runId < b.runId ? 1 : -1))
    .slice(0, count).map((run) => run.runId);
}

/**
 * The selection after a click on ``runIds[index]``: a plain click toggles that run; a
 * shift-click sets every run between the anchor and it to the clicked run's new state.
 * @param {Set<string>} selected
 * @param {string[]} runIds the visible runs in display order
 * @param {number} index clicked row
 * @param {number | null} anchor index of the previous click (null = none)
 * @param {boolean} shift
 * @returns {Set<string>} a new set
 */
export function clickSelection(selected, runIds, index, anchor, shift) {
  const next = new Set(selected);
  const select = !selected.has(runIds[index]);
  const from = shift && anchor !== null ? Math.min(anchor, index) : index;
  const to = shift && anchor !== null ? Math.max(anchor, index) : index;
  for (let i = from; i <= to; i++) {
    if (select) next.add(runIds[i]);
    else next.delete(runIds[i]);
  }
  return next;
}

/** URL value of an empty selection ("/" can never be in a run id). */
export const NO_RUNS = "/";

/**
 * The ``runs`` URL field of a selection.
 * @param {Set<string>} selected
 * @param {TableRun[]} order runs in table order
 * @returns {string}
 */
export function formatSelection(selected, order) {
  if (selected.size === 0) return NO_RUNS;
  return selectedInOrder(selected, order).join(",");
}

/**
 * The selected ids in table order, then the ids the table does not know (kept: a URL may name
 * a deleted or mistyped run, which the charts then show as unknown).
 * @param {Set<string>} selected
 * @param {TableRun[]} order
 * @returns {string[]}
 */
function selectedInOrder(selected, order) {
  const known = order.filter((run) => selected.has(run.runId)).map((run) => run.runId);
  const seen = new Set(order.map((run) => run.runId));
  return [...known, ...[...selected].filter((id) => !seen.has(id))];
}

/**
 * The selection a ``runs`` URL field names (null = absent: use the default).
 * @param {string | null} text
 * @returns {Set<string> | null}
 */
export function parseSelection(text) {
  if (text === null || text === "") return null;
  if (text === NO_RUNS) return new Set();
  return new Set(text.split(",").filter(Boolean));
}

/**
 * The selected runs as the charts want them, in table order; a selected id the table does not
 * know comes last as ``{name: id, status: "unknown", startedAtMs: null}``.
 * @param {Set<string>} selected
 * @param {TableRun[]} order
 * @returns {import("../core/bus.js").RunRef[]}
 */
export function runRefs(selected, order) {
  const byId = new Map(order.map((run) => [run.runId, run]));
  const colors = distinctColors(selected);
  return selectedInOrder(selected, order).map((runId) => {
    const run = byId.get(runId);
    return { runId, name: run?.name ?? runId, color: /** @type {string} */ (colors.get(runId)),
      status: run?.status ?? "unknown", startedAtMs: run?.startedAtMs ?? null };
  });
}
