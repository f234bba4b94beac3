// Sorting and grouping of run rows (pure, no DOM; tested with node --test).
//
// Values compare by type first (numbers, then strings, then booleans, then lists/objects as
// JSON), then by value (strings naturally: "run-9" before "run-10"); null/absent always sorts last, whichever the direction, so a column
// missing in most runs never buries the runs that have it. Ties keep the newest run first.
import { fieldValue } from "./fields.js";

/** @typedef {import("./fields.js").TableRun} TableRun */

/**
 * A value's sort key: strings become their natural key (lower case, digit runs zero-padded,
 * so "run-9" < "run-10" with a plain comparison), lists and objects their JSON text in a box.
 * Computed once per run and sort, so comparisons stay cheap for 10,000 runs.
 * @param {any} value
 * @returns {any}
 */
export function sortKey(value) {
  if (typeof value === "string") {
    return value.toLowerCase().replace(/\d+/g, (digits) => digits.padStart(20, "0"));
  }
  if (value !== null && typeof value === "object") return { json: JSON.stringify(value) };
  return value;
}

/** @param {any} key a sort key @returns {number} */
function typeRank(key) {
  switch (typeof key) {
    case "number": return Number.isNaN(key) ? 4 : 0;
    case "string": return 1;
    case "boolean": return 2;
    default: return 3;
  }
}

/**
 * Compare two non-null sort keys (:func:`sortKey`): type rank, then value.
 * @param {any} a
 * @param {any} b
 * @returns {number}
 */
function compareKeys(a, b) {
  const ra = typeRank(a), rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 4) return 0;
  const x = ra === 3 ? a.json : a, y = ra === 3 ? b.json : b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Compare two non-null values: type rank, then value (strings naturally, then exactly).
 * @param {any} a
 * @param {any} b
 * @returns {number}
 */
export function compareValues(a, b) {
  const order = compareKeys(sortKey(a), sortKey(b));
  if (order !== 0 || typeof a !== "string" || typeof b !== "string") return order;
  return a < b ? -1 : a > b ? 1 : 0;
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
  const keyed = runs.map((run, index) => {
    const value = fieldValue(run, field, nowMs);
    return { run, index, key: value === null || value === undefined ? null : sortKey(value) };
  });
  const sign = desc ? -1 : 1;
  keyed.sort((a, b) => {
    if (a.key === null || b.key === null) {
      return a.key === b.key ? a.index - b.index : a.key === null ? 1 : -1;
    }
    return sign * compareKeys(a.key, b.key) || a.index - b.index;
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
