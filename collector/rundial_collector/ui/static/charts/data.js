// From chart-route entries to what uPlot draws (pure): one series per run, x in the chosen
// units, bands where bucketed, every run joined on one shared x array.

/**
 * @typedef {{runId: string, mode: string, steps: number[], x: number[], y: (number|null)[],
 *   min?: (number|null)[], max?: (number|null)[], smoothed?: (number|null)[]}} RunSeries
 *   One run's curve as the chart was given it (``window.__rundialCharts``; ``steps`` too).
 */

/**
 * One run's curve from a chart entry (raw: its points; buckets: the bucket ends' last
 * values, with min/max for the band). x: the step, the wall time (s), or seconds since
 * ``startMs`` (the run's start, else its first point).
 * @param {Record<string, any>} entry
 * @param {string} xMode "step" | "wall" | "relative"
 * @param {number|null} startMs
 * @returns {RunSeries}
 */
export function entrySeries(entry, xMode, startMs) {
  const bucketed = entry.mode === "buckets";
  const steps = (bucketed ? entry.stepEnd : entry.steps) ?? [];
  const stamps = (bucketed ? entry.lastTimestampMs : entry.timestampsMs) ?? [];
  const origin = startMs ?? (stamps.length ? stamps[0] : 0);
  const x = xMode === "wall" ? stamps.map((/** @type {number} */ t) => t / 1000)
    : xMode === "relative" ? stamps.map((/** @type {number} */ t) => (t - origin) / 1000)
      : steps.slice();
  /** @type {RunSeries} */
  const series = { runId: entry.runId, mode: entry.mode, steps, x,
    y: (bucketed ? entry.last : entry.values) ?? [] };
  if (bucketed) {
    series.min = entry.min;
    series.max = entry.max;
  }
  if (Array.isArray(entry.smoothed)) series.smoothed = entry.smoothed;
  return series;
}

/**
 * Whether ``xs`` is ascending (non-decreasing).
 * @param {ArrayLike<number>} xs
 */
function ascending(xs) {
  for (let i = 1; i < xs.length; i++) if (xs[i] < xs[i - 1]) return false;
  return true;
}

/**
 * The sorted union of the runs' x values and, per run, the index in it of each of its points
 * (runs whose x arrays are all equal share them without copying).
 * @param {ArrayLike<number>[]} xs
 * @returns {{x: number[], where: (Int32Array|null)[]}}
 */
export function joinX(xs) {
  const first = xs[0] ?? [];
  const same = xs.every((x) => x.length === first.length &&
    (x === first || Array.prototype.every.call(x, (v, i) => v === first[i])));
  if (same && ascending(first)) return { x: Array.from(first), where: xs.map(() => null) };
  const all = new Float64Array(xs.reduce((n, x) => n + x.length, 0));
  let k = 0;
  for (const x of xs) for (let i = 0; i < x.length; i++) all[k++] = x[i];
  all.sort();
  /** @type {number[]} */
  const union = [];
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) union.push(all[i]);
  const where = xs.map((x) => {
    const index = new Int32Array(x.length);
    for (let i = 0; i < x.length; i++) index[i] = lowerBound(union, x[i]);
    return index;
  });
  return { x: union, where };
}

/** @param {number[]} sorted @param {number} value */
function lowerBound(sorted, value) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * ``values`` placed on the joined x (null elsewhere); on a log axis non-positive values and
 * NaN become null (a gap), so the line and band still draw.
 * @param {ArrayLike<number|null>} values
 * @param {Int32Array|null} where
 * @param {number} length
 * @param {boolean} ylog
 * @returns {(number|null)[]}
 */
export function placeOn(values, where, length, ylog) {
  /** @type {(number|null)[]} */
  const out = where ? new Array(length).fill(null) : new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const ok = v !== null && Number.isFinite(v) && (!ylog || v > 0);
    out[where ? where[i] : i] = ok ? v : null;
  }
  return out;
}

/**
 * @typedef {{runId: string, line: number, min: number|null, max: number|null,
 *   smoothed: number|null}} RunColumns  the data columns of one run (0 is x)
 */

/**
 * uPlot's data for the runs: ``[x, ...columns]`` and which columns belong to each run. A run
 * gets its line, its band's max and min when bucketed, and its smoothed curve when it has one.
 * @param {RunSeries[]} runs
 * @param {boolean} ylog
 * @returns {{data: (number|null)[][], columns: RunColumns[], points: number}}
 */
export function plotData(runs, ylog) {
  const { x, where } = joinX(runs.map((r) => r.x));
  /** @type {(number|null)[][]} */
  const data = [x];
  let points = 0;
  const columns = runs.map((run, i) => {
    const add = (/** @type {ArrayLike<number|null>} */ values) => {
      data.push(placeOn(values, where[i], x.length, ylog));
      return data.length - 1;
    };
    points += run.y.length;
    const line = add(run.y);
    const banded = run.min && run.max;
    const max = banded ? add(/** @type {any} */ (run.max)) : null;
    const min = banded ? add(/** @type {any} */ (run.min)) : null;
    const smoothed = run.smoothed ? add(run.smoothed) : null;
    return { runId: run.runId, line, min, max, smoothed };
  });
  return { data, columns, points };
}

/**
 * What a chart was given, as ``window.__rundialCharts`` shows it (UI contract).
 * @param {RunSeries[]} series
 * @param {number|null} size steps per bucket (null: raw)
 */
export function givenRecord(series, size) {
  return { series: series.map(({ runId, mode, steps, x, y, min, max, smoothed }) =>
    ({ runId, mode, steps, x, y, ...(min ? { min, max } : {}),
      ...(smoothed ? { smoothed } : {}) })), bucketSize: size };
}

/**
 * The last finite value of each run (the chart's text alternative).
 * @param {RunSeries[]} runs
 * @returns {{runId: string, step: number|null, value: number|null}[]}
 */
export function lastValues(runs) {
  return runs.map((run) => {
    for (let i = run.y.length - 1; i >= 0; i--) {
      const v = run.y[i];
      if (v !== null && Number.isFinite(v)) return { runId: run.runId, step: run.steps[i], value: v };
    }
    return { runId: run.runId, step: null, value: null };
  });
}

/**
 * Why a chart has nothing to draw, or null when it has.
 * @param {Record<string, any>[]} entries
 * @returns {string|null}
 */
export function emptyReason(entries) {
  if (!entries.length) return "No runs selected.";
  const found = entries.filter((e) => e.mode !== "empty");
  if (!found.length) {
    return entries.every((e) => e.reason === "unknown run") ? "Unknown run: no such run in this project."
      : "Unknown key: none of these runs logged it.";
  }
  if (found.every((e) => !e.pointsInRange)) return "No points yet (in this range).";
  const values = found.flatMap((e) => (e.mode === "buckets" ? e.last : e.values) ?? []);
  const anyMin = found.some((e) => (e.min ?? []).some((/** @type {any} */ v) => v !== null));
  if (!anyMin && values.every((/** @type {any} */ v) => v === null)) return "Every value is NaN.";
  return null;
}
