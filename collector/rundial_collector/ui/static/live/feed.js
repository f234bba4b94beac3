// Following several runs' live streams for a page (docs/ui.md, "Live updates"): one socket per
// running run, from now on (``cursor=tail``: no history replay), each message handed out
// exactly once even across reconnects.

import { followMany, MAX_MUX_RUNS } from "../core/muxsocket.js";
import { followRun } from "../core/socket.js";

/**
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {import("../charts/merge.js").TailPoints} TailPoints
 * @typedef {import("../core/socket.js").StreamStatus | "idle"} FeedStatus
 *   ``idle``: the run is running but not followed (more than MAX_SOCKETS running runs).
 * @typedef {{
 *   onPoints?: (runId: string, key: string, points: TailPoints) => void,
 *   onLogs?: (runId: string, lines: any[]) => void,
 *   onSpans?: (runId: string, spans: any[]) => void,
 *   onState?: (runId: string, state: any) => void,
 *   onStatus?: (runId: string, status: FeedStatus, detail: string) => void,
 * }} FeedHandlers
 * @typedef {{close: () => void, update: (runs: RunRef[]) => void}} Feed
 *   ``update`` follows a new selection: sockets of runs still followed stay open (nothing of
 *   theirs is missed), new runs start from now, runs no longer followed are closed.
 */

/** At most this many sockets per page: a browser allows only so many per host. */
export const MAX_SOCKETS = 20;

/** At most this many runs on the one multiplexed socket of followProjectRuns. */
export const MAX_MUX_FOLLOWED = MAX_MUX_RUNS;

/** Run statuses that still stream (``lost`` may come back to ``running``). */
const FOLLOWED_STATUSES = new Set(["running", "lost"]);

/**
 * Which runs get a socket: the running ones, most recently started first, at most
 * ``max`` (MAX_SOCKETS); ``skipped`` are not running, ``over`` are running past the cap. Pure.
 * @param {RunRef[]} runs
 * @param {number} [max]
 * @returns {{followed: RunRef[], skipped: RunRef[], over: RunRef[]}}
 */
export function pickFollowed(runs, max = MAX_SOCKETS) {
  const running = runs.filter((r) => FOLLOWED_STATUSES.has(r.status));
  const skipped = runs.filter((r) => !FOLLOWED_STATUSES.has(r.status));
  running.sort((a, b) => (b.startedAtMs ?? 0) - (a.startedAtMs ?? 0));
  return { followed: running.slice(0, max), skipped, over: running.slice(max) };
}

/**
 * Hand one stream message to the handlers: metrics per series, logs, spans, state.
 * @param {string} runId
 * @param {Record<string, any>} message
 * @param {FeedHandlers} handlers
 */
export function dispatch(runId, message, handlers) {
  switch (message.type) {
    case "metrics":
      for (const s of message.series) {
        handlers.onPoints?.(runId, s.metricKey,
          { steps: s.steps, timestampsMs: s.timestampsMs, values: s.values });
      }
      break;
    case "logs":
      handlers.onLogs?.(runId, message.lines);
      break;
    case "spans":
      handlers.onSpans?.(runId, message.spans);
      break;
    case "state":
      handlers.onState?.(runId, message);
      break;
    default:
      break; // replay_done and types a newer collector adds
  }
}

/**
 * Follow ``runs``' streams from now on (no history replay) until ``close()``.
 *
 * Only running (or ``lost``) runs get a socket, at most MAX_SOCKETS (the most recently
 * started); the others get one ``onStatus``: ``finished`` ("not running") or ``idle``. A
 * dropped socket reports ``reconnecting`` at once, reconnects with its last cursor and replays
 * what it missed; replayed messages are held until that replay is complete (``replay_done``)
 * and dropped if the socket fails again mid-replay (the server resends them from the same
 * cursor), so every point is handed out once. ``finished`` once the run ends (after its last
 * points and final state), ``failed`` on a refusal.
 * @param {string} projectId
 * @param {RunRef[]} runs
 * @param {FeedHandlers} handlers
 * @returns {Feed}
 */
