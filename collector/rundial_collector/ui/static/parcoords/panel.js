// The project page's parallel-coordinates panel (config → metric) for the selected runs: it
// reads the runs' configs (POST /api/v1/query/runs, cached per run) and one metric's last value per
// run (POST /api/v1/query/chart with buckets=1: the last point of the whole series), picks the
// config keys that differ between the runs (layout.js chooseKeys) and hands them to the canvas
// component. The metric is chosen in `#parcoords-metric` (default: train/loss, else the first
// key with "loss", else the first key).
//
// It loads nothing while it is out of view (it sits under the charts), and its requests go at
// low priority, so it never delays the charts.
import { chooseKeys } from "./layout.js";
import { mountParcoords } from "./parcoords.js";

/**
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {{ws: string, project: string, projectId: string}} PanelContext
 */

/** At most this many runs are drawn (the first of the selection). */
export const MAX_RUNS = 200;
const CHART_SERIES_MAX = 400;

/**
 * Mount the panel into ``container``; call ``setRuns`` with each selection.
 * @param {HTMLElement} container
 * @param {PanelContext} context
 * @returns {{setRuns: (runs: RunRef[]) => Promise<void>}}
 */
export function mountParcoordsPanel(container, context) {
  const title = Object.assign(document.createElement("h2"), { textContent: "Parallel coordinates" });
  const label = Object.assign(document.createElement("label"), { textContent: "Metric (last value) " });
  const select = Object.assign(document.createElement("select"), { id: "parcoords-metric" });
  label.append(select);
  const note = Object.assign(document.createElement("p"), {
    className: "muted", textContent: "Select runs to compare their configs.",
  });
  container.append(title, label, note);
  const plot = mountParcoords(container);
  /** @type {Map<string, Record<string, any>>} */
  const configs = new Map();
  /** @type {RunRef[]} */
  let current = [];
  let generation = 0;
  let keysLoaded = false;
  let visible = false;
  let stale = false;

  const render = async () => {
    if (!visible) {
      stale = true;
      return;
    }
    stale = false;
    const mine = ++generation;
    const runs = current.slice(0, MAX_RUNS);
    if (!runs.length) {
      note.textContent = "Select runs to compare their configs.";
      plot.setData([], []);
      return;
    }
    note.textContent = `Loading ${runs.length} runs…`;
    if (!keysLoaded) keysLoaded = await fillMetrics(select, context.projectId);
    await loadConfigs(context, runs, configs);
    const metric = select.value;
    const last = metric ? await lastValues(context.projectId, runs, metric) : new Map();
    if (mine !== generation) return;
    const runConfigs = runs.map((r) => configs.get(r.runId) ?? {});
    const keys = chooseKeys(runConfigs);
    const metricAxis = `metric:${metric}`;
    const axes = [...keys.map((k) => ({ key: k, label: k })),
      ...(metric ? [{ key: metricAxis, label: `${metric} (last)` }] : [])];
    plot.setData(runs.map((run, i) => ({
      runId: run.runId, name: run.name || run.runId, color: run.color,
      values: { ...runConfigs[i], [metricAxis]: last.get(run.runId) },
    })), axes);
    note.textContent = `${runs.length} runs` +
      (current.length > runs.length ? ` (the first ${MAX_RUNS} of ${current.length})` : "") +
      (keys.length ? "" : "; their configs do not differ");
  };
  const fail = (/** @type {Error} */ err) => {
    note.textContent = `Could not load the runs' configs: ${err.message}`;
  };
  select.addEventListener("change", () => void render().catch(fail));
  const observer = new IntersectionObserver((seen) => {
    visible = seen.some((item) => item.isIntersecting);
    if (visible && stale) void render().catch(fail);
  });
  observer.observe(container);
  return {
    setRuns(runs) {
      current = runs;
      return render().catch(fail);
    },
  };
}

/**
 * Fill the metric choice with the project's keys (user keys first, as the route lists them).
 * @param {HTMLSelectElement} select
 * @param {string} projectId
 * @returns {Promise<boolean>}
 */
async function fillMetrics(select, projectId) {
  const reply = await lowPriorityJson(`/api/v1/metrics/keys?projectId=` +
    `${encodeURIComponent(projectId)}&limit=1000`);
  const keys = reply.keys.map((/** @type {{metricKey: string}} */ k) => k.metricKey);
  select.replaceChildren(...keys.map((/** @type {string} */ k) =>
    Object.assign(document.createElement("option"), { value: k, textContent: k })));
  select.value = keys.includes("train/loss") ? "train/loss"
    : keys.find((/** @type {string} */ k) => k.includes("loss")) ?? keys[0] ?? "";
  return true;
}

/**
 * Fetch the configs of the runs not yet in ``cache`` (``POST /api/v1/query/runs``, one request per
 * :data:`CHART_SERIES_MAX` runs); a run whose details cannot be read is left out of the cache
 * (its line shows missing config values).
 * @param {PanelContext} context
 * @param {RunRef[]} runs
 * @param {Map<string, Record<string, any>>} cache
 */
async function loadConfigs(context, runs, cache) {
  const todo = runs.map((r) => r.runId).filter((id) => !cache.has(id));
  for (let i = 0; i < todo.length; i += CHART_SERIES_MAX) {
    try {
      const reply = await lowPriorityJson("/api/v1/query/runs",
        { projectId: context.projectId, runIds: todo.slice(i, i + CHART_SERIES_MAX) });
      for (const run of reply.runs) cache.set(run.runId, run.config ?? {});
    } catch {
      // a run deleted meanwhile is reported unknown, not cached: asked again next time
    }
  }
}

/**
 * Each run's last value of ``metric`` (a run without it is left out).
 * @param {string} projectId
 * @param {RunRef[]} runs
 * @param {string} metric
 * @returns {Promise<Map<string, number | null>>}
 */
async function lastValues(projectId, runs, metric) {
  /** @type {Map<string, number | null>} */
  const out = new Map();
  for (let i = 0; i < runs.length; i += CHART_SERIES_MAX) {
    const series = runs.slice(i, i + CHART_SERIES_MAX)
      .map((r) => ({ runId: r.runId, metricKey: metric }));
    const reply = await lowPriorityJson("/api/v1/query/chart", { projectId, buckets: 1, series });
    for (const entry of reply.series) {
      const values = entry.mode === "raw" ? entry.values : entry.mode === "buckets" ? entry.last : [];
      if (values.length) out.set(entry.runId, values[values.length - 1]);
    }
  }
  return out;
}

/**
 * GET (or, with ``body``, POST) a JSON route at low fetch priority; throws on an HTTP error.
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<any>}
 */
async function lowPriorityJson(path, body) {
  /** @type {RequestInit & {priority: string}} */
  const init = { credentials: "same-origin", priority: "low" };
  if (body) {
    Object.assign(init, { method: "POST", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" } });
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const reply = await response.json().catch(() => null);
    throw new Error(reply?.error?.message ?? `HTTP ${response.status}`);
  }
  return response.json();
}
