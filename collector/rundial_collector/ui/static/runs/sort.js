// Sorting and grouping of run rows (pure, no DOM; tested with node --test).
//
// Values compare by type first (numbers, then strings, then booleans, then lists/objects as
// JSON), then by value (strings naturally: "run-9" before "run-10"); null/absent always sorts last, whichever the direction, so a column
// missing in most runs never buries the runs that have it. Ties keep the newest run first.
import { fieldValue } from "./fields.js";

/** @typedef {import("./fields.js").TableRun} TableRun */

/** Strings sort naturally ("run-9" before "run-10"), case-insensitively first. */
const COLLATOR = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** @param {any} value @returns {number} */
function typeRank(value) {
  switch (typeof value) {
    case "number": return Number.isNaN(value) ? 4 : 0;
    case "string": return 1;
    case "boolean": return 2;
    default: return 3;
  }
}

/**
 * Compare two non-null values: type rank, then value (strings with numeric collation).
 * @param {any} a
 * @param {any} b
 * @returns {number}
 */
export function compareValues(a, b) {
  const ra = typeRank(a), rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0 || ra === 2) return a < b ? -1 : a > b ? 1 : 0;
  if (ra === 1) return a === b ? 0 : COLLATOR.compare(a, b) || (a < b ? -1 : 1);
  if (ra === 4) return 0;
  const ja = JSON.stringify(a), jb = JSON.stringify(b);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

/**
 * ``"-duration"`` → {field: "duration", desc: true}; "" → null.
 * @param {string | null} text
 * @returns {{field: string, desc: boolean} | null}
 */
export function parseSort(text) {
  if (!text) return null;
  return text.startsWith("-") ? { field: text.slice(1), desc: true } : { field: text, desc: false };
}

/**
 * The runs ordered by ``field`` (a new array; the input is not changed). Nulls last.
 * @param {TableRun[]} runs in their default order (newest first)
 * @param {string} field canonical field
 * @param {boolean} desc
 * @param {number} nowMs
 * @returns {TableRun[]}
 */
export function sortRuns(runs, field, desc, nowMs) {
  const keyed = runs.map((run, index) => ({ run, index, value: fieldValue(run, field, nowMs) }));
  const sign = desc ? -1 : 1;
  keyed.sort((a, b) => {
    const an = a.value === null || a.value === undefined;
    const bn = b.value === null || b.value === undefined;
    if (an || bn) return an === bn ? a.index - b.index : an ? 1 : -1;
    return sign * compareValues(a.value, b.value) || a.index - b.index;
  });
  return keyed.map((k) => k.run);
}

/**
 * @typedef {{type: "group", value: any, label: string, count: number, collapsed: boolean}
 *   | {type: "run", run: TableRun}} DisplayRow
 */

/**
 * The display rows when grouping by ``field``: one group row per distinct value (ordered by
 * value, absent last) with its run count, followed by its runs in their current order unless
 * collapsed. Without a field every run is a row.
 * @param {TableRun[]} runs sorted
 * @param {string | null} field
 * @param {Set<string>} collapsed labels of collapsed groups
 * @param {number} nowMs
 * @returns {DisplayRow[]}
 */
export function groupRows(runs, field, collapsed, nowMs) {
  if (!field) return runs.map((run) => ({ type: "run", run }));
  /** @type {Map<string, {value: any, runs: TableRun[]}>} */
  const groups = new Map();
  for (const run of runs) {
    const value = fieldValue(run, field, nowMs);
    const label = value === null || value === undefined ? "(none)"
      : typeof value === "string" ? value : JSON.stringify(value);
    let group = groups.get(label);
    if (!group) groups.set(label, group = { value: value ?? null, runs: [] });
    group.runs.push(run);
  }
  const ordered = [...groups.entries()].sort(([, a], [, b]) => {
    if (a.value === null || b.value === null) return a.value === b.value ? 0 : a.value === null ? 1 : -1;
    return compareValues(a.value, b.value);
  });
  /** @type {DisplayRow[]} */
  const rows = [];
  for (const [label, group] of ordered) {
    const isCollapsed = collapsed.has(label);
    rows.push({ type: "group", value: group.value, label, count: group.runs.length,
      collapsed: isCollapsed });
    if (!isCollapsed) for (const run of group.runs) rows.push({ type: "run", run });
  }
  return rows;
}
