// Where the grid's runs and keys come from: the collector's key listing of the selected runs, and
// the runs the URL field ``runs`` names (used until a runs table selection arrives). Both are
// batched look-ups (docs/protocol.md §8): one request per 400 runs, not one per run.
import { postJson } from "../api.js";
import { runColor } from "../core/colors.js";
import { getState } from "../core/urlstate.js";

/** @typedef {import("../core/bus.js").RunRef} RunRef */

const MAX_RUNS_PER_REQUEST = 400; // the batched routes' bound
const MAX_RUN_ID_CHARS = 256; // a longer (or blank) id names no run: never sent
const MAX_KEY_PAGES = 50; // 1M keys (20,000 a page) per 400 runs at most

/** The run ids of the URL field ``runs``. @returns {string[]} */
export function urlRunIds() {
  return (getState("runs") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * The distinct ids a run can have, cut into the batched routes' bound.
 * @param {string[]} ids @returns {string[][]}
 */
function batches(ids) {
  ids = [...new Set(ids)].filter((id) => id.trim() && id.length <= MAX_RUN_ID_CHARS);
  /** @type {string[][]} */
  const out = [];
  for (let i = 0; i < ids.length; i += MAX_RUNS_PER_REQUEST) {
    out.push(ids.slice(i, i + MAX_RUNS_PER_REQUEST));
  }
  return out;
}

/**
 * Each run's metric keys, in the order of ``runIds`` (``POST /api/v1/query/keys``); null for a
 * run the collector does not know, or when the look-up failed.
 * @param {string} projectId @param {string[]} runIds
 * @returns {Promise<(string[]|null)[]>}
 */
export async function keysOfRuns(projectId, runIds) {
  /** @type {Map<string, string[]>} */
  const found = new Map();
  await Promise.all(batches(runIds).map(async (ids) => {
    let cursor = null;
    for (let page = 0; page < MAX_KEY_PAGES; page++) {
      const reply = await postJson("/api/v1/query/keys",
        { projectId, runIds: ids, ...(cursor ? { cursor } : {}) });
      if (!reply.ok) return;
      for (const run of reply.body.runs) {
        found.set(run.runId, [...(found.get(run.runId) ?? []), ...run.keys]);
      }
      cursor = reply.body.page?.hasMore ? reply.body.page.nextCursor : null;
      if (!cursor) break;
    }
  }));
  return runIds.map((runId) => found.get(runId) ?? null);
}

/**
 * When a run of ``notLive`` (those not live when the keys were read) is followed now, the
 * runs' keys are read again once ``live.whenLive(runIds)`` resolves and handed to ``add``
 * (while ``current()`` holds): a key logged only before a run's socket was live is never
 * streamed, so the first read may have missed it. Look-up failures add nothing.
 * @param {string} projectId @param {string[]} runIds @param {string[]} notLive
 * @param {{whenLive: (runIds: string[]) => Promise<void>, followed: (runId: string) => boolean}} live
 * @param {() => boolean} current @param {(keys: string[]) => void} add
 */
export async function keysOnceLive(projectId, runIds, notLive, live, current, add) {
  if (!notLive.some((id) => live.followed(id))) return;
  await live.whenLive(runIds);
  if (!current()) return;
  const lists = await keysOfRuns(projectId, runIds);
  if (current()) add(lists.flatMap((list) => list ?? []));
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
 * The runs the URL field ``runs`` names, as RunRefs (``POST /api/v1/query/runs``; an unknown run,
 * or every run when the look-up fails, keeps its id as name).
 * @param {{projectId: string}} options
 * @param {string[]} ids
 * @returns {Promise<RunRef[]>}
 */
export async function runsFromUrl(options, ids) {
  /** @type {Map<string, any>} */
  const found = new Map();
  await Promise.all(batches(ids).map(async (runIds) => {
    const reply = await postJson("/api/v1/query/runs", { projectId: options.projectId, runIds });
    if (reply.ok) for (const run of reply.body.runs) found.set(run.runId, run);
  }));
  return ids.map((runId) => {
    const run = found.get(runId);
    return run ? { runId, name: run.runName || runId, color: runColor(runId), status: run.status,
      startedAtMs: run.startedAtMs ?? null } : provisionalRun(runId);
  });
}
