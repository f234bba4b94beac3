// Stable run colours: a colour-blind-safe palette indexed by a hash of the run id, so a run
// keeps its colour on every page and after a reload.

/** Okabe–Ito's eight colours, then Tableau 10's others (all readable on light and dark). */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
  "#F0E442", "#8C564B", "#7F7F7F", "#17BECF", "#BCBD22", "#9467BD"];

/**
 * FNV-1a 32-bit hash of a string (pure; the same on every browser).
 * @param {string} text
 * @returns {number}
 */
export function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The run's colour.
 * @param {string} runId
 * @returns {string}
 */
export function runColor(runId) {
  return PALETTE[hash32(runId) % PALETTE.length];
}
