// Loading the runs table's data: every run of the project through the compact runs-table
// route (docs/protocol.md §4.10), and the live refresh that keeps states current.
import { getJson } from "../api.js";
import { decodeTable } from "./fields.js";

/** @typedef {import("./fields.js").TableRun} TableRun */
/** @typedef {import("../core/bus.js").RunRef} RunRef */

/** Runs read at most (newest first): five pages of the route. */
export const MAX_RUNS = 50_000;
/** How often the table reloads while a run is running (and the tab is visible). */
export const REFRESH_MS = 15_000;
/** Above this many runs the table reloads only on demand (the ↻ button). */
export const AUTO_REFRESH_MAX_RUNS = 2_000;

/**
 * Every run of the project (newest first), up to :data:`MAX_RUNS`.
 * @param {{ws: string, project: string}} context
 * @returns {Promise<{runs: TableRun[], capped: boolean}>}
 */
export async function fetchRuns(context) {
  const base = `/api/v1/workspaces/${encodeURIComponent(context.ws)}/projects/` +
    `${encodeURIComponent(context.project)}/runs-table`;
  /** @type {TableRun[]} */
  let runs = [];
  let cursor = null;
  do {
    const reply = await getJson(cursor ? `${base}?cursor=${encodeURIComponent(cursor)}` : base);
    runs = runs.concat(decodeTable(reply));
    cursor = reply.page.hasMore ? reply.page.nextCursor : null;
  } while (cursor && runs.length < MAX_RUNS);
  return { runs, capped: cursor !== null };
}

/**
 * True when two selections differ in a way the charts care about (runs, names or states).
 * @param {RunRef[]} before
 * @param {RunRef[]} after
 * @returns {boolean}
 */
export function selectionChanged(before, after) {
  if (before.length !== after.length) return true;
  return before.some((ref, i) => ref.runId !== after[i].runId || ref.status !== after[i].status ||
    ref.name !== after[i].name);
}

/**
 * Whether an automatic reload is worth it: a small project with a run still running.
 * @param {TableRun[]} runs
 * @returns {boolean}
 */
export function refreshDue(runs) {
  return runs.length <= AUTO_REFRESH_MAX_RUNS && runs.some((run) => run.status === "running");
}

/**
 * Reload every :data:`REFRESH_MS` while ``root`` is in the page, the tab is visible and
 * :func:`refreshDue`; stops for good once ``root`` has left the page.
 * @param {HTMLElement} root
 * @param {() => TableRun[]} current
 * @param {() => Promise<void>} reload
 */
export function autoRefresh(root, current, reload) {
  const timer = setInterval(() => {
    if (!root.isConnected) return clearInterval(timer);
    if (document.hidden || !refreshDue(current())) return;
    reload().catch(() => { /* the next tick tries again */ });
  }, REFRESH_MS);
}
