// The grid's live part (docs/ui.md, "Live updates"): follow the selected running runs' feeds,
// make every chart read wait for its runs' first ``live`` and buffer their points meanwhile,
// merge the buffer (dropCovered, then mergeTail with the buckets the entry was read with) and
// every later tail point into the chart's entry, refetch a chart whose entry comes back
// ``stale``, and show one ``.live-status[data-status]`` for the grid (the least live feed's).
import { followRuns } from "../live/feed.js";
import { mountLiveStatus } from "../live/status.js";
import { dropCovered, mergeTail } from "./merge.js";

/**
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {import("./merge.js").TailPoints} TailPoints
 * @typedef {import("./grid.js").Slot} Slot
 * @typedef {import("./grid.js").StepRange} StepRange
 * @typedef {{slots: Map<string, Slot>, rangeOf: (slot: Slot) => StepRange|null,
 *   draw: (key: string) => void, refetch: (key: string|null) => void,
 *   onNewKey: (key: string) => void}} LiveDeps
 *   ``refetch(key)`` reads that chart again (null: every chart); ``onNewKey`` a key the grid
 *   does not chart yet arrived live.
 */

/** How long a read waits for its runs' sockets to be live before reading anyway. */
export const READY_WAIT_MS = 3000;

/** Statuses after which a run's read need not wait any longer. */
const SETTLED = new Set(["live", "finished", "failed", "idle"]);

/**
 * ``points`` inside ``range`` (all of them when null). Pure.
 * @param {TailPoints} points
 * @param {StepRange|null} range
 * @returns {TailPoints}
 */
export function pointsInRange(points, range) {
  if (!range) return points;
  const keep = points.steps.map((s) => s >= range.startStep && s <= range.endStep);
  const pick = (/** @type {any[]} */ a) => a.filter((_v, i) => keep[i]);
  return { steps: pick(points.steps), timestampsMs: pick(points.timestampsMs),
    values: pick(points.values) };
}

/**
 * Points in commit order, one batch. Pure.
 * @param {TailPoints[]} batches
 * @returns {TailPoints}
 */
export function concatPoints(batches) {
  return { steps: batches.flatMap((b) => b.steps),
    timestampsMs: batches.flatMap((b) => b.timestampsMs), values: batches.flatMap((b) => b.values) };
}

/**
 * @param {HTMLElement} holder where the status badge goes
 * @param {string} projectId
 * @param {LiveDeps} deps
 */
