// Parallel coordinates, the pure part: which config keys get an axis, how each axis scales its
// values (numbers linear or log, strings and booleans as categories, missing values in a slot
// under the axis), where every run's line goes, and which runs a brush keeps. No DOM here: the
// canvas component (parcoords.js) draws what `layoutPlot` returns; tests/js/parcoords.test.mjs.

/**
 * @typedef {{kind: "number", min: number, max: number, log: boolean}
 *   | {kind: "category", categories: string[]}
 *   | {kind: "empty"}} Scale
 * @typedef {{key: string, label: string}} AxisSpec
 * @typedef {{runId: string, name: string, color: string, values: Record<string, any>}} Row
 * @typedef {{x: number, y: number, missing: boolean}} LinePoint
 * @typedef {{key: string, label: string, x: number, scale: Scale,
 *   ticks: {y: number, text: string}[], missingY: number}} AxisLayout
 * @typedef {{runId: string, name: string, color: string, points: LinePoint[]}} Line
 * @typedef {{width: number, height: number, top: number, bottom: number, left: number,
 *   right: number}} Box
 */

/** A log axis is used when every value is positive and they span this ratio or more. */
export const LOG_RATIO = 100;
/** The missing-value slot sits this many pixels under the axis's bottom. */
export const MISSING_GAP_PX = 18;

/**
 * Whether ``value`` counts as missing (absent, null, NaN or infinite).
 * @param {any} value
 * @returns {boolean}
 */
export function isMissing(value) {
  return value === undefined || value === null || (typeof value === "number" && !isFinite(value));
}

/**
 * The scale of an axis holding ``values``: numeric when every present value is a finite
 * number (log when all are positive and span ≥ LOG_RATIO), else categories (each value's text,
 * sorted with numbers in numeric order), or "empty" when every value is missing.
 * @param {any[]} values
 * @returns {Scale}
 */
export function axisScale(values) {
  const present = values.filter((v) => !isMissing(v));
  if (!present.length) return { kind: "empty" };
  if (present.every((v) => typeof v === "number")) {
    const min = Math.min(...present);
    const max = Math.max(...present);
    return { kind: "number", min, max, log: min > 0 && max / min >= LOG_RATIO };
  }
  const categories = [...new Set(present.map(categoryText))];
  categories.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return { kind: "category", categories };
}

/**
 * The text a value has on a category axis (lists as JSON).
 * @param {any} value
 * @returns {string}
 */
