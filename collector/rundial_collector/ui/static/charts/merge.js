// Merging live tail points into a chart entry of POST /api/v1/query/chart (docs/protocol.md
// §4.8), exactly where exactness is possible and flagged ``stale`` where it is not
// (docs/ui.md, "Live updates"). Pure: no DOM, no I/O; node-tested against server vectors.

/**
 * @typedef {{steps: number[], timestampsMs: number[], values: (number|null)[]}} TailPoints
 *   Points of one (run, key) from the live stream, in commit order (a repeated step supersedes).
 * @typedef {Record<string, any>} ChartEntry  one entry of POST /api/v1/query/chart's reply
 * @typedef {{first: number, span: number, cells: number}} Grid
 *   The bucket cell rule: step s lies in cell ⌊(s − first) · cells / span⌋ (the server's rule
 *   for the range [first, first + span − 1] cut into ``cells`` cells); cells past the range
 *   continue with the same width.
 */

/** Bucket arrays of a ``buckets`` entry, in order. */
const BUCKET_FIELDS = ["stepStart", "stepEnd", "min", "max", "last", "lastTimestampMs", "count"];

/**
 * The cell of ``step`` under ``grid`` (exact for every safe-integer step).
 * @param {number} step
 * @param {Grid} grid
 * @returns {number}
 */
export function cellOf(step, grid) {
  const offset = step - grid.first;
  if (offset * grid.cells <= Number.MAX_SAFE_INTEGER) {
    return Math.floor((offset * grid.cells) / grid.span);
  }
  return Number((BigInt(offset) * BigInt(grid.cells)) / BigInt(grid.span));
}

/** @param {number|null} a @param {number|null} b */
const sameValue = (a, b) => a === b || (a === null && b === null);

/** @param {number|null} a @param {number|null} b NaN-ignoring minimum (null = NaN) */
const fmin = (a, b) => (a === null ? b : b === null ? a : Math.min(a, b));

/** @param {number|null} a @param {number|null} b NaN-ignoring maximum (null = NaN) */
const fmax = (a, b) => (a === null ? b : b === null ? a : Math.max(a, b));

/** @param {number|null|undefined} v JSON null and NaN are both "not a number" (null) */
const clean = (v) => (v === null || v === undefined || Number.isNaN(v) ? null : v);

/**
 * The points of ``points`` the chart read ``entry`` does not already hold, for the first
 * merge after a read made while the stream was already live (docs/ui.md, "Live updates"): the
 * points after the last one identical to the entry's newest point (its last step, value and
 * wall time); all of them when there is none.
 * @param {ChartEntry} entry
 * @param {TailPoints} points
 * @returns {TailPoints}
 */
export function dropCovered(entry, points) {
  const newest = newestPoint(entry);
  if (newest === null) return points;
  for (let i = points.steps.length - 1; i >= 0; i -= 1) {
    if (points.steps[i] === newest.step && points.timestampsMs[i] === newest.timestampMs &&
        sameValue(clean(points.values[i]), newest.value)) {
      return {
        steps: points.steps.slice(i + 1),
        timestampsMs: points.timestampsMs.slice(i + 1),
        values: points.values.slice(i + 1),
      };
    }
  }
  return points;
}

/** @param {ChartEntry} entry */
function newestPoint(entry) {
  if (entry.mode === "raw" && entry.steps.length > 0) {
    const i = entry.steps.length - 1;
    return { step: entry.steps[i], timestampMs: entry.timestampsMs[i], value: clean(entry.values[i]) };
  }
  if (entry.mode === "buckets" && entry.stepEnd.length > 0) {
    const i = entry.stepEnd.length - 1;
    return { step: entry.stepEnd[i], timestampMs: entry.lastTimestampMs[i], value: clean(entry.last[i]) };
  }
  return null;
}

