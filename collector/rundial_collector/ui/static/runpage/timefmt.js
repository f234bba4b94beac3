// Pure time formatting for the run page: durations as "1h 02m", exact instants for tooltips
// (node --test: tests/js/runpage.test.mjs).

/**
 * A duration in the UI's compact form: "<1 ms", "850 ms", "12.3 s", "4m 05s", "1h 02m",
 * "3d 04h".
 * Negative or non-finite input gives "—".
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms > 0 && ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const totalSeconds = Math.floor(ms / 1000);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const seconds = totalSeconds % 60;
  const minutes = Math.floor(totalSeconds / 60) % 60;
  const hours = Math.floor(totalSeconds / 3600) % 24;
  const days = Math.floor(totalSeconds / 86_400);
  if (totalSeconds < 3600) return `${minutes}m ${pad(seconds)}s`;
  if (days === 0) return `${hours}h ${pad(minutes)}m`;
  return `${days}d ${pad(hours)}h`;
}

/**
 * The run's duration: finish − start, or now − start while it has no finish; null without a
 * start.
 * @param {number | null} startedAtMs
 * @param {number | null} finishedAtMs
 * @param {number} nowMs
 * @returns {number | null}
 */
export function runDurationMs(startedAtMs, finishedAtMs, nowMs) {
  if (startedAtMs === null || startedAtMs === undefined) return null;
  return Math.max(0, (finishedAtMs ?? nowMs) - startedAtMs);
}

/**
 * An exact instant for a tooltip, in UTC with milliseconds: "2026-12-07 00:12:14.123 UTC".
 * @param {number} ms epoch milliseconds
 * @returns {string}
 */
export function exactTime(ms) {
  if (!Number.isFinite(ms)) return "—";
  return new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC");
}

/**
 * A log line's clock time (UTC): "00:12:14.123".
 * @param {number} ms
 * @returns {string}
 */
export function clockTime(ms) {
  if (!Number.isFinite(ms)) return "—";
  return new Date(ms).toISOString().slice(11, 23);
}
