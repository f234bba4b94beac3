// The run page's reads: the run itself (null when unknown), its diagnostics, pages of logs,
// its span tree, and the step <-> time map of a metric key (for the linked timeline).
import { postJson } from "../api.js";
import { stepTimeMap, timeAtStep } from "./logmath.js";

/** Points of the step <-> time map per key (min/max/last buckets of query/series downsample). */
export const STEP_MAP_POINTS = 3000;
/** Span pages read at most (1,000 roots each; the server reads at most 10,000 spans anyway). */
const MAX_SPAN_PAGES = 10;

/**
 * @typedef {{ws: string, project: string, projectId: string, run: Record<string, any>,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} RunContext
 * @typedef {{projectId: string, runId: string}} Target
 */

/**
 * GET a JSON route; null on 404, the login page on 401, an Error otherwise.
 * @param {string} path
 * @returns {Promise<any | null>}
 */
export async function getOrNull(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("not logged in");
  }
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${path}`);
  return response.json();
}

/**
 * The path of a run's details (and, with ``tail``, of one of its sub-resources).
 * @param {string} ws
 * @param {string} project
 * @param {string} runId
 * @param {string} [tail]
 */
export function runApiPath(ws, project, runId, tail = "") {
  return `/api/v1/workspaces/${encodeURIComponent(ws)}/projects/${encodeURIComponent(project)}` +
    `/runs/${encodeURIComponent(runId)}${tail}`;
}

/**
 * POST a query; the reply body, or an Error with the server's message.
 * @param {string} path
 * @param {object} body
 * @returns {Promise<any>}
 */
export async function query(path, body) {
  const reply = await postJson(path, body);
  if (!reply.ok) throw new Error(reply.message);
  return reply.body;
}

/**
 * One page of log lines (``POST /api/v1/query/logs``).
 * @param {Target} target
 * @param {Record<string, any>} params order, limit, minLevel, text, startMs, endMs, cursor
 * @returns {Promise<{rows: import("./logmath.js").LogLine[], hasMore: boolean,
 *   nextCursor: string | null}>}
 */
export async function logPage(target, params) {
  const body = Object.fromEntries(Object.entries({ ...target, ...params })
    .filter(([, v]) => v !== null && v !== undefined && v !== ""));
  const reply = await query("/api/v1/query/logs", body);
  return { rows: reply.rows, hasMore: !!reply.page?.hasMore,
    nextCursor: reply.page?.nextCursor ?? null };
}

/**
 * The run's whole span tree (pages of roots followed), and whether the server cut it.
 * @param {Target} target
 * @returns {Promise<{roots: import("./spanmath.js").Span[], spanCount: number,
 *   truncated: boolean}>}
 */
export async function spanTree(target) {
  /** @type {import("./spanmath.js").Span[]} */
  const roots = [];
  let cursor = null;
  let spanCount = 0;
  let truncated = false;
  for (let i = 0; i < MAX_SPAN_PAGES; i++) {
    const reply = await query("/api/v1/query/spans", { ...target, limit: 1000,
      ...(cursor ? { cursor } : {}) });
    roots.push(...reply.spans);
    spanCount = reply.spanCount;
    truncated = reply.truncated;
    cursor = reply.page?.hasMore ? reply.page.nextCursor : null;
    if (!cursor) break;
  }
  return { roots, spanCount, truncated: truncated || cursor !== null };
}

/** @type {Map<string, Promise<ReturnType<typeof stepTimeMap>>>} */
const stepMaps = new Map();

/**
 * The (step, time) map of ``key`` (default: the run's first key outside ``system/``), cached
 * per page load. Bucketed (min/max/last per bucket) for long series, so a time is exact for
 * the steps returned and interpolated between them.
 * @param {Target} target
 * @param {string | null} key
 * @returns {Promise<ReturnType<typeof stepTimeMap>>}
 */
export function stepMap(target, key) {
  const id = `${target.runId}\u0000${key ?? ""}`;
  let found = stepMaps.get(id);
  if (!found) {
    found = loadStepMap(target, key);
    stepMaps.set(id, found);
    found.catch(() => stepMaps.delete(id));
  }
  return found;
}

/**
 * @param {Target} target
 * @param {string | null} key
 */
async function loadStepMap(target, key) {
  const metricKey = key ?? await firstTrainingKey(target);
  if (!metricKey) return stepTimeMap([]);
  const reply = await query("/api/v1/query/series", { ...target, metricKeys: [metricKey],
    mode: "downsample", maxPointsPerSeries: STEP_MAP_POINTS });
  return stepTimeMap(reply.series[0]?.points ?? []);
}

/** @param {Target} target @returns {Promise<string | null>} */
async function firstTrainingKey(target) {
  const query = new URLSearchParams({ projectId: target.projectId, runId: target.runId,
    limit: "1000" });
  const reply = await getOrNull(`/api/v1/metrics/keys?${query}`);
  const keys = (reply?.keys ?? []).map((/** @type {any} */ k) => k.metricKey);
  return keys.find((/** @type {string} */ k) => !k.startsWith("system/")) ?? keys[0] ?? null;
}

/**
 * The wall time a ``step-focus`` points at: its ``timeMs``, else the time of its step in its
 * key's series, else in the run's first training key's; null when none is known.
 * @param {Target} target
 * @param {{step: number, timeMs?: number | null, key?: string | null}} focus
 * @returns {Promise<number | null>}
 */
export async function focusTime(target, focus) {
  if (typeof focus.timeMs === "number" && Number.isFinite(focus.timeMs)) return focus.timeMs;
  const own = focus.key ? timeAtStep(await stepMap(target, focus.key), focus.step) : null;
  return own ?? timeAtStep(await stepMap(target, null), focus.step);
}