/**
 * ``entry`` with ``points`` merged in (a new object; ``entry`` is not changed).
 *
 * A raw (or empty) entry stays raw while its resolved points fit ``buckets``, else becomes
 * buckets of the server's cell rule over its whole range. A bucketed entry keeps its grid
 * (``entry.grid``; from ``firstStep``/``lastStep`` and ``buckets`` on the first merge), grows
 * new cells past its range, and pairs cells up (the same rule over a doubled span) once it
 * would pass 2 × ``buckets`` cells. A repeated step supersedes: counts never count a re-sent
 * point twice. Where exact re-aggregation needs raw points it does not have (superseding a
 * step whose old value is unknown or may be the bucket's min/max, a step before the grid)
 * the point is left out and the result carries ``stale: true``: refetch that chart.
 * ``buckets`` must be the count the entry was read with. For an unzoomed entry only: a
 * zoomed chart drops tail points outside its range before calling this.
 * @param {ChartEntry} entry
 * @param {TailPoints} points
 * @param {number} buckets the chart's bucket budget (its width in pixels)
 * @returns {ChartEntry}
 */
export function mergeTail(entry, points, buckets) {
  if (points.steps.length === 0) return entry;
  if (entry.mode === "buckets") return mergeBuckets(entry, points, buckets);
  const merged = mergeRaw(entry, points);
  if (merged.steps.length <= buckets) return merged;
  const grid = { first: merged.firstStep, span: merged.lastStep - merged.firstStep + 1, cells: buckets };
  return toBuckets(merged, grid);
}

/**
 * @param {ChartEntry} entry raw or empty
 * @param {TailPoints} points
 * @returns {ChartEntry}
 */
function mergeRaw(entry, points) {
  /** @type {Map<number, [number, number|null]>} */
  const byStep = new Map();
  const raw = entry.mode === "raw";
  const steps = raw ? entry.steps : [];
  for (let i = 0; i < steps.length; i += 1) {
    byStep.set(steps[i], [entry.timestampsMs[i], clean(entry.values[i])]);
  }
  let duplicates = entry.duplicatesResolved ?? 0;
  for (let i = 0; i < points.steps.length; i += 1) {
    if (byStep.has(points.steps[i])) duplicates += 1;
    byStep.set(points.steps[i], [points.timestampsMs[i], clean(points.values[i])]);
  }
  const order = [...byStep.keys()].sort((a, b) => a - b);
  const { reason: _reason, ...rest } = entry;
  return {
    ...rest,
    mode: "raw",
    pointsLogged: (entry.pointsLogged ?? 0) + points.steps.length,
    pointsInRange: order.length,
    duplicatesResolved: duplicates,
    firstStep: order[0],
    lastStep: order[order.length - 1],
    steps: order,
    values: order.map((s) => /** @type {[number, number|null]} */ (byStep.get(s))[1]),
    timestampsMs: order.map((s) => /** @type {[number, number|null]} */ (byStep.get(s))[0]),
  };
}

/**
 * A raw entry as buckets of ``grid`` (exact: every point is known).
 * @param {ChartEntry} entry
 * @param {Grid} grid
 * @returns {ChartEntry}
 */
function toBuckets(entry, grid) {
  const { steps: _s, values: _v, timestampsMs: _t, ...rest } = entry;
  /** @type {Record<string, any[]>} */
  const b = Object.fromEntries(BUCKET_FIELDS.map((f) => [f, []]));
  let cell = -1;
  for (let i = 0; i < entry.steps.length; i += 1) {
    const step = entry.steps[i];
    const value = clean(entry.values[i]);
    const c = cellOf(step, grid);
    if (c !== cell) {
      cell = c;
      for (const f of BUCKET_FIELDS) b[f].push(null);
      b.stepStart[b.stepStart.length - 1] = step;
      b.count[b.count.length - 1] = 0;
    }
    addToBucket(b, b.stepEnd.length - 1, step, entry.timestampsMs[i], value);
  }
  return { ...rest, mode: "buckets", ...b, grid };
}

/**
 * Fold a point that bucket ``k`` does not hold yet into it.
 * @param {Record<string, any[]>} b @param {number} k @param {number} step
 * @param {number} timestampMs @param {number|null} value
 */
function addToBucket(b, k, step, timestampMs, value) {
  const empty = b.count[k] === 0;
  b.min[k] = empty ? value : fmin(b.min[k], value);
  b.max[k] = empty ? value : fmax(b.max[k], value);
  b.count[k] += 1;
  if (empty || step < b.stepStart[k]) b.stepStart[k] = step;
  if (empty || step > b.stepEnd[k]) {
    b.stepEnd[k] = step;
    b.last[k] = value;
    b.lastTimestampMs[k] = timestampMs;
  }
}

