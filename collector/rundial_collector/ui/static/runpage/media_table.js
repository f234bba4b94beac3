// A logged table as a sortable grid: click a header to sort (again to reverse); numeric columns
// are right-aligned; empty cells sort last. Large tables show their first rows.
import { el, message } from "./assets_dom.js";
import { isNumericColumn, normaliseTable, sortedRowIndexes } from "./media_logic.js";

export const MAX_SHOWN_ROWS = 1000;

/**
 * Draw the table ``json`` (``{columns, rows}``) into ``container``; a malformed file becomes a
 * message.
 * @param {HTMLElement} container
 * @param {unknown} json
 */
export function mountTable(container, json) {
  let table;
  try {
    table = normaliseTable(json);
  } catch (err) {
    container.replaceChildren(message("error", /** @type {Error} */ (err).message));
    return;
  }
  const { columns, rows } = table;
  if (!rows.length) {
    container.replaceChildren(message("empty", "This table has no rows."));
    return;
  }
  const numeric = columns.map((_, i) => isNumericColumn(rows, i));
  const body = el("tbody");
  /** @type {{column: number, direction: "ascending" | "descending"} | null} */
  let sort = null;
  const headers = columns.map((name, i) => {
    const button = el("button", { type: "button", className: "sort", textContent: name });
    const th = el("th", { scope: "col", className: numeric[i] ? "num" : "",
      dataset: { col: i }, attrs: { "aria-sort": "none" } }, [button]);
    button.addEventListener("click", () => {
      const direction = sort?.column === i && sort.direction === "ascending" ? "descending" : "ascending";
      sort = { column: i, direction };
      for (const other of headers) other.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", direction);
      fill();
    });
    return th;
  });
  const fill = () => {
    const order = sort ? sortedRowIndexes(rows, sort.column, sort.direction) : rows.map((_, i) => i);
    body.replaceChildren(...order.slice(0, MAX_SHOWN_ROWS).map((r) => el("tr", {},
      columns.map((_, c) => cell(rows[r][c], numeric[c])))));
  };
  fill();
  container.replaceChildren(el("div", { className: "media-table-scroll" }, [
    el("table", { className: "media-table", dataset: { rows: rows.length } },
      [el("thead", {}, [el("tr", {}, headers)]), body])]));
  if (rows.length > MAX_SHOWN_ROWS) {
    container.append(message("muted",
      `Showing ${MAX_SHOWN_ROWS} of ${rows.length} rows (sorting uses all rows).`));
  }
}

/**
 * @param {unknown} value
 * @param {boolean} numeric
 * @returns {HTMLElement}
 */
function cell(value, numeric) {
  const text = value === null || value === undefined ? ""
    : typeof value === "object" ? JSON.stringify(value) : String(value);
  return el("td", { className: numeric ? "num" : "", textContent: text });
}
