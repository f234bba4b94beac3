// DOM building of the runs table: the header (sortable cells, the select-all box), the
// rows of the virtual window (run rows and group rows) and putting them into the body while
// keeping the rows that did not change. No state lives here.
import { runPath } from "../core/routes.js";
import { runColor } from "../core/colors.js";
import { cellText } from "./columns.js";
import { stateBadge } from "../core/badge.js";
import { fieldValue } from "./fields.js";

/**
 * @typedef {import("./columns.js").Column} Column
 * @typedef {import("./sort.js").DisplayRow} DisplayRow
 * @typedef {{ws: string, project: string, columns: Column[], selected: Set<string>,
 *   colors: Map<string, string>,
 *   cursor: number, nowMs: number, sort: {field: string, desc: boolean} | null}} RowContext
 */

/**
 * The header row: select-all box, one sortable cell per column, the actions column.
 * @param {Column[]} columns
 * @param {{field: string, desc: boolean} | null} sort
 * @param {"all" | "some" | "none"} selectedVisible
 * @returns {HTMLTableRowElement}
 */
export function headerRow(columns, sort, selectedVisible) {
  const tr = document.createElement("tr");
  const box = Object.assign(document.createElement("input"), {
    type: "checkbox", className: "select-all", checked: selectedVisible === "all",
    indeterminate: selectedVisible === "some" });
  box.setAttribute("aria-label", "select all visible runs");
  const first = Object.assign(document.createElement("th"), { className: "col-select" });
  first.append(box);
  tr.append(first);
  for (const column of columns) {
    const th = Object.assign(document.createElement("th"), { scope: "col",
      className: column.numeric ? "num" : "" });
    th.dataset.sort = column.id;
    const active = sort?.field === column.id;
    th.setAttribute("aria-sort", active ? (sort?.desc ? "descending" : "ascending") : "none");
    const button = Object.assign(document.createElement("button"), {
      type: "button", className: "sort", textContent: column.label,
      title: `sort by ${column.label}` });
    if (active) button.append(Object.assign(document.createElement("span"), {
      className: "arrow", textContent: sort?.desc ? " ▼" : " ▲" }));
    th.append(button);
    tr.append(th);
  }
  tr.append(Object.assign(document.createElement("th"), { className: "col-actions" }));
  return tr;
}

/**
 * One display row (a run or a group).
 * @param {DisplayRow} row
 * @param {number} index its display index
 * @param {RowContext} ctx
 * @returns {HTMLTableRowElement}
 */
export function displayRow(row, index, ctx) {
  const tr = document.createElement("tr");
  tr.dataset.index = String(index);
  if (index === ctx.cursor) tr.classList.add("cursor");
  if (row.type === "group") return groupRow(tr, row, ctx.columns.length + 2);
  const { run } = row;
  const selected = ctx.selected.has(run.runId);
  tr.dataset.runId = run.runId;
  tr.setAttribute("aria-selected", String(selected));
  const box = Object.assign(document.createElement("input"), {
    type: "checkbox", className: "select", checked: selected, tabIndex: -1 });
  box.setAttribute("aria-label", `select ${run.name ?? run.runId}`);
  const color = ctx.colors.get(run.runId) ?? runColor(run.runId);
  box.style.accentColor = color;
  const first = Object.assign(document.createElement("td"), { className: "col-select" });
  first.append(box);
  tr.append(first);
  for (const column of ctx.columns) tr.append(cell(run, column, ctx));
  const more = Object.assign(document.createElement("button"), {
    type: "button", className: "row-menu", textContent: "⋯", tabIndex: -1 });
  more.setAttribute("aria-label", `edit ${run.name ?? run.runId}`);
  const last = Object.assign(document.createElement("td"), { className: "col-actions" });
  last.append(more);
  tr.append(last);
  return tr;
}

/**
 * @param {import("./fields.js").TableRun} run
 * @param {Column} column
 * @param {RowContext} ctx
 * @returns {HTMLTableCellElement}
 */
