// The text parts of a chart: legend, tooltip rows and the hidden table of last values (its
// text alternative), plus small shared helpers.
import { durationFormat, siFormat } from "./axis.js";
import { lastValues } from "./data.js";

/**
 * @typedef {import("./chart.js").ChartView} ChartView
 */

/** @param {string} tag @param {string} className @param {string} [text] */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Index of the point of ``xs`` nearest ``value`` (-1 when empty). @param {number[]} xs @param {number} value */
export function nearest(xs, value) {
  let best = -1;
  let gap = Infinity;
  for (let i = 0; i < xs.length; i++) {
    const d = Math.abs(xs[i] - value);
    if (d < gap) { gap = d; best = i; }
  }
  return best;
}

/** @param {string} mode @param {number} value */
function xLabel(mode, value) {
  if (mode === "wall") return new Date(value * 1000).toISOString().replace("T", " ").slice(0, 19);
  return mode === "relative" ? durationFormat(value) : String(value);
}

/** A colour swatch. @param {string|undefined} color */
function swatch(color) {
  const node = el("span", "swatch");
  node.style.background = color ?? "#888";
  return node;
}

/**
 * The legend: each run's colour and name.
 * @param {ChartView} v
 */
export function legendItems(v) {
  return v.runs.map((run) => {
    const item = el("li", "legend-item");
    item.append(swatch(v.refs.get(run.runId)?.color),
      document.createTextNode(v.refs.get(run.runId)?.name || run.runId));
    return item;
  });
}

/**
 * The tooltip at ``xValue``: the x, then every run's value (and smoothed value) there.
 * @param {ChartView} v
 * @param {number} xValue
 */
export function tipRows(v, xValue) {
  const rows = [el("div", "tip-x", `${v.xMode} ${xLabel(v.xMode, xValue)}`)];
  for (const run of v.runs) {
    const i = nearest(run.x, xValue);
    const value = i < 0 ? null : run.y[i];
    const smooth = i >= 0 && run.smoothed ? ` (smoothed ${siFormat(run.smoothed[i])})` : "";
    const row = el("div", "tip-row");
    row.append(swatch(v.refs.get(run.runId)?.color), document.createTextNode(
      `${v.refs.get(run.runId)?.name || run.runId}: ${siFormat(value)}${smooth}`));
    rows.push(row);
  }
  return rows;
}

/**
 * The hidden table's caption and rows: each run's last finite value and its step.
 * @param {string} key
 * @param {ChartView} v
 */
export function lastValueRows(key, v) {
  const rows = lastValues(v.runs).map(({ runId, step, value }) => {
    const tr = document.createElement("tr");
    tr.append(el("th", "", v.refs.get(runId)?.name || runId),
      el("td", "", step === null ? "no value" : `step ${step}`), el("td", "", siFormat(value)));
    return tr;
  });
  return [el("caption", "", `${key}: last value per run`), ...rows];
}
