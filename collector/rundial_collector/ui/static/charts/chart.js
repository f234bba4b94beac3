// One chart: a uPlot line chart overlaying runs, with min/max bands, smoothing, a tooltip,
// a fidelity badge, an empty state and a hidden table of last values (its text alternative).
import uPlot from "uplot";
import { durationFormat, siFormat, tickLabels } from "./axis.js";
import { el, lastValueRows, legendItems, nearest, tipRows } from "./text.js";
import { emptyReason, plotData } from "./data.js";
import { fidelityText } from "./fidelity.js";

export const SYNC_KEY = "rundial-charts";
const HEIGHT = 220;
/** Tick spacings of a step axis: whole steps only (1, 2, 5, 10, 20, 50, ...). */
const STEP_INCREMENTS = Array.from({ length: 48 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));
/** Tick spacings of a relative-time axis, in seconds (whole minutes, hours, days). */
const DURATION_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
  21600, 43200, 86400, 172800, 604800, 2592000];

/**
 * @typedef {import("./data.js").RunSeries} RunSeries
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {{runs: RunSeries[], refs: Map<string, RunRef>, entries: Record<string, any>[],
 *   xMode: string, ylog: boolean, smoothing: boolean, focusStep: number|null,
 *   bucketSize: number|null}} ChartView
 * @typedef {{onZoom: (lo: number, hi: number) => void, onReset: () => void,
 *   onFocus: (runId: string, step: number, timeMs: number|null) => void,
 *   onResize: (width: number) => void}} ChartHandlers
 */

/**
 * A style.css colour variable resolved to a colour a canvas takes (the variables may be
 * ``light-dark(...)``, which only CSS resolves).
 * @param {string} name
 * @param {string} fallback
 */
function cssColor(name, fallback) {
  const probe = document.createElement("span");
  probe.hidden = true;
  probe.style.color = `var(${name}, ${fallback})`;
  document.body.append(probe);
  const value = getComputedStyle(probe).color;
  probe.remove();
  return value || fallback;
}

/** Axis colours from the page's theme (light or dark, as the page shows it now). */
function themed() {
  const line = cssColor("--border", "#d0d7de");
  return { stroke: cssColor("--muted", "#5c6670"), grid: { stroke: line, width: 1 },
    ticks: { stroke: line, width: 1 } };
}

/**
 * Pixels between x ticks: room for the longest label (a step like 1,800,000,001 is wide).
 * @param {any} _u @param {number} _axis @param {number} min @param {number} max
 */
function labelSpace(_u, _axis, min, max) {
  const digits = String(Math.round(Math.max(Math.abs(min), Math.abs(max)))).length;
  return Math.max(50, 8 * digits + 16);
}

/**
 * The x range: the data's, or one unit either side of a lone x value (uPlot would pad it by a
 * tenth of its magnitude: 0 to 3.6G around a step of 1.8G).
 * @param {any} u @param {number} min @param {number} max
 * @returns {[number, number]}
 */
function padSingle(u, min, max) {
  const xs = u.data[0];
  return xs.length === 1 ? [xs[0] - 1, xs[0] + 1] : [min, max];
}

/** "#rrggbb" at ``alpha`` opacity. @param {string} hex @param {number} alpha */
export function withAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

/**
 * A chart element for ``key`` (not drawn until :func:`draw`).
 * @param {string} key
 * @param {ChartHandlers} handlers
 */
