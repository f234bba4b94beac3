// One run's live event stream (docs/protocol.md §6) for the browser: the session cookie
// authenticates the WebSocket, a dropped socket reconnects with the last cursor it saw (so
// nothing is replayed twice or lost), and the stream's status says whether what the page
// shows is live.

/**
 * @typedef {"connecting" | "replaying" | "live" | "reconnecting" | "finished" | "failed"
 *   } StreamStatus
 *   ``live`` only after the server's ``replay_done``; ``reconnecting`` as soon as a socket
 *   drops (the page must not show stale data as live); ``finished`` after the server closed
 *   with 1000 (run terminal); ``failed`` on a refusal (4401/4403/4404/4400).
 * @typedef {{type: string, runId: string, cursor: string, [field: string]: any}} StreamMessage
 * @typedef {{
 *   onMessage: (message: StreamMessage) => void,
 *   onStatus?: (status: StreamStatus, detail: string) => void,
 * }} StreamHandlers
 * @typedef {{close: () => void, status: () => StreamStatus, cursor: () => string}} RunStream
 */

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

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
  let retryMs = RETRY_FIRST_MS;
  let stopped = false;
  /** @type {WebSocket | null} */
  let socket = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;

  /** @param {StreamStatus} next @param {string} detail */
  const setStatus = (next, detail) => {
    status = next;
    handlers.onStatus?.(next, detail);
  };
  const connect = () => {
    socket = new WebSocket(streamUrl(runId, projectId, lastCursor));
    socket.onopen = () => setStatus("replaying", "");
    socket.onmessage = (event) => {
      /** @type {StreamMessage} */
      const message = JSON.parse(event.data);
      if (message.cursor) lastCursor = message.cursor;
      if (message.type === "replay_done") {
        retryMs = RETRY_FIRST_MS;
        setStatus("live", "");
      }
      handlers.onMessage(message);
    };
    socket.onclose = (event) => {
      socket = null;
      if (stopped) return;
      if (event.code === 1000) return setStatus("finished", event.reason);
      if (event.code >= 4400 && event.code < 4500 && event.code !== 4408) {
        return setStatus("failed", `${event.code} ${event.reason}`);
      }
      setStatus("reconnecting", `${event.code} ${event.reason}`);
      const delay = retryMs * (0.5 + Math.random());
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      timer = setTimeout(connect, delay);
    };
  };
  setStatus("connecting", "");
  connect();
  return {
    close: () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      socket?.close(1000, "page closed");
    },
    status: () => status,
    cursor: () => lastCursor,
  };
}
