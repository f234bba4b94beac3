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
