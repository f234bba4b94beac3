// Small formatting helpers shared by the pages.

/**
 * "3 min ago" style text for a past instant.
 * @param {number} thenMs
 * @param {number} nowMs
 * @returns {string}
 */
export function relativeTime(thenMs, nowMs) {
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/**
 * A duration in the UI's compact form: "<1 ms", "850 ms", "12.3 s", "4m 05s", "1h 02m",
 * "3d 04h".
 * A missing duration (null) gives ""; a negative or non-finite one gives "—".
 * @param {number | null} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (ms === null || ms === undefined) return "";
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
