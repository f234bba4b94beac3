// Merging live tail points into a chart series (stub; the live work of issue 15 fills it).

/**
 * @typedef {{steps: number[], timestampsMs: number[], values: (number|null)[]}} TailPoints
 *   Points of one (run, key) from the live stream, in commit order (a repeated step supersedes).
 * @typedef {Record<string, any>} ChartEntry  one entry of POST /api/v1/query/chart's reply
 */

/**
 * ``entry`` with ``points`` merged in (a new object; ``entry`` is not changed). A raw entry
 * stays raw while it fits ``buckets``; a bucketed one gains new buckets or updates its last.
 * @param {ChartEntry} entry
 * @param {TailPoints} points
 * @param {number} buckets the chart's bucket budget (its width in pixels)
 * @returns {ChartEntry}
 */
export function mergeTail(entry, points, buckets) {
  void points; void buckets;
  return entry;
}