export function createChart(key, handlers) {
  const root = el("figure", "chart");
  root.dataset.key = key;
  root.dataset.state = "loading";
  root.dataset.points = "0";
  const head = el("figcaption", "chart-head");
  head.append(el("span", "chart-title", key));
  const badge = el("span", "fidelity", "loading…");
  const expand = /** @type {HTMLButtonElement} */ (el("button", "chart-expand", "⤢"));
  expand.type = "button";
  expand.title = "Full screen";
  expand.setAttribute("aria-label", `Show ${key} full screen`);
  expand.setAttribute("aria-pressed", "false");
  head.append(badge, expand);
  const plotBox = el("div", "chart-plot");
  const empty = el("p", "empty-reason");
  empty.hidden = true;
  const legend = el("ul", "chart-legend");
  const tip = el("div", "chart-tip");
  tip.hidden = true;
  const table = el("table", "visually-hidden");
  root.append(head, plotBox, empty, legend, tip, table);

  /** @type {uPlot|null} */
  let plot = null;
  /** @type {ChartView|null} */
  let view = null;
  /** @type {ReturnType<typeof plotData>|null} */
  let built = null;
  let downX = -1;

  const width = () => Math.max(200, Math.floor(plotBox.clientWidth || root.clientWidth || 400));
  const height = () => (root.classList.contains("chart-expanded")
    ? Math.max(HEIGHT, window.innerHeight - 160) : HEIGHT);
  expand.addEventListener("click", () => {
    const on = root.classList.toggle("chart-expanded");
    expand.setAttribute("aria-pressed", String(on));
    plot?.setSize({ width: width(), height: height() });
  });
  root.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && root.classList.contains("chart-expanded")) expand.click();
  });
  // follow the chart's width (window or pane resized): resize the plot, tell the grid
  const resizer = new ResizeObserver(() => {
    if (!plot) return;
    if (Math.abs(plot.width - width()) >= 2) plot.setSize({ width: width(), height: height() });
    handlers.onResize(width()); // the grid refetches when the width changed a lot
  });
  resizer.observe(plotBox);

  function destroyPlot() {
    plot?.destroy();
    plot = null;
  }

  /** @param {string} reason */
  function showEmpty(reason) {
    destroyPlot();
    root.dataset.state = "empty";
    root.dataset.points = "0";
    empty.textContent = reason;
    empty.hidden = false;
    legend.replaceChildren();
  }

  /** @param {ChartView} next */
  function draw(next) {
    view = next;
    badge.textContent = fidelityText(next.entries, next.bucketSize);
    const reason = emptyReason(next.entries);
    if (reason) return showEmpty(reason);
    empty.hidden = true;
    built = plotData(next.runs, next.ylog);
    const options = plotOptions(next, built);
    if (plot && sameShape(plot, options)) {
      plot.setData(/** @type {any} */ (built.data));
    } else {
      destroyPlot();
      plot = new uPlot(options, /** @type {any} */ (built.data), plotBox);
      /** @type {any} */ (plot)._rundialSig = options._rundialSig;
      bindMouse(plot);
    }
    root.dataset.state = "drawn";
    markFocus(next.focusStep);
    root.dataset.points = String(built.points);
    root.dataset.drawnMs = String(performance.now());
    legend.replaceChildren(...legendItems(next));
    table.replaceChildren(...lastValueRows(key, next));
  }

  /** @param {uPlot} u @param {any} options */
  function sameShape(u, options) {
    return u.series.length === options.series.length && u.width === options.width &&
      u.height === options.height &&
      /** @type {any} */ (u)._rundialSig === options._rundialSig;
  }

  /**
   * @param {ChartView} v
   * @param {ReturnType<typeof plotData>} b
   */
  function plotOptions(v, b) {
    /** @type {any[]} */
    const series = [{}];
    /** @type {any[]} */
    const bands = [];
    for (const cols of b.columns) {
      const color = v.refs.get(cols.runId)?.color ?? "#888888";
      const name = v.refs.get(cols.runId)?.name || cols.runId;
      const sparse = (v.runs.find((r) => r.runId === cols.runId)?.y.length ?? 0) <= 2;
      series[cols.line] = { label: name, stroke: v.smoothing ? withAlpha(color, 0.3) : color,
        width: 1.5, spanGaps: true, points: { show: sparse, size: 6, fill: color } };
      if (cols.max !== null && cols.min !== null) {
        // the band's edges get a hairline too, so a one-bucket spike stays visible
        const edge = { stroke: withAlpha(color, 0.35), width: 0.75, spanGaps: true,
          points: { show: false } };
        series[cols.max] = { ...edge, label: `${name} max` };
        series[cols.min] = { ...edge, label: `${name} min` };
        bands.push({ series: [cols.max, cols.min], fill: withAlpha(color, 0.15) });
      }
      if (cols.smoothed !== null) {
        series[cols.smoothed] = { label: `${name} smoothed`, stroke: color, width: 1.5,
          spanGaps: true, points: { show: false } };
      }
    }
    const time = v.xMode === "wall";
    return {
      _rundialSig: `${v.xMode}|${v.ylog}|${v.smoothing}|${b.columns.map((c) =>
        `${c.runId}:${c.min}:${c.smoothed}`).join(",")}`,
      width: width(), height: height(), series, bands, legend: { show: false },
      scales: { x: { time, range: padSingle }, y: v.ylog ? { distr: 3 } : {} },
      axes: [
        { ...themed(), values: time ? undefined : (/** @type {any} */ _u,
          /** @type {number[]} */ ticks) =>
          tickLabels(ticks, v.xMode === "relative" ? durationFormat : siFormat),
        space: labelSpace,
        ...(v.xMode === "relative" ? { incrs: DURATION_STEPS } : {}),
        ...(v.xMode === "step" ? { incrs: STEP_INCREMENTS } : {}) },
        { ...themed(), size: 52, values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) =>
          tickLabels(ticks, siFormat) },
      ],
      cursor: { sync: { key: SYNC_KEY }, drag: { x: true, y: false, setScale: false },
        points: { show: false } },
      hooks: {
        setSelect: [(/** @type {uPlot} */ u) => onSelect(u)],
        setCursor: [(/** @type {uPlot} */ u) => showTip(u)],
        draw: [(/** @type {uPlot} */ u) => drawFocus(u)],
      },
    };
  }

  /** A drag selected an x range: zoom every chart to it (the grid refetches). @param {uPlot} u */
  function onSelect(u) {
    if (u.select.width < 3) return;
    const lo = u.posToVal(u.select.left, "x");
    const hi = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (hi > lo) handlers.onZoom(lo, hi);
  }

  /** @param {uPlot} u */
  function bindMouse(u) {
    u.over.addEventListener("dblclick", () => handlers.onReset());
    u.over.addEventListener("mousedown", (e) => { downX = e.clientX; });
    u.over.addEventListener("click", (e) => {
      if (Math.abs(e.clientX - downX) > 2) return;
      clickFocus(u);
    });
  }

  /** A click: the step of the run nearest the cursor (linked timeline). @param {uPlot} u */
  function clickFocus(u) {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || !view || !built) return;
    const xValue = /** @type {number} */ (u.data[0][idx]);
    for (const run of view.runs) {
      const i = nearest(run.x, xValue);
      if (i < 0) continue;
      const entry = view.entries.find((e) => e.runId === run.runId);
      const stamps = entry?.mode === "buckets" ? entry.lastTimestampMs : entry?.timestampsMs;
      handlers.onFocus(run.runId, run.steps[i], stamps ? stamps[i] ?? null : null);
      return;
    }
  }

  /** @param {uPlot} u */
  function showTip(u) {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || !view || !built || u.cursor.left === undefined ||
        u.cursor.left < 0) {
      tip.hidden = true;
      return;
    }
    tip.replaceChildren(...tipRows(view, /** @type {number} */ (u.data[0][idx])));
    tip.hidden = false;
  }

  /** The vertical highlight of the focused step. @param {uPlot} u */
  function drawFocus(u) {
    if (!view || view.focusStep === null) return;
    const step = view.focusStep;
    let xValue = null;
    for (const run of view.runs) {
      const i = run.steps.findIndex((s) => s >= step);
      if (i >= 0) { xValue = run.x[i]; break; }
    }
    if (xValue === null) return;
    const left = u.valToPos(xValue, "x", true);
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = "rgba(255, 170, 0, 0.35)";
    ctx.fillRect(left - 1, u.bbox.top, 3, u.bbox.height);
    ctx.restore();
  }

  /** The focused step as ``data-focus-step`` (for tests and styles). @param {number|null} step */
  function markFocus(step) {
    if (step === null) delete root.dataset.focusStep;
    else root.dataset.focusStep = String(step);
  }

  return {
    root,
    width,
    draw,
    /** @param {number|null} step */
    setFocus(step) {
      if (view) view.focusStep = step;
      markFocus(step);
      plot?.redraw(false, false);
    },
    setLoading() { root.dataset.state = "loading"; },
    /** @param {string|null} zoom "lo,hi" as in the URL, null when not zoomed */
    setZoom(zoom) {
      if (zoom) root.dataset.zoom = zoom;
      else delete root.dataset.zoom;
    },
    destroy() { resizer.disconnect(); destroyPlot(); root.remove(); },
  };
}