export function createLiveCharts(holder, projectId, deps) {
  /** @type {import("../live/feed.js").Feed|null} */
  let feed = null;
  /** @type {Map<string, string>} the followed runs' feed statuses */
  const statuses = new Map();
  /** @type {Map<string, ReturnType<typeof waiter>>} */
  const ready = new Map();
  /** @type {Map<string, {token: number, buffers: Map<string, TailPoints[]>}>} reads in flight */
  const reads = new Map();
  /** @type {WeakMap<object, number>} entry → the bucket count it was read with */
  const bucketsOf = new WeakMap();
  let readToken = 0;
  /** @type {Set<string>} runs some chart has been read for */
  const readRuns = new Set();
  let badge = mountLiveStatus(holder);

  /**
   * A promise resolved at a run's first settled status (or after READY_WAIT_MS). ``late``: the
   * run's charts were read before its socket was opened (a run first known only by its id).
   * @param {boolean} late
   */
  function waiter(late) {
    /** @type {() => void} */
    let resolve = () => {};
    const promise = new Promise((/** @type {() => void} */ r) => { resolve = r; });
    const item = { promise, resolve, timedOut: late, settled: false };
    setTimeout(() => {
      if (item.settled) return;
      item.timedOut = true;
      resolve();
    }, READY_WAIT_MS);
    return item;
  }

  /** @param {string} runId @param {string} status @param {string} detail */
  function onStatus(runId, status, detail) {
    const before = statuses.get(runId);
    statuses.set(runId, status);
    badge.set(runId, /** @type {any} */ (status), detail);
    const wait = ready.get(runId);
    if (wait && SETTLED.has(status)) {
      // a read made before the socket was live (it timed out, or came first) may have missed points
      if (wait.timedOut && status === "live" && before !== "live") deps.refetch(null);
      wait.timedOut = false;
      wait.settled = true;
      wait.resolve();
    }
    // a finished run's charts are read once more, exact (no merged tail, no stale bucket)
    if (status === "finished" && before !== undefined && before !== "finished") deps.refetch(null);
  }

  /**
   * Merge ``points`` into one chart's entry of ``runId`` and redraw it (no fetch); a stale
   * result is drawn and that chart read again.
   * @param {string} key @param {string} runId @param {TailPoints} points
   */
  function apply(key, runId, points) {
    const slot = deps.slots.get(key);
    const entry = slot?.entries.get(runId);
    const buckets = entry ? bucketsOf.get(entry) : undefined;
    if (!slot || !entry || buckets === undefined) return;
    const tail = pointsInRange(points, deps.rangeOf(slot));
    if (!tail.steps.length) return;
    const merged = mergeTail(entry, tail, buckets);
    bucketsOf.set(merged, buckets);
    slot.entries.set(runId, merged);
    deps.draw(key);
    if (merged.stale) deps.refetch(key);
  }

  /** @param {string} runId @param {string} key @param {TailPoints} points */
  function onPoints(runId, key, points) {
    if (!deps.slots.has(key)) {
      deps.onNewKey(key);
      return; // its first read holds these points
    }
    reads.get(key)?.buffers.get(runId)?.push(points);
    apply(key, runId, points);
  }

  return {
    /** Follow the running ones of ``runs`` (sockets of runs still followed stay open). @param {RunRef[]} runs */
    follow(runs) {
      const ids = new Set(runs.map((r) => r.runId));
      for (const runId of [...statuses.keys()]) if (!ids.has(runId)) statuses.delete(runId);
      for (const runId of [...ready.keys()]) if (!ids.has(runId)) ready.delete(runId);
      for (const r of runs) {
        if (!ready.has(r.runId) && (r.status === "running" || r.status === "lost")) {
          ready.set(r.runId, waiter(readRuns.has(r.runId)));
        }
      }
      holder.replaceChildren(); // a badge for the runs shown now
      badge = mountLiveStatus(holder);
      for (const [runId, status] of statuses) badge.set(runId, /** @type {any} */ (status), "");
      if (feed) feed.update(runs);
      else feed = followRuns(projectId, runs, { onPoints, onStatus });
    },
    /** Resolves once each of ``runIds`` is live (or not followed, or after READY_WAIT_MS). @param {string[]} runIds */
    async whenLive(runIds) {
      await Promise.all(runIds.map((id) => ready.get(id)?.promise));
    },
    /**
     * A chart read of ``keys`` starts now: buffer their live points until ``settle``/``end``.
     * @param {string[]} keys @param {string[]} runIds @returns {number} the read's token
     */
    begin(keys, runIds) {
      readToken += 1;
      for (const id of runIds) readRuns.add(id);
      for (const key of keys) {
        reads.set(key, { token: readToken, buffers: new Map(runIds.map((id) => [id, []])) });
      }
      return readToken;
    },
    /**
     * The entry a read returned, with the points buffered during the read merged in.
     * @param {string} key @param {string} runId @param {Record<string, any>} entry
     * @param {number} buckets the bucket count the entry was read with
     * @returns {Record<string, any>}
     */
    settle(key, runId, entry, buckets) {
      const slot = deps.slots.get(key);
      const buffered = concatPoints(reads.get(key)?.buffers.get(runId) ?? []);
      const tail = pointsInRange(dropCovered(entry, buffered), slot ? deps.rangeOf(slot) : null);
      const merged = tail.steps.length ? mergeTail(entry, tail, buckets) : entry;
      bucketsOf.set(merged, buckets);
      if (merged.stale) queueMicrotask(() => deps.refetch(key));
      return merged;
    },
    /** The read of ``keys`` with ``token`` is over. @param {string[]} keys @param {number} token */
    end(keys, token) {
      for (const key of keys) if (reads.get(key)?.token === token) reads.delete(key);
    },
    onPoints,
    close() {
      feed?.close();
      feed = null;
    },
  };
}
