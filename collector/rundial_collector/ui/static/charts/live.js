// The grid's live part (docs/ui.md, "Live updates"): follow the selected running runs' feeds,
// read each run's charts once its feed is first ``live`` (runs in waves, as their sockets go
// live) and buffer their points meanwhile,
// merge the buffer (dropCovered, then mergeTail with the buckets the entry was read with) and
// every later tail point into the chart's entry, refetch a chart whose entry comes back
// ``stale``, and show one ``.live-status[data-status]`` for the grid (the least live feed's).
import { followProjectRuns } from "../live/feed.js";
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

/** Run statuses that are followed live. */
const FOLLOWED = new Set(["running", "lost"]);

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
  /** @type {Map<string, Map<string, Map<number, TailPoints[]>>>} key → run → read token → the
   *  points buffered for that read of the chart and run, while it is in flight */
  const reads = new Map();
  /** @type {Map<string, number>} key + NUL + run → the token of the newest read settled */
  const settledRead = new Map();
  /** @type {WeakMap<object, number>} entry → the bucket count it was read with */
  const bucketsOf = new WeakMap();
  let readToken = 0;
  /** @type {Set<string>} runs some chart has been read for */
  const readRuns = new Set();
  /** @type {Set<string>} runs known only by their id (their status is being looked up) */
  const unknown = new Set();
  /** @type {Set<string>} runs followed because they are running (or lost) */
  const running = new Set();
  let badge = mountLiveStatus(holder);

  /**
   * A promise resolved at a run's first settled status (or after READY_WAIT_MS: ``expired``).
   * ``timedOut``: the run's charts were read before its socket was live (``late``: before it
   * was even opened, a run first known only by its id), so they are read again once it is.
   * @param {boolean} late
   */
  function waiter(late) {
    /** @type {() => void} */
    let resolve = () => {};
    const promise = new Promise((/** @type {() => void} */ r) => { resolve = r; });
    const item = { promise, resolve, timedOut: late, settled: false, expired: false };
    setTimeout(() => {
      if (item.settled) return;
      item.timedOut = true;
      item.expired = true;
      resolve();
    }, READY_WAIT_MS);
    return item;
  }

  /** A read of ``runId`` must still wait for its socket. @param {string} runId */
  function mustWait(runId) {
    const wait = ready.get(runId);
    return wait !== undefined && !wait.settled && !wait.expired;
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
    for (const batches of reads.get(key)?.get(runId)?.values() ?? []) batches.push(points);
    apply(key, runId, points);
  }

  return {
    /** Follow the running ones of ``runs`` (sockets of runs still followed stay open). @param {RunRef[]} runs */
    follow(runs) {
      const ids = new Set(runs.map((r) => r.runId));
      for (const runId of [...statuses.keys()]) if (!ids.has(runId)) statuses.delete(runId);
      for (const runId of [...ready.keys()]) if (!ids.has(runId)) ready.delete(runId);
      unknown.clear();
      running.clear();
      for (const r of runs) {
        if (FOLLOWED.has(r.status)) running.add(r.runId);
        // a run known only by its id may be running: its reads wait until its status is known
        if (r.status === "unknown") unknown.add(r.runId);
        if (!ready.has(r.runId) && (unknown.has(r.runId) || FOLLOWED.has(r.status))) {
          ready.set(r.runId, waiter(readRuns.has(r.runId)));
        }
      }
      holder.replaceChildren(); // a badge for the runs shown now
      badge = mountLiveStatus(holder);
      for (const [runId, status] of statuses) badge.set(runId, /** @type {any} */ (status), "");
      const known = runs.filter((r) => !unknown.has(r.runId));
      if (feed) feed.update(known);
      else feed = followProjectRuns(projectId, known, { onPoints, onStatus });
    },
    /** The look-up of ``runIds`` is over: those still unknown are not followed. @param {string[]} runIds */
    lookedUp(runIds) {
      for (const id of runIds) if (unknown.has(id)) onStatus(id, "finished", "unknown run");
    },
    /** Resolves once each of ``runIds`` is live (or not followed, or after READY_WAIT_MS). @param {string[]} runIds */
    async whenLive(runIds) {
      await Promise.all(runIds.map((id) => ready.get(id)?.promise));
    },
    /** Those of ``runIds`` not known to be live (unfollowed runs included). @param {string[]} runIds */
    unsettled: (/** @type {string[]} */ runIds) => runIds.filter((id) => !ready.get(id)?.settled),
    /** Whether ``runId`` is followed (it is running). @param {string} runId */
    followed: (/** @type {string} */ runId) => running.has(runId),
    /**
     * Call ``read(ids)`` for ``runIds`` in waves, each run once its socket is live: at once for
     * the runs that need no wait (not followed, already live, or waited for READY_WAIT_MS),
     * then for the others as their sockets go live (runs that go live together share a call),
     * so one slow socket delays only its own run's read. Resolves once every read has;
     * rejects with the first failure.
     * @param {string[]} runIds @param {(ids: string[]) => Promise<void>} read
     */
    async inWaves(runIds, read) {
      /** @type {Promise<void>[]} */
      const waves = [];
      let rest = runIds;
      while (rest.length) {
        const now = rest.filter((id) => !mustWait(id));
        rest = rest.filter(mustWait);
        if (now.length) {
          const wave = read(now);
          wave.catch(() => {}); // reported by the Promise.all below
          waves.push(wave);
        }
        if (rest.length) await Promise.race(rest.map((id) => ready.get(id)?.promise));
      }
      await Promise.all(waves);
    },
    /**
     * A chart read of ``keys`` × ``runIds`` starts now: buffer their live points until
     * ``settle``/``end``.
     * @param {string[]} keys @param {string[]} runIds @returns {number} the read's token
     */
    begin(keys, runIds) {
      readToken += 1;
      for (const id of runIds) readRuns.add(id);
      for (const key of keys) {
        const runs = reads.get(key) ?? new Map();
        for (const id of runIds) runs.set(id, (runs.get(id) ?? new Map()).set(readToken, []));
        reads.set(key, runs);
      }
      return readToken;
    },
    /**
     * The entry a read returned, with the points buffered during the read merged in; null
     * when a newer read of that chart and run has settled already (keep that one: it may
     * hold tail points this older read would drop).
     * @param {string} key @param {string} runId @param {Record<string, any>} entry
     * @param {number} buckets the bucket count the entry was read with
     * @param {number} token the read's (from ``begin``)
     * @returns {Record<string, any>|null}
     */
    settle(key, runId, entry, buckets, token) {
      const id = `${key}\u0000${runId}`;
      if ((settledRead.get(id) ?? 0) > token) return null;
      settledRead.set(id, token);
      const slot = deps.slots.get(key);
      const buffered = concatPoints(reads.get(key)?.get(runId)?.get(token) ?? []);
      const tail = pointsInRange(dropCovered(entry, buffered), slot ? deps.rangeOf(slot) : null);
      const merged = tail.steps.length ? mergeTail(entry, tail, buckets) : entry;
      bucketsOf.set(merged, buckets);
      if (merged.stale) queueMicrotask(() => deps.refetch(key));
      return merged;
    },
    /**
     * The read of ``keys`` × ``runIds`` with ``token`` is over.
     * @param {string[]} keys @param {string[]} runIds @param {number} token
     */
    end(keys, runIds, token) {
      for (const key of keys) {
        const runs = reads.get(key);
        for (const id of runIds) {
          runs?.get(id)?.delete(token);
          if (runs?.get(id)?.size === 0) runs.delete(id);
        }
        if (runs?.size === 0) reads.delete(key);
      }
    },
    onPoints,
    close() {
      feed?.close();
      feed = null;
    },
  };
}
