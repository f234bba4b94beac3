// Where the grid's runs and keys come from: the collector's key listing per run, and the runs
// the URL field ``runs`` names (used until a runs table selection arrives).
import { getJson } from "../api.js";
import { runColor } from "../core/colors.js";
import { getState } from "../core/urlstate.js";

/** @typedef {import("../core/bus.js").RunRef} RunRef */

const MAX_KEY_PAGES = 20; // 20,000 keys per run at most

/** The run ids of the URL field ``runs``. @returns {string[]} */
export function urlRunIds() {
  return (getState("runs") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * A run's metric keys; null when the collector does not know the run.
 * @param {string} projectId @param {string} runId
 * @returns {Promise<string[]|null>}
 */
export async function runKeys(projectId, runId) {
  /** @type {string[]} */
  const keys = [];
  let cursor = null;
  try {
    for (let page = 0; page < MAX_KEY_PAGES; page++) {
      const reply = await getJson(`/api/v1/metrics/keys?projectId=${encodeURIComponent(projectId)}` +
        `&runId=${encodeURIComponent(runId)}&limit=1000` +
        (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
      keys.push(...reply.keys.map((/** @type {{metricKey: string}} */ k) => k.metricKey));
      cursor = reply.page?.hasMore ? reply.page.nextCursor : null;
      if (!cursor) break;
    }
    return keys;
  } catch {
    return null;
  }
}

/**
 * A run known only by its id (until its details come).
 * @param {string} runId
 * @returns {RunRef}
 */
export function provisionalRun(runId) {
  return { runId, name: runId, color: runColor(runId), status: "unknown", startedAtMs: null };
}

/**
 * The runs the URL field ``runs`` names, as RunRefs (an unknown run keeps its id as name).
 * @param {{ws: string, project: string}} options
 * @param {string[]} ids
 * @returns {Promise<RunRef[]>}
 */
export async function runsFromUrl(options, ids) {
  return Promise.all(ids.map(async (runId) => {
    try {
      const run = await getJson(`/api/v1/workspaces/${encodeURIComponent(options.ws)}/projects/` +
        `${encodeURIComponent(options.project)}/runs/${encodeURIComponent(runId)}`);
      return { runId, name: run.runName || runId, color: runColor(runId), status: run.status,
        startedAtMs: run.startedAtMs ?? null };
    } catch {
      return provisionalRun(runId);
    }
  }));
}
