// The grid's smoothing: client-side over raw entries that hold the whole series, server-side
// (the chart route's ``smoothing``, ``smoothedOnly``) for bucketed or zoomed entries, so the
// curve always comes from full-resolution points. While a new server curve is on its way the
// previous one stays drawn; slider moves are debounced (a request set once the slider rests
// for DEBOUNCE_MS, one set in flight at a time, a reply for an older value dropped).
import { fetchSeries } from "./fetch.js";
import { smooth, smoothingFromState } from "./smooth.js";

export const DEBOUNCE_MS = 40;

/**
 * @typedef {import("./smooth.js").SmoothingSpec} SmoothingSpec
 * @typedef {{entry: Record<string, any>, spec: string, values: (number|null)[]}} Cached
 */

/**
 * @param {{projectId: string, redraw: (key: string) => void, zoomed: (slot: any) => boolean,
 *   shape: (slot: any) => import("./fetch.js").Shape,
 *   entryOf: (key: string, runId: string) => Record<string, any>|undefined}} deps
 */
export function createSmoother(deps) {
  /** @type {SmoothingSpec|null} */
  let spec = null;
  let specKey = "";
  /** @type {Map<string, Cached>} key|runId → the last curve computed or received */
  const cache = new Map();
  /** @type {Map<string, {slot: any, runIds: Set<string>}>} */
  const queue = new Map();
  /** @type {ReturnType<typeof setTimeout>|null} */
  let timer = null;

  /** The entry covers its whole series at full resolution (the client can smooth it). */
  const local = (/** @type {any} */ slot, /** @type {Record<string, any>} */ entry) =>
    entry.mode === "raw" && !deps.zoomed(slot);

  /**
   * The smoothed curve to draw for ``entry`` (null: none yet, or smoothing is off).
   * @param {string} key @param {any} slot @param {Record<string, any>} entry
   */
  function smoothedFor(key, slot, entry) {
    if (!spec) return null;
    const id = `${key}|${entry.runId}`;
    const cached = cache.get(id);
    if (cached && cached.entry === entry && cached.spec === specKey) return cached.values;
    const length = (entry.mode === "buckets" ? entry.last : entry.values)?.length ?? 0;
    if (local(slot, entry)) {
      const values = smooth(entry.values, spec);
      cache.set(id, { entry, spec: specKey, values });
      return values;
    }
    enqueue(key, slot, entry.runId);
    return cached ? fitLength(cached.values, length) : null;
  }

  /**
   * The request shape that gives ``entry``'s own buckets back. A live-merged bucketed entry
   * keeps the grid it was merged on (``entry.grid``, charts/merge.js): ``2 × cells`` cells over
   * ``[first, first + 2 × span − 1]`` are the same cells, so the server's smoothed values line
   * up with its buckets; any other entry is asked with the chart's own shape.
   * @param {any} slot @param {Record<string, any> | undefined} entry
   */
  function shapeFor(slot, entry) {
    const grid = entry?.mode === "buckets" ? entry.grid : undefined;
    if (!grid || deps.zoomed(slot)) return deps.shape(slot);
    return { buckets: 2 * grid.cells, startStep: grid.first, endStep: grid.first + 2 * grid.span - 1 };
  }

  /** @param {string} key @param {any} slot @param {string} runId */
  function enqueue(key, slot, runId) {
    const item = queue.get(key) ?? { slot, runIds: new Set() };
    item.runIds.add(runId);
    queue.set(key, item);
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(flush, DEBOUNCE_MS); // trailing: once the slider rests
  }

  let inflight = false;
  async function flush() {
    timer = null;
    if (inflight) { // one request set at a time: try again when it is done
      timer = setTimeout(flush, DEBOUNCE_MS);
      return;
    }
    inflight = true;
    try {
      await fetchQueued();
    } finally {
      inflight = false;
    }
  }

  async function fetchQueued() {
    const asked = spec;
    const askedKey = specKey;
    const items = [...queue];
    queue.clear();
    if (!asked) return;
    /** @type {Map<string, {slot: any, refs: {runId: string, metricKey: string}[]}>} */
    const groups = new Map();
    for (const [key, { slot, runIds }] of items) {
      for (const runId of runIds) {
        const shape = shapeFor(slot, deps.entryOf(key, runId));
        const group = groups.get(JSON.stringify(shape)) ?? { shape, refs: [] };
        group.refs.push({ runId, metricKey: key });
        groups.set(JSON.stringify(group.shape), group);
      }
    }
    await Promise.all([...groups.values()].map(async ({ shape: base, refs }) => {
      const shape = { ...base, smoothing: asked, smoothedOnly: true };
      let replies;
      try {
        replies = await fetchSeries(deps.projectId, refs, shape);
      } catch {
        return;
      }
      if (askedKey !== specKey) return; // a newer slider value is on its way
      const touched = new Set();
      replies.forEach((reply, i) => {
        const { runId, metricKey } = refs[i];
        const entry = deps.entryOf(metricKey, runId);
        const length = (entry?.mode === "buckets" ? entry.last : entry?.values)?.length;
        if (!entry || !Array.isArray(reply.smoothed) || reply.smoothed.length !== length) return;
        cache.set(`${metricKey}|${runId}`, { entry, spec: askedKey, values: reply.smoothed });
        touched.add(metricKey);
      });
      for (const key of touched) deps.redraw(key);
    }));
  }

  return {
    smoothedFor,
    spec: () => spec,
    /** @param {string|null} value @param {string} kind */
    setSpec(value, kind) {
      spec = smoothingFromState(value, kind);
      specKey = spec ? JSON.stringify(spec) : "";
    },
    clear() { cache.clear(); queue.clear(); },
  };
}

/**
 * ``values`` cut or padded with gaps (null) to ``length``: a live-merged entry keeps its last
 * smoothed curve drawn, its new buckets blank, until the server's values for them arrive.
 * @param {(number | null)[]} values @param {number} length
 * @returns {(number | null)[]}
 */
export function fitLength(values, length) {
  if (values.length === length) return values;
  if (values.length > length) return values.slice(0, length);
  return values.concat(new Array(length - values.length).fill(null));
}