export function categoryText(value) {
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * Where ``value`` sits on ``scale``, from 0 (bottom) to 1 (top); null when missing or not on
 * the scale. A numeric axis whose values are all equal puts them in the middle; a single
 * category too.
 * @param {Scale} scale
 * @param {any} value
 * @returns {number | null}
 */
export function position(scale, value) {
  if (isMissing(value) || scale.kind === "empty") return null;
  if (scale.kind === "category") {
    const index = scale.categories.indexOf(categoryText(value));
    if (index < 0) return null;
    return scale.categories.length === 1 ? 0.5 : index / (scale.categories.length - 1);
  }
  if (typeof value !== "number") return null;
  if (scale.max === scale.min) return 0.5;
  if (scale.log) {
    return (Math.log10(value) - Math.log10(scale.min)) /
      (Math.log10(scale.max) - Math.log10(scale.min));
  }
  return (value - scale.min) / (scale.max - scale.min);
}

/**
 * A short number: SI suffix for large values, 3 significant digits, exponent for tiny ones.
 * @param {number} value
 * @returns {string}
 */
export function shortNumber(value) {
  const abs = Math.abs(value);
  if (abs === 0) return "0";
  if (abs >= 1e9) return `${+(value / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`;
  if (abs < 1e-3) return value.toExponential(1);
  return String(+value.toPrecision(3));
}

/** Ticks closer than this (in 0..1 axis units) to one already kept are left out. */
export const TICK_GAP = 0.08;

/**
 * Tick values of a scale with their positions (0..1): min, middle and max of a linear axis;
 * min, each power of ten in between (when at most 6) and max of a log axis, less those closer
 * than TICK_GAP to a tick kept before them (the max always stays); every category.
 * @param {Scale} scale
 * @returns {{t: number, text: string}[]}
 */
export function ticks(scale) {
  if (scale.kind === "empty") return [];
  if (scale.kind === "category") {
    return scale.categories.map((c) => ({ t: position(scale, c) ?? 0, text: c }));
  }
  if (scale.min === scale.max) return [{ t: 0.5, text: shortNumber(scale.min) }];
  /** @type {number[]} */
  let values = [scale.min, (scale.min + scale.max) / 2, scale.max];
  if (scale.log) {
    const powers = [];
    for (let e = Math.ceil(Math.log10(scale.min)); e <= Math.floor(Math.log10(scale.max)); e++) {
      powers.push(10 ** e);
    }
    values = [scale.min, ...(powers.length <= 6 ? powers : []), scale.max];
  }
  const out = [];
  for (const [i, v] of values.entries()) {
    const t = position(scale, v) ?? 0;
    const last = i === values.length - 1;
    if (last) while (out.length && t - out[out.length - 1].t < TICK_GAP) out.pop();
    if (!out.length || t - out[out.length - 1].t >= TICK_GAP) out.push({ t, text: shortNumber(v) });
  }
  return out;
}

/**
 * The config keys worth an axis: keys whose value differs between the runs (all keys when
 * there is one run), ``summary.*`` and ``_*`` keys left out, numbers first, then by name;
 * at most ``limit``.
 * @param {Record<string, any>[]} configs
 * @param {number} [limit]
 * @returns {string[]}
 */
export function chooseKeys(configs, limit = 6) {
  const keys = [...new Set(configs.flatMap((c) => Object.keys(c)))]
    .filter((k) => !k.startsWith("summary.") && !k.startsWith("_"));
  const varies = (/** @type {string} */ k) =>
    new Set(configs.map((c) => categoryText(c[k] ?? null))).size > 1;
  const chosen = configs.length > 1 ? keys.filter(varies) : keys;
  const numeric = (/** @type {string} */ k) =>
    configs.every((c) => isMissing(c[k]) || typeof c[k] === "number") ? 0 : 1;
  chosen.sort((a, b) => numeric(a) - numeric(b) || a.localeCompare(b));
  return chosen.slice(0, limit);
}

/**
 * Lay the axes and lines out in ``box`` (pixels; y grows downwards).
 * @param {Row[]} rows
 * @param {AxisSpec[]} axes in left-to-right order
 * @param {Box} box
 * @returns {{axes: AxisLayout[], lines: Line[]}}
 */
export function layoutPlot(rows, axes, box) {
  const span = box.width - box.left - box.right;
  const bottom = box.height - box.bottom - MISSING_GAP_PX;
  const plotHeight = bottom - box.top;
  const yOf = (/** @type {number} */ t) => bottom - t * plotHeight;
  const laid = axes.map((axis, i) => {
    const scale = axisScale(rows.map((r) => r.values[axis.key]));
    const x = box.left + (axes.length === 1 ? span / 2 : (i * span) / (axes.length - 1));
    return { key: axis.key, label: axis.label, x, scale,
      ticks: ticks(scale).map((tick) => ({ y: yOf(tick.t), text: tick.text })),
      missingY: bottom + MISSING_GAP_PX };
  });
  const lines = rows.map((row) => ({
    runId: row.runId, name: row.name, color: row.color,
    points: laid.map((axis) => {
      const t = position(axis.scale, row.values[axis.key]);
      return { x: axis.x, y: t === null ? axis.missingY : yOf(t), missing: t === null };
    }),
  }));
  return { axes: laid, lines };
}

/**
 * The run ids whose lines pass every brush: a brush is a pixel range [y0, y1] (either order)
 * on one axis (by index); a missing value never passes a brush.
 * @param {Line[]} lines
 * @param {Map<number, [number, number]>} brushes
 * @returns {Set<string>}
 */
export function brushed(lines, brushes) {
  const kept = new Set();
  for (const line of lines) {
    let ok = true;
    for (const [axis, [a, b]] of brushes) {
      const point = line.points[axis];
      if (!point || point.missing || point.y < Math.min(a, b) || point.y > Math.max(a, b)) {
        ok = false;
        break;
      }
    }
    if (ok) kept.add(line.runId);
  }
  return kept;
}

/**
 * The line nearest to (x, y) within ``maxPx`` pixels (distance to its segments), or null.
 * @param {Line[]} lines
 * @param {number} x
 * @param {number} y
 * @param {number} [maxPx]
 * @returns {string | null}
 */
export function nearestLine(lines, x, y, maxPx = 6) {
  let best = null;
  let bestDistance = maxPx;
  for (const line of lines) {
    for (let i = 1; i < line.points.length; i++) {
      const d = segmentDistance(line.points[i - 1], line.points[i], x, y);
      if (d <= bestDistance) {
        bestDistance = d;
        best = line.runId;
      }
    }
    if (line.points.length === 1) {
      const d = Math.hypot(line.points[0].x - x, line.points[0].y - y);
      if (d <= bestDistance) [bestDistance, best] = [d, line.runId];
    }
  }
  return best;
}

/**
 * Distance from (x, y) to the segment a–b.
 * @param {{x: number, y: number}} a
 * @param {{x: number, y: number}} b
 * @param {number} x
 * @param {number} y
 * @returns {number}
 */
function segmentDistance(a, b, x, y) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length2 = dx * dx + dy * dy;
  const t = length2 ? Math.max(0, Math.min(1, ((x - a.x) * dx + (y - a.y) * dy) / length2)) : 0;
  return Math.hypot(a.x + t * dx - x, a.y + t * dy - y);
}
