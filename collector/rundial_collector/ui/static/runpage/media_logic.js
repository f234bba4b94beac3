// Media tab logic: step look-up for the slider, table sorting and how a video or audio item is
// shown (pure; `node --test`).

/**
 * Index of the step nearest to ``step`` in an ascending list (a tie picks the lower step);
 * -1 for an empty list.
 * @param {number[]} steps ascending
 * @param {number} step
 * @returns {number}
 */
export function nearestStepIndex(steps, step) {
  if (!steps.length) return -1;
  let lo = 0;
  let hi = steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && step - steps[lo - 1] <= steps[lo] - step) return lo - 1;
  return lo;
}

/**
 * The indexes to prefetch around ``index``: its neighbours within ``radius``, nearest first.
 * @param {number} index
 * @param {number} length
 * @param {number} [radius]
 * @returns {number[]}
 */
export function neighbourIndexes(index, length, radius = 1) {
  const out = [];
  for (let d = 1; d <= radius; d++) {
    if (index + d < length) out.push(index + d);
    if (index - d >= 0) out.push(index - d);
  }
  return out;
}

/**
 * Rank of a cell's kind: numbers, then booleans, then text, then anything else; empty cells
 * (null, undefined, NaN) rank last in both directions.
 * @param {unknown} v
 * @returns {number}
 */
function kind(v) {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return 4;
  if (typeof v === "number") return 0;
  if (typeof v === "boolean") return 1;
  if (typeof v === "string") return 2;
  return 3;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * Compare two cells of the same kind.
 * @param {any} a
 * @param {any} b
 * @returns {number}
 */
function compareSameKind(a, b) {
  if (typeof a === "number" || typeof a === "boolean") return Number(a) - Number(b);
  if (typeof a === "string") return collator.compare(a, b);
  return collator.compare(JSON.stringify(a) ?? "", JSON.stringify(b) ?? "");
}

/**
 * Row indexes of ``rows`` sorted by column ``column`` (stable; empty cells always last).
 * @param {unknown[][]} rows
 * @param {number} column
 * @param {"ascending" | "descending"} direction
 * @returns {number[]}
 */
export function sortedRowIndexes(rows, column, direction) {
  const sign = direction === "descending" ? -1 : 1;
  const idx = rows.map((_, i) => i);
  return idx.sort((i, j) => {
    const a = rows[i][column];
    const b = rows[j][column];
    const ka = kind(a);
    const kb = kind(b);
    if (ka === 4 || kb === 4) return ka === kb ? i - j : ka === 4 ? 1 : -1;
    const c = ka !== kb ? ka - kb : compareSameKind(a, b);
    return c ? sign * c : i - j;
  });
}

/**
 * True when every non-empty cell of ``column`` is a number (the grid right-aligns it).
 * @param {unknown[][]} rows
 * @param {number} column
 * @returns {boolean}
 */
export function isNumericColumn(rows, column) {
  let seen = false;
  for (const row of rows) {
    const k = kind(row[column]);
    if (k === 4) continue;
    if (k !== 0) return false;
    seen = true;
  }
  return seen;
}

/**
 * A logged table (``{"columns": [...], "rows": [[...] | {...}]}``, docs/artifacts.md) as
 * columns and array rows; throws an Error with a clear message for anything else.
 * @param {unknown} json
 * @returns {{columns: string[], rows: unknown[][]}}
 */
export function normaliseTable(json) {
  const t = /** @type {any} */ (json);
  if (!t || !Array.isArray(t.columns) || !Array.isArray(t.rows)) {
    throw new Error("this table file is not {columns, rows} JSON");
  }
  const columns = t.columns.map(String);
  const rows = t.rows.map((/** @type {any} */ r) => Array.isArray(r) ? r
    : columns.map((/** @type {string} */ c) => (r && typeof r === "object" ? r[c] : null)));
  return { columns, rows };
}

/**
 * The element that shows a video or audio item: ``audio`` for audio, ``image`` for a GIF
 * "video" (an animated image, which a ``<video>`` cannot play), else ``video``.
 * @param {"video" | "audio"} mediaType
 * @param {string} fileName
 * @returns {"video" | "audio" | "image"}
 */
export function playerKind(mediaType, fileName) {
  if (mediaType === "audio") return "audio";
  return /\.gif$/i.test(fileName) ? "image" : "video";
}
