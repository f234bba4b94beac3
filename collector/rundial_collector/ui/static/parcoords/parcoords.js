// Parallel coordinates on a canvas: one vertical axis per config key (plus the metric), one
// line per run in its colour. Hovering a line highlights its run; dragging along an axis
// brushes a range there (only runs inside every brush stay bright; a click on the axis clears
// its brush, a double-click clears all). A table under the plot is its text alternative.
//
// What it drew is on `.parcoords`: data-lines (lines drawn), data-axes, data-highlight (hovered
// run id or ""), data-brushed (run ids kept by the brushes, comma-separated; absent without
// a brush). Layout maths live in layout.js.
import { brushed, categoryText, isMissing, layoutPlot, nearestLine, shortNumber } from "./layout.js";

/**
 * @typedef {import("./layout.js").Row} Row
 * @typedef {import("./layout.js").AxisSpec} AxisSpec
 * @typedef {{setData: (rows: Row[], axes: AxisSpec[]) => void, destroy: () => void}} Parcoords
 */

const HEIGHT_PX = 260;
const BOX = { top: 34, bottom: 8, left: 70, right: 70 };
const AXIS_GRAB_PX = 14;

/**
 * Mount an empty plot into ``container``.
 * @param {HTMLElement} container
 * @returns {Parcoords}
 */
