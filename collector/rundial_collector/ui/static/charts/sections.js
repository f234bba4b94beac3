// The grid's sections (collapsible, one per key prefix) and its one-line message.

/**
 * Put the charts into ``gridEl``, one ``<details>`` per section; sections in ``closed`` stay
 * collapsed, and collapsing or opening one updates ``closed``.
 * @param {HTMLElement} gridEl
 * @param {{name: string, keys: string[]}[]} sections
 * @param {(key: string) => HTMLElement} chartOf
 * @param {Set<string>} closed
 */
export function renderSections(gridEl, sections, chartOf, closed) {
  gridEl.replaceChildren(...sections.map(({ name, keys }) => {
    const details = Object.assign(document.createElement("details"), {
      className: "chart-section", open: !closed.has(name) });
    details.dataset.section = name;
    details.addEventListener("toggle", () => {
      if (details.open) closed.delete(name); else closed.add(name);
    });
    const summary = Object.assign(document.createElement("summary"), {
      textContent: `${name} (${keys.length})` });
    const cards = Object.assign(document.createElement("div"), { className: "chart-cards" });
    cards.append(...keys.map(chartOf));
    details.append(summary, cards);
    return details;
  }));
}

/**
 * The grid's message: why it is empty, and which selected runs the collector does not know.
 * @param {number} runCount
 * @param {number} keyCount keys of the selected runs (before the search)
 * @param {string[]} unknownRuns
 * @param {number} shown keys matching the search
 */
export function gridMessage(runCount, keyCount, unknownRuns, shown) {
  const unknown = unknownRuns.length ? `Unknown run${unknownRuns.length > 1 ? "s" : ""} ` +
    `(not in this project): ${unknownRuns.join(", ")}. ` : "";
  if (!runCount) return "No runs selected.";
  if (!keyCount) return `${unknown}No metrics logged yet.`;
  return unknown + (shown ? "" : "No metric key matches the search.");
}
