// One run's live event stream (docs/protocol.md §6) for the browser: the session cookie
// authenticates the WebSocket, a dropped socket reconnects with the last cursor it saw (so
// nothing is replayed twice or lost), and the stream's status says whether what the page
// shows is live.

/**
 * @typedef {"connecting" | "replaying" | "live" | "reconnecting" | "finished" | "failed"
 *   } StreamStatus
 *   ``live`` only after the server's ``replay_done``; ``reconnecting`` as soon as a socket
 *   drops (the page must not show stale data as live); ``finished`` after the server closed
 *   with 1000 (run terminal); ``failed`` on a refusal (4401/4403/4404/4400). A socket that
 *   stays silent for 2.5 keepalive intervals of its collector (docs/protocol.md §6.4) counts
 *   as dropped. ``keepalive`` frames are not passed to ``onMessage``.
 * @typedef {{type: string, runId: string, cursor: string, [field: string]: any}} StreamMessage
 * @typedef {{
 *   onMessage: (message: StreamMessage) => void,
 *   onStatus?: (status: StreamStatus, detail: string) => void,
 * }} StreamHandlers
 * @typedef {{close: () => void, status: () => StreamStatus, cursor: () => string}} RunStream
 */

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;
const SILENT_KEEPALIVES = 2.5; // keepalive intervals without any message before a socket is dead

/**
 * At most this many of the page's sockets are in their opening handshake at once; the others
 * wait their turn. Chromium delays each new WebSocket of a page by a random 1–5 s scaled by
 * 2^(handshakes pending) / 65,536: about a millisecond at 4, up to 1.25 s at 14, 1–5 s from 16.
 * Twenty sockets opened together took up to 5 s to go live; four at a time, milliseconds.
 */
export const MAX_OPENING_SOCKETS = 6;
let opening = 0;
/** @type {(() => void)[]} handshakes waiting for a slot, in order */
const openQueue = [];

/**
 * Run ``start`` once fewer than MAX_OPENING_SOCKETS handshakes are open, in call order. It
 * gets ``done``, to call when its handshake ends (opened, refused, dropped or given up);
 * calls after the first are ignored.
 * @param {(done: () => void) => void} start
 */
function whenHandshakeSlot(start) {
  const run = () => {
    opening += 1;
    let released = false;
    start(() => {
      if (released) return;
      released = true;
      opening -= 1;
      const next = openQueue.shift();
      if (next) next();
    });
  };
  if (opening < MAX_OPENING_SOCKETS) run();
  else openQueue.push(run);
}

/**
 * A socket's keepalive watchdog: call ``seen(message)`` on open (``null``) and after every
 * message (a ``keepalive`` teaches it the collector's interval), ``stop()`` once the socket is
 * gone. ``onSilent`` runs when a socket whose collector sends keepalives stayed silent for
 * SILENT_KEEPALIVES intervals (plus a second): dead, even if the browser has not noticed.
 * @param {() => void} onSilent
 * @returns {{seen: (message: {type?: string, intervalMs?: unknown} | null) => void,
 *   stop: () => void}}
 */
export function keepaliveWatchdog(onSilent) {
  let keepaliveMs = 0; // the server's keepalive interval, once it sent one
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  const stop = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return {
    seen: (message) => {
      if (message?.type === "keepalive") keepaliveMs = Number(message.intervalMs) || 0;
      stop();
      if (keepaliveMs > 0) timer = setTimeout(onSilent, keepaliveMs * SILENT_KEEPALIVES + 1000);
    },
    stop,
  };
}

/**
 * Stop listening to a socket judged dead and close it; returns 4000, the code the caller
 * treats the drop as (retried, like any drop the browser saw).
 * @param {WebSocket} dead
 * @returns {number}
 */
export function abandon(dead) {
  dead.onclose = null;
  dead.onmessage = null;
  dead.close();
  return 4000;
}

/**
 * Jittered exponential backoff for reconnects: ``next()`` the delay before the next attempt
 * (RETRY_FIRST_MS doubling up to RETRY_MAX_MS, times 0.5-1.5), ``reset()`` once live again.
 * @returns {{next: () => number, reset: () => void}}
 */
export function backoff() {
  let retryMs = RETRY_FIRST_MS;
  return {
    next: () => {
      const delay = retryMs * (0.5 + Math.random());
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      return delay;
    },
    reset: () => {
      retryMs = RETRY_FIRST_MS;
    },
  };
}

/**
 * The WebSocket URL of a run's stream on this page's origin.
 * @param {string} runId
 * @param {string} projectId
 * @param {string} cursor "" = from the start; "tail" = only what is committed from now on
 * @returns {string}
 */
export function streamUrl(runId, projectId, cursor) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const query = new URLSearchParams({ projectId });
  if (cursor) query.set("cursor", cursor);
  return `${scheme}//${window.location.host}/api/v1/runs/${encodeURIComponent(runId)}` +
    `/events/ws?${query}`;
}

/**
 * Follow a run's stream until ``close()``, the run finishes, or the server refuses it.
 * Reconnects after a drop with jittered exponential backoff, resuming from the last cursor.
 * @param {string} runId
 * @param {string} projectId
 * @param {string} cursor where to start ("" = the start, or a cursor from an earlier read)
 * @param {StreamHandlers} handlers
 * @returns {RunStream}
 */
export function followRun(runId, projectId, cursor, handlers) {
  /** @type {StreamStatus} */
  let status = "connecting";
  let lastCursor = cursor;
  const retry = backoff();
  let stopped = false;
  /** @type {WebSocket | null} */
  let socket = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let endHandshake = () => {}; // frees this stream's handshake slot (no-op once freed)

  /** @param {StreamStatus} next @param {string} detail */
  const setStatus = (next, detail) => {
    status = next;
    handlers.onStatus?.(next, detail);
  };
  // A server that sends keepalives has gone silent for too long: the socket is dead even if
  // the browser has not noticed; drop it and reconnect rather than show stale data as live.
  const watchdog = keepaliveWatchdog(() => {
    if (socket !== null) dropped(abandon(socket), "no message from the collector");
  });
  /** @param {number} code @param {string} reason */
  const dropped = (code, reason) => {
    socket = null;
    watchdog.stop();
    if (stopped) return;
    if (code === 1000) return setStatus("finished", reason);
    if (code >= 4400 && code < 4500 && code !== 4408) {
      return setStatus("failed", `${code} ${reason}`);
    }
    setStatus("reconnecting", `${code} ${reason}`);
    timer = setTimeout(connect, retry.next());
  };
  const connect = () => whenHandshakeSlot((done) => {
    endHandshake = done;
    if (stopped) return done();
    socket = new WebSocket(streamUrl(runId, projectId, lastCursor));
    socket.onopen = () => {
      done();
      setStatus("replaying", "");
      watchdog.seen(null);
    };
    socket.onmessage = (event) => {
      /** @type {StreamMessage} */
      const message = JSON.parse(event.data);
      watchdog.seen(message);
      if (message.type === "keepalive") return;
      if (message.cursor) lastCursor = message.cursor;
      if (message.type === "replay_done") {
        retry.reset();
        setStatus("live", "");
      }
      handlers.onMessage(message);
    };
    socket.onclose = (event) => {
      done();
      dropped(event.code, event.reason);
    };
  });
  setStatus("connecting", "");
  connect();
  return {
    close: () => {
      stopped = true;
      endHandshake();
      watchdog.stop();
      if (timer !== null) clearTimeout(timer);
      socket?.close(1000, "page closed");
    },
    status: () => status,
    cursor: () => lastCursor,
  };
}
