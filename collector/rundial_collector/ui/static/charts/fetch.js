// Batched chart requests: every (run, key) series the grid needs, in as few
// POST /api/v1/query/chart requests as the route's bounds allow.
import { postJson } from "../api.js";

export const MAX_SERIES = 400;
export const MAX_TOTAL_BUCKETS = 500_000;
export const MAX_BUCKETS = 4000;

/**
 * @typedef {{runId: string, metricKey: string}} SeriesRef
 * @typedef {{buckets: number, startStep?: number, endStep?: number,
 *   smoothing?: import("./smooth.js").SmoothingSpec|null, smoothedOnly?: boolean}} Shape
 */

/**
 * ``refs`` cut into batches a single request may hold (pure).
 * @template T
 * @param {T[]} refs
 * @param {number} buckets
 * @returns {T[][]}
 */
export function batches(refs, buckets) {
  const size = Math.max(1, Math.min(MAX_SERIES, Math.floor(MAX_TOTAL_BUCKETS / buckets)));
  /** @type {T[][]} */
  const out = [];
  for (let i = 0; i < refs.length; i += size) out.push(refs.slice(i, i + size));
  return out;
}

/**
 * The bucket count a request for ``buckets`` (a chart's width) really asks for (pure).
 * @param {number} buckets
 * @returns {number}
 */
export function bucketCount(buckets) {
  return Math.max(1, Math.min(MAX_BUCKETS, Math.round(buckets)));
}

/**
 * The chart route's body for one batch (pure).
 * @param {string} projectId
 * @param {SeriesRef[]} refs
 * @param {Shape} shape
 */
export function chartBody(projectId, refs, shape) {
  /** @type {Record<string, any>} */
  const body = { projectId, buckets: bucketCount(shape.buckets),
    series: refs.map(({ runId, metricKey }) => ({ runId, metricKey })) };
  if (shape.startStep !== undefined) body.startStep = shape.startStep;
  if (shape.endStep !== undefined) body.endStep = shape.endStep;
  if (shape.smoothing) body.smoothing = shape.smoothing;
  if (shape.smoothedOnly) body.smoothedOnly = true;
  return body;
}

/**
 * Fetch every series of ``refs`` with ``shape`` (batches in parallel); entries in ``refs``
 * order. A failed request rejects with the collector's message.
 * @param {string} projectId
 * @param {SeriesRef[]} refs
 * @param {Shape} shape
 * @returns {Promise<Record<string, any>[]>}
 */
export async function fetchSeries(projectId, refs, shape) {
  const replies = await Promise.all(batches(refs, shape.buckets).map(async (batch) => {
    const reply = await postJson("/api/v1/query/chart", chartBody(projectId, batch, shape));
    if (!reply.ok) throw new Error(reply.message);
    return /** @type {Record<string, any>[]} */ (reply.body.series);
  }));
  return replies.flat();
}
