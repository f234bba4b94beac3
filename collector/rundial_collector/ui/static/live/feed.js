// Following several runs' live streams for a page (stub; the live work of issue 15 fills it).

/**
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {import("../charts/merge.js").TailPoints} TailPoints
 * @typedef {{
 *   onPoints?: (runId: string, key: string, points: TailPoints) => void,
 *   onLogs?: (runId: string, lines: any[]) => void,
 *   onSpans?: (runId: string, spans: any[]) => void,
 *   onState?: (runId: string, state: any) => void,
 *   onStatus?: (runId: string, status: import("../core/socket.js").StreamStatus,
 *               detail: string) => void,
 * }} FeedHandlers
 * @typedef {{close: () => void}} Feed
 */

/**
 * Follow ``runs``' streams from now on (no history replay) until ``close()``.
 * @param {string} projectId
 * @param {RunRef[]} runs
 * @param {FeedHandlers} handlers
 * @returns {Feed}
 */
export function followRuns(projectId, runs, handlers) {
  void projectId; void runs; void handlers;
  return { close: () => {} };
}