export function followRuns(projectId, runs, handlers) {
  return followSet(runs, handlers, MAX_SOCKETS, (runId) => followOne(projectId, runId, handlers));
}

/**
 * :func:`followRuns` over ONE socket for all of ``runs`` (the project's multiplexed stream,
 * docs/protocol.md §6.6): at most MAX_MUX_FOLLOWED runs, one handshake for all of them; each
 * run's statuses, replays and resumes are those of its own socket under followRuns.
 * @param {string} projectId
 * @param {RunRef[]} runs
 * @param {FeedHandlers} handlers
 * @returns {Feed}
 */
export function followProjectRuns(projectId, runs, handlers) {
  /** @type {Map<string, ReturnType<typeof replayGate>>} */
  const gates = new Map();
  const mux = followMany(projectId, {
    onMessage: (runId, message) => gates.get(runId)?.onMessage(message),
    onStatus: (runId, status, detail) => gates.get(runId)?.onStatus(status, detail),
  });
  const feed = followSet(runs, handlers, MAX_MUX_FOLLOWED, (runId) => {
    gates.set(runId, replayGate(runId, handlers));
    mux.add(runId, "tail");
    return {
      close: () => {
        mux.remove(runId);
        gates.delete(runId);
      },
    };
  });
  return {
    close: () => {
      feed.close();
      mux.close();
    },
    update: feed.update,
  };
}

/**
 * Keep one stream per followed run of the selection (``open`` makes one).
 * @param {RunRef[]} runs
 * @param {FeedHandlers} handlers
 * @param {number} max
 * @param {(runId: string) => {close: () => void}} open
 * @returns {Feed}
 */
function followSet(runs, handlers, max, open) {
  /** @type {Map<string, {close: () => void}>} */
  const streams = new Map();
  /** @param {RunRef[]} next */
  const update = (next) => {
    const { followed, skipped, over } = pickFollowed(next, max);
    const keep = new Set(followed.map((r) => r.runId));
    for (const [runId, stream] of streams) {
      if (!keep.has(runId)) {
        stream.close();
        streams.delete(runId);
      }
    }
    for (const run of skipped) handlers.onStatus?.(run.runId, "finished", "not running");
    for (const run of over) {
      handlers.onStatus?.(run.runId, "idle", `live updates follow at most ${max} runs`);
    }
    for (const run of followed) {
      if (!streams.has(run.runId)) streams.set(run.runId, open(run.runId));
    }
  };
  update(runs);
  return {
    close: () => {
      streams.forEach((s) => s.close());
      streams.clear();
    },
    update,
  };
}

/**
 * @param {string} projectId
 * @param {string} runId
 * @param {FeedHandlers} handlers
 */
function followOne(projectId, runId, handlers) {
  return followRun(runId, projectId, "tail", replayGate(runId, handlers));
}

/**
 * One run's message and status handling: replayed messages are held until ``replay_done``
 * and dropped when the stream drops mid-replay (the server resends them from the same cursor).
 * @param {string} runId
 * @param {FeedHandlers} handlers
 */
function replayGate(runId, handlers) {
  /** @type {Record<string, any>[]} */
  let held = [];
  return {
    /** @param {Record<string, any>} message */
    onMessage: (message) => {
      if (message.replay === true) {
        held.push(message);
        return;
      }
      if (message.type === "replay_done") {
        const replayed = held;
        held = [];
        replayed.forEach((m) => dispatch(runId, m, handlers));
      }
      dispatch(runId, message, handlers);
    },
    /** @param {FeedStatus} status @param {string} detail */
    onStatus: (status, detail) => {
      if (status === "reconnecting" || status === "failed") held = [];
      handlers.onStatus?.(runId, status, detail);
    },
  };
}
