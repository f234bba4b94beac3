// The chart grid: one chart per metric key of the selected runs, in sections by key prefix,
// fetched lazily (when scrolled into view) in as few chart requests as possible, with a key
// search, x/y axis modes, smoothing, synced zoom, the linked timeline and live tails.
import { runColor } from "../core/colors.js";
import { parseState, setState } from "../core/urlstate.js";
import { createChart } from "./chart.js";
import { entrySeries, givenRecord } from "./data.js";
import { bucketSize } from "./fidelity.js";
import { groupKeys } from "./keys.js";
import { createLiveCharts } from "./live.js";
import { earlyOr } from "../early.js";
import { createLoader } from "./loader.js";
import { gridMessage, renderSections } from "./sections.js";
import { createSmoother } from "./smoothing.js";
import { keysOfRuns, keysOnceLive, provisionalRun, runsFromUrl, urlRunIds } from "./sources.js";
import { bindToolbar, claimId, createToolbar, setSmoothControl } from "./toolbar.js";
import { formatZoom, parseZoom, stepRange, viewFromState } from "./view.js";
// The grid's deeper imports, named here too: with no bundler the browser discovers a module
// only once its importer has loaded, so this fetches the whole chart tree in one round trip.
import "../live/feed.js";
import "./axis.js";
import "./fetch.js";
import "./smooth.js";
import "./text.js";

/**
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {{ws: string, project: string, projectId: string, runs: RunRef[],
 *   keyPrefix?: string, excludePrefix?: string,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} GridOptions
 * @typedef {{setRuns: (runs: RunRef[]) => void,
 *   applyPoints: (runId: string, key: string, points: import("./merge.js").TailPoints) => void,
 *   destroy: () => void}} ChartGrid
 * @typedef {{startStep: number, endStep: number}} StepRange
 * @typedef {{chart: ReturnType<typeof createChart>, entries: Map<string, Record<string, any>>,
 *   sig: string|null, visible: boolean, buckets: number,
 *   zoomRange: StepRange|null|undefined}} Slot
 *   ``zoomRange``: on a wall/relative x axis, the steps a zoom covers in this chart (keys may
 *   count steps differently); undefined until the chart has data to map the zoom with.
 */

/**
 * Mount a grid of charts, one per metric key of ``options.runs`` (or, when that is empty, of
 * the runs the URL field ``runs`` names), into ``container``.
 * @param {HTMLElement} container
 * @param {GridOptions} options
 * @returns {ChartGrid}
 */
