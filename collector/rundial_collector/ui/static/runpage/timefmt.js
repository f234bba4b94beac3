// Pure time formatting for the run page: run durations, exact instants for tooltips
// (node --test: tests/js/runpage.test.mjs).

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
