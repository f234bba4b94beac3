// Lazy, batched chart fetching for the grid: a chart is fetched once it is near the view
// (IntersectionObserver), and every chart due at the same moment goes into one set of chart
// requests per chart width and step range (fetch.js cuts them to the route's bounds).
import { bucketCount, fetchSeries } from "./fetch.js";

/**
 * @typedef {import("./grid.js").Slot} Slot
 * @typedef {import("./grid.js").StepRange} StepRange
 */

/**
 * @param {{projectId: string, slots: Map<string, Slot>, runIds: () => string[],
 *   rangeOf: (slot: Slot) => StepRange|null, draw: (key: string) => void,
 *   generation: () => number, onState: (state: "loading"|"ready") => void,
 *   onError: (message: string) => void, live: LiveReads}} deps
 * @typedef {{inWaves: (runIds: string[], read: (ids: string[]) => Promise<void>) => Promise<void>,
 *   begin: (keys: string[], runIds: string[]) => number,
 *   settle: (key: string, runId: string, entry: Record<string, any>, buckets: number,
 *     token: number) => Record<string, any>|null,
 *   end: (keys: string[], runIds: string[], token: number) => void}} LiveReads
 *   The live protocol of a read (charts/live.js): read each run once its socket is live,
 *   buffer its points during the read and merge them into what the read returns.
 */
export function createLoader(deps) {
  const { slots } = deps;
  const observer = new IntersectionObserver((seen) => {
    for (const item of seen) {
      const slot = slots.get(/** @type {HTMLElement} */ (item.target).dataset.key ?? "");
      if (!slot) continue;
      slot.visible = item.isIntersecting;
      if (slot.visible) request();
    }
  }, { rootMargin: "300px" });

  let pending = false;
  /** Fetch (soon, once) every visible chart whose data is missing or stale. */
  function request() {
    if (pending) return;
    pending = true;
    queueMicrotask(() => { pending = false; void fetchVisible(); });
  }

  /** The data a chart shows: its runs and step range. @param {Slot} slot */
  const sigOf = (slot) => `${[...deps.runIds()].sort().join(",")}|` +
    JSON.stringify(deps.rangeOf(slot));

  async function fetchVisible() {
    const due = [...slots].filter(([, s]) => s.visible && s.sig !== sigOf(s));
    if (!due.length) return;
    /** @type {Map<string, {buckets: number, range: StepRange|null, keys: string[]}>} */
    const groups = new Map();
    for (const [key, slot] of due) {
      slot.sig = sigOf(slot);
      slot.buckets = slot.chart.width();
      slot.chart.setLoading();
      const range = deps.rangeOf(slot);
      const id = `${slot.buckets}|${JSON.stringify(range)}`;
      const group = groups.get(id) ?? { buckets: slot.buckets, range, keys: [] };
      group.keys.push(key);
      groups.set(id, group);
    }
    deps.onState("loading");
    const mine = deps.generation();
    const runIds = deps.runIds();
    await Promise.all([...groups.values()].map(async ({ buckets, range, keys }) => {
      const sigs = new Map(keys.map((key) => [key, slots.get(key)?.sig]));
      const current = (/** @type {string} */ key) => slots.get(key)?.sig === sigs.get(key);
      /** One wave: the charts of ``keys`` for the runs ``ids``. @param {string[]} ids */
      const read = async (ids) => {
        if (mine !== deps.generation()) return;
        const refs = keys.flatMap((metricKey) => ids.map((runId) => ({ runId, metricKey })));
        const token = deps.live.begin(keys, ids);
        try {
          const entries = await fetchSeries(deps.projectId, refs, { buckets, ...(range ?? {}) });
          if (mine !== deps.generation()) return;
          entries.forEach((entry, i) => {
            const { runId, metricKey } = refs[i];
            const merged = current(metricKey) &&
              deps.live.settle(metricKey, runId, entry, bucketCount(buckets), token);
            if (merged) slots.get(metricKey)?.entries.set(runId, merged);
          });
        } finally {
          deps.live.end(keys, ids, token);
        }
      };
      try {
        await deps.live.inWaves(runIds, read);
        if (mine === deps.generation()) for (const key of keys) if (current(key)) deps.draw(key);
      } catch (err) {
        deps.onError(/** @type {Error} */ (err).message);
      }
    }));
    if (mine === deps.generation()) deps.onState("ready");
  }

  /**
   * Mark the charts already near the view as visible, without waiting a frame for the
   * observer (the first fetch goes out at once); hidden charts (zero size) stay unmarked.
   */
  function markInView() {
    const margin = 300;
    for (const slot of slots.values()) {
      if (slot.visible) continue;
      const box = slot.chart.root.getBoundingClientRect();
      slot.visible = box.width > 0 && box.top < window.innerHeight + margin &&
        box.bottom > -margin;
    }
  }

  return {
    request,
    markInView,
    /** @param {Element} el */
    observe: (el) => observer.observe(el),
    /** @param {Element} el */
    unobserve: (el) => observer.unobserve(el),
    disconnect: () => observer.disconnect(),
  };
}