function cell(run, column, ctx) {
  const td = document.createElement("td");
  const { text, title } = cellText(run, column.id, ctx.nowMs);
  td.title = title;
  if (column.id === "name") {
    const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
    swatch.style.backgroundColor = ctx.colors.get(run.runId) ?? runColor(run.runId);
    const link = Object.assign(document.createElement("a"), {
      href: runPath(ctx.ws, ctx.project, run.runId), textContent: text, tabIndex: -1 });
    td.append(swatch, link);
  } else if (column.id === "state") {
    const badge = stateBadge(run.status, run.reason ?? null);
    badge.textContent = text;
    td.append(badge);
  } else {
    td.textContent = text;
    if (column.numeric || typeof fieldValue(run, column.id, ctx.nowMs) === "number") {
      td.className = "num";
    }
  }
  return td;
}

/**
 * @param {HTMLTableRowElement} tr
 * @param {Extract<DisplayRow, {type: "group"}>} row
 * @param {number} span
 * @returns {HTMLTableRowElement}
 */
function groupRow(tr, row, span) {
  tr.className += " group-row";
  tr.dataset.group = row.label;
  const td = Object.assign(document.createElement("td"), { colSpan: span });
  const button = Object.assign(document.createElement("button"), {
    type: "button", className: "group-toggle", tabIndex: -1,
    textContent: `${row.collapsed ? "▶" : "▼"} ${row.label}` });
  button.setAttribute("aria-expanded", String(!row.collapsed));
  td.append(button, Object.assign(document.createElement("span"), {
    className: "muted count", textContent: ` ${row.count} run${row.count === 1 ? "" : "s"}` }));
  tr.append(td);
  return tr;
}

/**
 * The column group fixing each column's width (px) for the fixed table layout.
 * @param {number[]} widthsPx one per data column
 * @returns {HTMLTableColElement}
 */
export function colGroup(widthsPx) {
  const group = document.createElement("colgroup");
  const edge = () => Object.assign(document.createElement("col"), { className: "col-edge" });
  group.append(edge());
  for (const width of widthsPx) {
    const col = document.createElement("col");
    col.style.width = `${width}px`;
    group.append(col);
  }
  group.append(edge());
  return /** @type {any} */ (group);
}

/**
 * A spacer row standing for the rows outside the virtual window.
 * @param {number} heightPx
 * @param {number} span
 * @returns {HTMLTableRowElement}
 */
export function spacerRow(heightPx, span) {
  const tr = Object.assign(document.createElement("tr"), { className: "spacer" });
  tr.setAttribute("aria-hidden", "true");
  const td = Object.assign(document.createElement("td"), { colSpan: span });
  tr.style.height = `${heightPx}px`;
  tr.append(td);
  return tr;
}

/**
 * Make ``rows`` the children of ``tbody``, in order, keeping every row already there that is
 * equal (``isEqualNode``) to its new version in the same place: a re-render (a scroll, a
 * reload, a selection elsewhere) between a mousedown and its mouseup must not replace the row
 * under the pointer, or the browser drops the click. Rows are matched by ``data-index``,
 * spacers by being first or last; everything a row shows must therefore be in its attributes
 * and children (the check box's state is the row's ``aria-selected``). Rows no longer wanted
 * are removed; rows kept are never moved.
 * @param {HTMLTableSectionElement} tbody
 * @param {HTMLTableRowElement[]} rows the spacer above, the display rows, the spacer below
 */
export function patchRows(tbody, rows) {
  const old = /** @type {HTMLTableRowElement[]} */ ([...tbody.children]);
  /** @type {(tr: HTMLTableRowElement, i: number) => string} */
  const key = (tr, i) => tr.dataset.index ?? (i === 0 ? "top" : "bottom");
  const byKey = new Map(old.map((tr, i) => [key(tr, i), tr]));
  const next = rows.map((tr, i) => {
    const kept = byKey.get(key(tr, i));
    return kept?.isEqualNode(tr) ? kept : tr;
  });
  const keep = new Set(next);
  for (const tr of old) if (!keep.has(tr)) tr.remove();
  let at = tbody.firstElementChild;
  for (const tr of next) {
    if (tr === at) at = at.nextElementSibling;
    else tbody.insertBefore(tr, at);
  }
}
