// Many runs' live event streams over ONE WebSocket (docs/protocol.md §6.6): the project's
// multiplexed stream. One handshake for every run of a page (Chromium throttles a page's
// concurrent handshakes); each run keeps its own cursor and status exactly as a socket of
// core/socket.js would: a dropped socket reconnects and resubscribes every run from its last
// cursor, so nothing is lost or handed out twice.

/**
 * @typedef {import("./socket.js").StreamStatus} StreamStatus
 * @typedef {import("./socket.js").StreamMessage} StreamMessage
 * @typedef {{
 *   onMessage: (runId: string, message: StreamMessage) => void,
 *   onStatus?: (runId: string, status: StreamStatus, detail: string) => void,
 * }} MuxHandlers
 * @typedef {{
 *   add: (runId: string, cursor: string) => void,
 *   remove: (runId: string) => void,
 *   close: () => void,
 *   status: (runId: string) => StreamStatus | undefined,
 * }} MuxStream
 *   ``add`` subscribes a run (``cursor``: "" = from the start, "tail" = from now on);
 *   ``remove`` unsubscribes it; ``close`` ends the socket.
 */

import { abandon, backoff, keepaliveWatchdog } from "./socket.js";

/** At most this many runs per socket: the collector refuses more (error 4413). */
export const MAX_MUX_RUNS = 100;

/**
 * The WebSocket URL of a project's multiplexed stream on this page's origin.
 * @param {string} projectId
 * @returns {string}
 */
export function projectStreamUrl(projectId) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/api/v1/projects/` +
    `${encodeURIComponent(projectId)}/events/ws`;
}

/**
 * Follow runs of ``projectId`` over one socket until ``close()``. Each run's status goes
 * ``connecting`` → ``replaying`` (subscribed) → ``live`` (its ``replay_done``); a dropped
 * socket turns every open run ``reconnecting`` at once and resubscribes them from their last
 * cursors after a jittered backoff; ``finished`` after the run's ``run_closed``; ``failed``
 * on an error frame for the run or a refused socket (4400-4499 but 4408). The socket opens
 * while at least one run is followed and closes once none is.
 * @param {string} projectId
 * @param {MuxHandlers} handlers
 * @returns {MuxStream}
 */
export function followMany(projectId, handlers) {
  /** @type {Map<string, {cursor: string, status: StreamStatus}>} */
  const runs = new Map();
  /** @type {WebSocket | null} */
  let socket = null;
  let opened = false;
  const retry = backoff();
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;

  /** @param {string} runId @param {StreamStatus} status @param {string} detail */
  const setStatus = (runId, status, detail) => {
    const run = runs.get(runId);
    if (run) run.status = status;
    handlers.onStatus?.(runId, status, detail);
  };
  /** @param {string} runId */
  const subscribe = (runId) => {
    const run = runs.get(runId);
    if (!run || !socket || !opened) return;
    socket.send(JSON.stringify({ type: "subscribe", runId, cursor: run.cursor }));
    setStatus(runId, "replaying", "");
  };
  /** @param {string} runId @param {StreamStatus} status @param {string} detail */
  const end = (runId, status, detail) => {
    setStatus(runId, status, detail);
    runs.delete(runId);
    if (runs.size === 0) closeSocket();
  };
  const watchdog = keepaliveWatchdog(() => {
    if (socket !== null) dropped(abandon(socket), "no message from the collector");
  });
  const closeSocket = () => {
    watchdog.stop();
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const old = socket;
    socket = null;
    opened = false;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.close(1000, "nothing followed");
    }
  };
  /** @param {number} code @param {string} reason */
  const dropped = (code, reason) => {
    socket = null;
    opened = false;
    watchdog.stop();
    if (stopped || runs.size === 0) return;
    if (code >= 4400 && code < 4500 && code !== 4408) {
      for (const runId of [...runs.keys()]) end(runId, "failed", `${code} ${reason}`);
      return;
    }
    for (const runId of runs.keys()) setStatus(runId, "reconnecting", `${code} ${reason}`);
    timer = setTimeout(connect, retry.next());
  };
  /** @param {StreamMessage} message */
  const received = (message) => {
    watchdog.seen(message);
    const runId = message.runId;
    const run = runId ? runs.get(runId) : undefined;
    if (!run) return; // keepalive, a frame of a run just removed, or an error without run
    if (message.type === "error") return end(runId, "failed", `${message.code} ${message.message}`);
    if (message.type === "run_closed") return end(runId, "finished", message.reason);
    if (message.cursor) run.cursor = message.cursor;
    if (message.type === "replay_done") {
      retry.reset();
      setStatus(runId, "live", "");
    }
    handlers.onMessage(runId, message);
  };
  const connect = () => {
    timer = null;
    if (stopped || socket || runs.size === 0) return;
    const ws = new WebSocket(projectStreamUrl(projectId));
    socket = ws;
    ws.onopen = () => {
      opened = true;
      watchdog.seen(null);
      for (const runId of runs.keys()) subscribe(runId);
    };
    ws.onmessage = (event) => received(JSON.parse(event.data));
    ws.onclose = (event) => dropped(event.code, event.reason);
  };
  return {
    add: (runId, cursor) => {
      if (stopped || runs.has(runId)) return;
      runs.set(runId, { cursor, status: "connecting" });
      setStatus(runId, "connecting", "");
      if (opened) subscribe(runId);
      else if (timer === null) connect();
    },
    remove: (runId) => {
      if (!runs.delete(runId)) return;
      if (opened) socket?.send(JSON.stringify({ type: "unsubscribe", runId }));
      if (runs.size === 0) closeSocket();
    },
    close: () => {
      stopped = true;
      runs.clear();
      closeSocket();
    },
    status: (runId) => runs.get(runId)?.status,
  };
}