/**
 * @param {ChartEntry} entry buckets
 * @param {TailPoints} points
 * @param {number} buckets
 * @returns {ChartEntry}
 */
function mergeBuckets(entry, points, buckets) {
  /** @type {Grid} */
  let grid = entry.grid ?? { first: entry.firstStep, span: entry.lastStep - entry.firstStep + 1, cells: buckets };
  /** @type {Record<string, any[]>} */
  let b = Object.fromEntries(BUCKET_FIELDS.map((f) => [f, entry[f].map(clean)]));
  const out = { ...entry, stale: entry.stale === true };
  for (let i = 0; i < points.steps.length; i += 1) {
    const step = points.steps[i];
    const value = clean(points.values[i]);
    const timestampMs = points.timestampsMs[i];
    out.pointsLogged += 1;
    if (step < grid.first) {
      out.stale = true;
      continue;
    }
    while (cellOf(step, grid) >= 2 * grid.cells) {
      grid = { ...grid, span: grid.span * 2 };
      b = regroup(b, grid);
    }
    const k = upperBound(b.stepStart, step) - 1; // the last bucket starting at or before step
    if (k >= 0 && step <= b.stepEnd[k]) {
      if (supersede(b, k, step, timestampMs, value)) out.duplicatesResolved += 1;
      else out.stale = true;
      continue;
    }
    out.pointsInRange += 1;
    const cell = cellOf(step, grid);
    const own = [k, k + 1].find((j) => j >= 0 && j < b.stepEnd.length && cellOf(b.stepEnd[j], grid) === cell);
    if (own !== undefined) {
      addToBucket(b, own, step, timestampMs, value);
    } else {
      for (const f of BUCKET_FIELDS) b[f].splice(k + 1, 0, null);
      b.count[k + 1] = 0;
      addToBucket(b, k + 1, step, timestampMs, value);
    }
  }
  const lastStep = b.stepEnd.length ? Math.max(entry.lastStep, b.stepEnd[b.stepEnd.length - 1]) : entry.lastStep;
  if (!out.stale) delete out.stale;
  return { ...out, ...b, lastStep, grid };
}

/**
 * Supersede ``step`` inside bucket ``k``; false when that cannot be done exactly.
 * @param {Record<string, any[]>} b @param {number} k @param {number} step
 * @param {number} timestampMs @param {number|null} value
 * @returns {boolean}
 */
function supersede(b, k, step, timestampMs, value) {
  if (b.count[k] === 1) { // the bucket is that one point
    b.min[k] = value; b.max[k] = value; b.last[k] = value; b.lastTimestampMs[k] = timestampMs;
    return true;
  }
  if (step !== b.stepEnd[k]) return false; // the old value is unknown
  const old = b.last[k];
  const extreme = old !== null && (old === b.min[k] || old === b.max[k]);
  if (extreme && !sameValue(old, value)) return false; // the old value may be the only min/max
  b.min[k] = fmin(b.min[k], value);
  b.max[k] = fmax(b.max[k], value);
  b.last[k] = value;
  b.lastTimestampMs[k] = timestampMs;
  return true;
}

/**
 * Buckets merged by their cell under ``grid`` (adjacent buckets of one cell become one; exact).
 * @param {Record<string, any[]>} b
 * @param {Grid} grid
 * @returns {Record<string, any[]>}
 */
function regroup(b, grid) {
  /** @type {Record<string, any[]>} */
  const out = Object.fromEntries(BUCKET_FIELDS.map((f) => [f, []]));
  let cell = -1;
  for (let k = 0; k < b.stepEnd.length; k += 1) {
    const c = cellOf(b.stepEnd[k], grid);
    if (c !== cell) {
      cell = c;
      for (const f of BUCKET_FIELDS) out[f].push(b[f][k]);
      continue;
    }
    const j = out.stepEnd.length - 1;
    out.min[j] = fmin(out.min[j], b.min[k]);
    out.max[j] = fmax(out.max[j], b.max[k]);
    out.count[j] += b.count[k];
    out.stepEnd[j] = b.stepEnd[k];
    out.last[j] = b.last[k];
    out.lastTimestampMs[j] = b.lastTimestampMs[k];
  }
  return out;
}

/** @param {number[]} sorted @param {number} x @returns {number} first index with sorted[i] > x */
function upperBound(sorted, x) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