export function mountChartGrid(container, options) {
  let view = viewFromState(parseState(window.location.search));
  /** @type {RunRef[]} */
  let runs = [];
  /** @type {string[]} */
  let allKeys = [];
  /** @type {Set<string>} keys first seen live since the selection changed */
  const liveKeys = new Set();
  let keysLoading = false;
  /** @type {string[]} */
  let unknownRuns = [];
  /** @type {Set<string>} sections the user collapsed (kept across searches) */
  const closedSections = new Set();
  /** @type {Map<string, Slot>} */
  const slots = new Map();
  /** @type {Map<string, {series: any[], bucketSize: number|null}>} shared by a page's grids */
  const given = (/** @type {any} */ (window).__rundialCharts ??= new Map());
  let generation = 0;
  let loadedIds = "\u0000"; // the run ids whose keys are loaded or loading

  const bar = createToolbar();
  const message = Object.assign(document.createElement("p"), { className: "muted grid-message" });
  const gridEl = claimId(document.createElement("div"), "chart-grid");
  gridEl.dataset.state = "loading";
  container.replaceChildren(bar.root, message, gridEl);
  bar.search.value = view.keys;
  bar.x.value = view.x;
  bar.ylog.checked = view.ylog;
  setSmoothControl(bar, view.smoothKind, view.smooth);
  bar.reset.disabled = !view.zoom;

  const live = createLiveCharts(bar.live, options.projectId, { slots, rangeOf, draw,
    refetch: (key) => {
      for (const [k, slot] of slots) if (key === null || k === key) slot.sig = null;
      request();
    },
    onNewKey: (key) => { // a metric key first logged while the chart is open
      liveKeys.add(key);
      if (!keysLoading) addKeys([key]);
    } });
  /** Chart ``keys`` too (those not charted yet). @param {string[]} keys */
  function addKeys(keys) {
    const added = keys.filter((key) => !allKeys.includes(key));
    if (!added.length) return;
    allKeys = [...new Set([...allKeys, ...added])];
    layout();
  }
  /**
   * The step range a chart fetches: none when not zoomed; the zoom itself on a step axis;
   * otherwise the chart's own mapping of the zoom (null until it has one).
   * @param {Slot} slot
   * @returns {StepRange|null}
   */
  function rangeOf(slot) {
    if (!view.zoom) return null;
    if (view.x === "step") return stepRange(view.zoom, "step", []);
    return slot.zoomRange ?? null;
  }

  const smoother = createSmoother({ projectId: options.projectId, redraw: (key) => draw(key),
    zoomed: (slot) => rangeOf(slot) !== null,
    shape: (slot) => ({ buckets: slot.buckets, ...(rangeOf(slot) ?? {}) }),
    entryOf: (key, runId) => slots.get(key)?.entries.get(runId) });

  const loader = createLoader({ projectId: options.projectId, slots, rangeOf, draw, live,
    runIds: () => runs.map((r) => r.runId), generation: () => generation,
    onState: (state) => {
      gridEl.dataset.state = state;
      if (state === "ready" && view.zoom && view.x !== "step") mapZoom(); // a URL zoom: map it
    },
    onError: (text) => { message.textContent = `Could not load charts: ${text}`; } });
  const request = loader.request;

  /** Give every drawn chart without one its step range for the wall/relative zoom. */
  function mapZoom() {
    let changed = false;
    for (const [key, slot] of slots) {
      if (slot.zoomRange !== undefined || !view.zoom || !slot.entries.size) continue;
      const drawn = given.get(key)?.series ?? [];
      slot.zoomRange = stepRange(view.zoom, view.x, drawn.map((s) => ({ x: s.x, steps: s.steps })));
      changed = true;
    }
    if (changed) request();
  }

  /** Redraw one chart from its entries (no fetch). @param {string} key */
  function draw(key) {
    const slot = slots.get(key);
    if (!slot) return;
    const refs = new Map(runs.map((r) => [r.runId, r.color ? r : { ...r, color: runColor(r.runId) }]));
    const entries = runs.map((r) => slot.entries.get(r.runId)).filter((e) => e !== undefined);
    const series = [];
    for (const entry of /** @type {Record<string, any>[]} */ (entries)) {
      if (entry.mode === "empty") continue;
      const s = entrySeries(entry, view.x, refs.get(entry.runId)?.startedAtMs ?? null);
      const smoothed = smoother.smoothedFor(key, slot, entry);
      if (smoothed) s.smoothed = smoothed;
      series.push(s);
    }
    const size = bucketSize(/** @type {any[]} */ (entries), slot.buckets);
    slot.chart.setZoom(formatZoom(view.zoom, view.x));
    slot.chart.draw({ runs: series, refs, entries: /** @type {any[]} */ (entries), xMode: view.x,
      ylog: view.ylog, smoothing: smoother.spec() !== null, focusStep: view.step, bucketSize: size });
    given.set(key, givenRecord(series, size));
  }

  /** Lay out sections and charts for the keys matching the search. */
  function layout() {
    const { sections, error, total } = groupKeys(allKeys, {
      keyPrefix: options.keyPrefix, excludePrefix: options.excludePrefix, search: view.keys });
    bar.searchError.textContent = error ?? "";
    const wanted = new Set(sections.flatMap((s) => s.keys));
    for (const [key, slot] of slots) {
      if (wanted.has(key)) continue;
      loader.unobserve(slot.chart.root);
      slot.chart.destroy();
      slots.delete(key);
      given.delete(key);
    }
    renderSections(gridEl, sections, (key) => slotFor(key).chart.root, closedSections);
    message.textContent = gridMessage(runs.length, allKeys.length, unknownRuns, total);
    gridEl.dataset.state = "ready";
    loader.markInView();
    request();
  }

  /** @param {string} key */
  function slotFor(key) {
    let slot = slots.get(key);
    if (!slot) {
      const chart = createChart(key, { onZoom: zoomTo, onReset: () => zoomTo(null, null),
        onFocus: (runId, step, timeMs) => options.emit("step-focus", { runId, key, step, timeMs }),
        onResize: (width) => {
          const current = slots.get(key);
          if (current?.sig && Math.abs(width - current.buckets) > current.buckets / 4) {
            current.sig = null; // much wider or narrower: fetch buckets for the new width
            request();
          }
        } });
      slot = { chart, entries: new Map(), sig: null, visible: false, buckets: 0,
        zoomRange: undefined };
      slots.set(key, slot);
      loader.observe(chart.root);
    }
    return slot;
  }

  /** Zoom every chart to x in [lo, hi] (null: reset), refetching that step range. */
  function zoomTo(/** @type {number|null} */ lo, /** @type {number|null} */ hi) {
    // rounded as the URL keeps it, so a reload gives the very same view
    const zoom = lo === null || hi === null ? null : parseZoom(formatZoom([lo, hi], view.x));
    if (formatZoom(zoom, view.x) === formatZoom(view.zoom, view.x)) return; // synced charts
    view = { ...view, zoom };
    bar.reset.disabled = !zoom;
    setState({ zoom: formatZoom(zoom, view.x) }, options.emit);
    for (const slot of slots.values()) slot.zoomRange = undefined;
    if (zoom && view.x !== "step") mapZoom();
    smoother.clear();
    request();
  }

  /** @param {RunRef[]} next */
  async function setRuns(next) {
    const ids = next.map((r) => r.runId).sort().join(","); // order is the table's business
    const before = new Map(runs.map((r) => [r.runId, r.status]));
    const statusChanged = next.some((r) => r.status !== before.get(r.runId));
    runs = next;
    const runIds = next.map((r) => r.runId);
    const mine = ids === loadedIds ? generation : generation + 1;
    const recheck = (/** @type {string[]} */ notLive) => void keysOnceLive(options.projectId,
      runIds, notLive, live, () => mine === generation, addKeys);
    if (ids === loadedIds) { // the same runs again (details, a re-announced or re-sorted selection)
      const notLive = live.unsettled(runIds);
      if (statusChanged) live.follow(runs);
      if (statusChanged && !keysLoading) recheck(notLive);
      redrawAll();
      return;
    }
    loadedIds = ids;
    generation += 1;
    for (const slot of slots.values()) { slot.sig = null; slot.entries.clear(); }
    smoother.clear();
    liveKeys.clear();
    keysLoading = true;
    live.follow(runs);
    gridEl.dataset.state = "loading";
    const notLive = live.unsettled(runIds); // the keys are read at once, not after the sockets
    const lists = await earlyOr(`keys ${runIds.join(",")}`, options.projectId,
      () => keysOfRuns(options.projectId, runIds));
    if (mine !== generation) return;
    keysLoading = false;
    unknownRuns = next.filter((_r, i) => lists[i] === null).map((r) => r.runId);
    allKeys = [...new Set([...lists.flatMap((list) => list ?? []), ...liveKeys])];
    layout();
    recheck(notLive);
  }

  bindToolbar(bar, {
    onSearch: (text) => {
      view = { ...view, keys: text };
      setState({ keys: text || null }, options.emit);
      layout();
    },
    onX: (mode) => {
      zoomTo(null, null); // a zoom is in the old axis' units
      view = { ...view, x: mode };
      setState({ x: mode === "step" ? null : mode }, options.emit);
      redrawAll();
    },
    onYlog: (ylog) => {
      view = { ...view, ylog };
      setState({ ylog: ylog ? "1" : null }, options.emit);
      redrawAll();
    },
    onSmooth: (kind, value) => {
      view = { ...view, smoothKind: kind, smooth: value };
      setState({ smooth: value, smoothKind: kind === "ema" ? null : kind }, options.emit);
      smoother.setSpec(value, kind);
      redrawAll();
    },
    onReset: () => zoomTo(null, null),
  }, () => view.smoothKind);
  /** Redraw every chart that has data (no fetch). */
  const redrawAll = () => { for (const [key, slot] of slots) if (slot.entries.size) draw(key); };
  smoother.setSpec(view.smooth, view.smoothKind);

  const offFocus = options.on("step-focus", (/** @type {{step: number}} */ detail) => {
    view = { ...view, step: detail.step };
    setState({ step: String(detail.step) }, options.emit);
    for (const slot of slots.values()) slot.chart.setFocus(detail.step);
  });
  /** Test hook: select runs as the runs table would. */
  /** @type {any} */ (window).__rundialSelect = (/** @type {RunRef[]} */ r) =>
    options.emit("selection", { runs: r });

  if (options.runs.length) void setRuns(options.runs);
  else if (urlRunIds().length) {
    // chart the URL's runs at once; their names, status and start follow (no refetch then)
    const ids = urlRunIds();
    void setRuns(ids.map(provisionalRun));
    void earlyOr(`runs ${ids.join(",")}`, options.projectId, () => runsFromUrl(options, ids))
      .then((found) => {
        if (runs.map((r) => r.runId).join(",") === ids.join(",")) void setRuns(found);
        live.lookedUp(ids);
      });
  } else layout();

  /** @type {ChartGrid} */
  const handle = {
    setRuns: (next) => void setRuns(next),
    applyPoints: (runId, key, points) => live.onPoints(runId, key, points),
    destroy() {
      generation += 1;
      live.close();
      offFocus();
      loader.disconnect();
      for (const [key, slot] of slots) {
        slot.chart.destroy();
        given.delete(key);
      }
      slots.clear();
      container.replaceChildren();
    },
  };
  /** @type {any} */ (window).__rundialGrid = handle; // tests drive applyPoints through it
  return handle;
}
