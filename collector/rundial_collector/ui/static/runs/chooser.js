// The column chooser: a disclosure listing every column (fixed ones, config keys, summary
// keys) with a check box each and a search box for long key lists.
import { BASE_COLUMNS, configColumn } from "./columns.js";

/**
 * Fill ``details`` with the chooser; ``onChange(ids)`` gets the chosen column ids in order
 * (fixed columns first, then config and summary columns in key order).
 * @param {HTMLDetailsElement} details
 * @param {string[]} configKeys every config key of the runs (summary keys last)
 * @param {string[]} chosen ids shown now
 * @param {(ids: string[]) => void} onChange
 */
export function fillColumnChooser(details, configKeys, chosen, onChange) {
  const all = [...BASE_COLUMNS, ...configKeys.map(configColumn)];
  const shown = new Set(chosen);
  const summary = Object.assign(document.createElement("summary"), { textContent: "Columns" });
  const search = Object.assign(document.createElement("input"), {
    type: "search", placeholder: "find a column", className: "col-search" });
  search.setAttribute("aria-label", "find a column");
  const list = Object.assign(document.createElement("div"), { className: "col-list" });
  for (const column of all) {
    const label = document.createElement("label");
    label.dataset.column = column.id;
    const box = Object.assign(document.createElement("input"), {
      type: "checkbox", checked: shown.has(column.id) });
    box.addEventListener("change", () => {
      if (box.checked) shown.add(column.id);
      else shown.delete(column.id);
      onChange(all.filter((c) => shown.has(c.id)).map((c) => c.id));
    });
    label.append(box, ` ${column.id}`);
    list.append(label);
  }
  search.addEventListener("input", () => {
    const needle = search.value.toLowerCase();
    for (const label of /** @type {HTMLElement[]} */ ([...list.children])) {
      label.hidden = !(label.dataset.column ?? "").toLowerCase().includes(needle);
    }
  });
  const panel = Object.assign(document.createElement("div"), { className: "col-panel" });
  panel.append(search, list);
  details.replaceChildren(summary, panel);
}
