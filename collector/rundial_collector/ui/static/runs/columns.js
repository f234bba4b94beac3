// Column definitions and cell text of the runs table (pure, no DOM; tested with node --test).
import { formatDuration, relativeTime } from "../format.js";
import { configKeyOf, fieldValue } from "./fields.js";
export { stateClass } from "../core/badge.js";

/** @typedef {import("./fields.js").TableRun} TableRun */
/** @typedef {{id: string, label: string, numeric: boolean}} Column */

/** The fixed columns, in order (config and summary columns follow). */
export const BASE_COLUMNS = /** @type {Column[]} */ ([
  { id: "name", label: "Name", numeric: false },
  { id: "state", label: "State", numeric: false },
  { id: "start", label: "Start", numeric: false },
  { id: "duration", label: "Duration", numeric: true },
  { id: "tags", label: "Tags", numeric: false },
  { id: "group", label: "Group", numeric: false },
  { id: "kind", label: "Kind", numeric: false },
  { id: "host", label: "Host", numeric: false },
]);

/** Fixed columns shown by default. */
export const DEFAULT_BASE = ["name", "state", "start", "duration", "tags", "group"];

/**
 * The column of a config key: ``summary.x`` keys are summary columns, others ``config.x``.
 * @param {string} key a config key
 * @returns {Column}
 */
export function configColumn(key) {
  const id = key.startsWith("summary.") ? key : `config.${key}`;
  return { id, label: key, numeric: false }; // cells of numbers are right-aligned one by one
}

/**
 * A column by id (a fixed one, or a config/summary column).
 * @param {string} id
 * @returns {Column | null}
 */
export function columnById(id) {
  const base = BASE_COLUMNS.find((column) => column.id === id);
  if (base) return base;
  const key = configKeyOf(id);
  return key === null ? null : configColumn(key);
}

/**
 * A cell value as text: numbers with at most 4 significant digits beyond integers, lists and
 * objects as JSON, null as "".
 * @param {any} value
 * @returns {string}
 */
export function formatValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
    const abs = Math.abs(value);
    const rounded = Number(value.toPrecision(4));
    return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? rounded.toExponential() : String(rounded);
  }
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * The text and hover title of a cell.
 * @param {TableRun} run
 * @param {string} id column id
 * @param {number} nowMs
 * @returns {{text: string, title: string}}
 */
export function cellText(run, id, nowMs) {
  switch (id) {
    case "name": return { text: run.name ?? run.runId, title: run.runId };
    case "state": return { text: run.status, title: run.reason ?? run.status };
    case "start": return { text: relativeTime(run.startedAtMs, nowMs),
      title: new Date(run.startedAtMs).toISOString() };
    case "duration": {
      const text = formatDuration(fieldValue(run, "duration", nowMs));
      return { text, title: run.finishedAtMs === null ? `${text} so far` : text };
    }
    case "tags": return { text: run.tags.join(", "), title: run.tags.join(", ") };
    default: {
      const text = formatValue(fieldValue(run, id, nowMs));
      return { text, title: text };
    }
  }
}

const CHAR_PX = 7.5; // average glyph width of the 14 px UI font
const PAD_PX = 28; // cell padding, sort arrow and badge border

/**
 * Column widths in px from the header and a sample of runs (the table uses fixed layout, so
 * columns keep their width while the virtual window scrolls): the longest text, clamped.
 * @param {Column[]} columns
 * @param {TableRun[]} sample
 * @param {number} nowMs
 * @returns {number[]}
 */
export function columnWidths(columns, sample, nowMs) {
  return columns.map((column) => {
    let chars = column.label.length + 2;
    for (const run of sample) chars = Math.max(chars, cellText(run, column.id, nowMs).text.length);
    if (column.id === "name") chars += 2; // the colour swatch
    return Math.round(Math.min(256, Math.max(48, chars * CHAR_PX + PAD_PX)));
  });
}
