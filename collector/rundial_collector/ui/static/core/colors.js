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

/**
 * Colours for runs shown together: each run keeps its own ``runColor`` unless another run of
 * the set already has it, in which case it takes the next free palette colour, so a selection
 * of up to ``PALETTE.length`` runs never shows two runs in one colour. Deterministic for a
 * set (whatever its order); larger sets keep every run's own colour.
 * @param {Iterable<string>} runIds
 * @returns {Map<string, string>}
 */
export function distinctColors(runIds) {
  const ids = [...new Set(runIds)];
  const colors = new Map(ids.map((id) => [id, runColor(id)]));
  if (ids.length > PALETTE.length) return colors;
  const keyed = ids.map((id) => ({ id, slot: hash32(id) % PALETTE.length }))
    .sort((a, b) => a.slot - b.slot || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const used = new Set();
  for (const { id, slot } of keyed) {
    let free = slot;
    while (used.has(free)) free = (free + 1) % PALETTE.length;
    used.add(free);
    colors.set(id, PALETTE[free]);
  }
  return colors;
}