export function mountParcoords(container) {
  const root = Object.assign(document.createElement("div"), { className: "parcoords" });
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  const hover = Object.assign(document.createElement("p"), { className: "parcoords-hover muted" });
  const details = document.createElement("details");
  details.className = "parcoords-text";
  details.append(Object.assign(document.createElement("summary"), { textContent: "As a table" }));
  const table = document.createElement("table");
  details.append(table);
  root.append(canvas, hover, details);
  container.append(root);

  /** @type {Row[]} */ let rows = [];
  /** @type {AxisSpec[]} */ let axes = [];
  /** @type {ReturnType<typeof layoutPlot>} */ let plot = { axes: [], lines: [] };
  /** @type {string | null} */ let highlight = null;
  /** @type {Map<number, [number, number]>} */ const brushes = new Map();
  /** @type {{axis: number, y0: number} | null} */ let dragging = null;

  const draw = () => {
    const width = Math.max(320, root.clientWidth || 600);
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT_PX * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${HEIGHT_PX}px`;
    plot = layoutPlot(rows, axes, { width, height: HEIGHT_PX, ...BOX });
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT_PX);
    const kept = brushes.size ? brushed(plot.lines, brushes) : null;
    drawLines(ctx, plot.lines, kept, highlight);
    drawAxes(ctx, plot, brushes, getComputedStyle(root).color);
    root.dataset.lines = String(plot.lines.length);
    root.dataset.axes = String(plot.axes.length);
    root.dataset.highlight = highlight ?? "";
    if (kept) root.dataset.brushed = [...kept].join(",");
    else delete root.dataset.brushed;
    const line = plot.lines.find((l) => l.runId === highlight);
    hover.textContent = line ? describe(line.runId) : "Hover a line to see its run.";
    canvas.setAttribute("aria-label", `Parallel coordinates of ${rows.length} runs over ` +
      `${axes.map((a) => a.label).join(", ")}; the table below lists the values.`);
  };

  /** @param {string} runId */
  const describe = (runId) => {
    const row = rows.find((r) => r.runId === runId);
    if (!row) return "";
    return `${row.name}: ` + axes.map((a) => `${a.label} = ${valueText(row.values[a.key])}`)
      .join(", ");
  };

  /** @param {MouseEvent} event */
  const point = (event) => {
    const rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  };
  /** @param {number} x */
  const axisAt = (x) => plot.axes.findIndex((a) => Math.abs(a.x - x) <= AXIS_GRAB_PX);

  canvas.addEventListener("mousedown", (event) => {
    const { x, y } = point(event);
    const axis = axisAt(x);
    if (axis >= 0) dragging = { axis, y0: y };
  });
  canvas.addEventListener("mousemove", (event) => {
    const { x, y } = point(event);
    if (dragging) {
      if (Math.abs(y - dragging.y0) >= 3) brushes.set(dragging.axis, [dragging.y0, y]);
    } else {
      highlight = nearestLine(plot.lines, x, y);
    }
    draw();
  });
  window.addEventListener("mouseup", function release(event) {
    if (!root.isConnected) return window.removeEventListener("mouseup", release);
    if (!dragging) return;
    const { y } = point(event);
    if (Math.abs(y - dragging.y0) < 3) brushes.delete(dragging.axis);
    dragging = null;
    draw();
  });
  canvas.addEventListener("mouseleave", () => {
    if (!dragging && highlight !== null) {
      highlight = null;
      draw();
    }
  });
  canvas.addEventListener("dblclick", () => {
    brushes.clear();
    draw();
  });
  const resize = new ResizeObserver(() => draw());
  resize.observe(root);

  return {
    setData(newRows, newAxes) {
      rows = newRows;
      axes = newAxes;
      brushes.clear();
      highlight = null;
      draw();
      fillTable(table, rows, axes);
    },
    destroy() {
      resize.disconnect();
      root.remove();
    },
  };
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {import("./layout.js").Line[]} lines
 * @param {Set<string> | null} kept
 * @param {string | null} highlight
 */
function drawLines(ctx, lines, kept, highlight) {
  const order = [...lines].sort((a, b) => Number(a.runId === highlight) -
    Number(b.runId === highlight));
  for (const line of order) {
    const faded = (kept && !kept.has(line.runId)) || (highlight && line.runId !== highlight);
    ctx.globalAlpha = faded ? 0.15 : 0.9;
    ctx.strokeStyle = line.color;
    ctx.lineWidth = line.runId === highlight ? 3 : 1.5;
    ctx.beginPath();
    line.points.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    if (line.points.length === 1) ctx.arc(line.points[0].x, line.points[0].y, 3, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {ReturnType<typeof layoutPlot>} plot
 * @param {Map<number, [number, number]>} brushes
 * @param {string} color the text colour of the theme
 */
function drawAxes(ctx, plot, brushes, color) {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.font = "11px system-ui, sans-serif";
  plot.axes.forEach((axis, i) => {
    ctx.globalAlpha = 0.6;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(axis.x, BOX.top);
    ctx.lineTo(axis.x, axis.missingY - 18);
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.textAlign = "center";
    ctx.fillText(axis.label, axis.x, BOX.top - 16);
    if (plot.lines.some((line) => line.points[i].missing)) {
      ctx.fillText("missing", axis.x, axis.missingY + 4);
    }
    ctx.textAlign = "right";
    for (const tick of axis.ticks) ctx.fillText(tick.text, axis.x - 5, tick.y + 4);
    const brush = brushes.get(i);
    if (brush) {
      ctx.globalAlpha = 0.25;
      ctx.fillRect(axis.x - 6, Math.min(...brush), 12, Math.abs(brush[1] - brush[0]));
      ctx.globalAlpha = 1;
    }
  });
}

/**
 * The text alternative: one row per run, one column per axis.
 * @param {HTMLTableElement} table
 * @param {Row[]} rows
 * @param {AxisSpec[]} axes
 */
function fillTable(table, rows, axes) {
  const head = document.createElement("tr");
  for (const text of ["run", ...axes.map((a) => a.label)]) {
    head.append(Object.assign(document.createElement("th"), { scope: "col", textContent: text }));
  }
  const body = rows.map((row) => {
    const tr = document.createElement("tr");
    tr.dataset.pcRun = row.runId;
    tr.append(Object.assign(document.createElement("th"), { scope: "row", textContent: row.name }));
    for (const axis of axes) {
      tr.append(Object.assign(document.createElement("td"), {
        textContent: valueText(row.values[axis.key]),
      }));
    }
    return tr;
  });
  table.replaceChildren(head, ...body);
}

/**
 * @param {any} value
 * @returns {string}
 */
function valueText(value) {
  if (isMissing(value)) return "–";
  return typeof value === "number" ? shortNumber(value) : categoryText(value);
}
