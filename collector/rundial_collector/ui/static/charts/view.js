// The chart view's URL fields, parsed and formatted (pure): x axis, log y, zoom, focused step.

export const X_MODES = ["step", "wall", "relative"];

/**
 * ``"lo,hi"`` → [lo, hi] (numbers, lo < hi), or null when absent or malformed.
 * @param {string|null|undefined} text
 * @returns {[number, number]|null}
 */
export function parseZoom(text) {
  if (!text) return null;
  const parts = text.split(",");
  if (parts.length !== 2 || parts.some((p) => p.trim() === "")) return null;
  const [lo, hi] = parts.map(Number);
  return Number.isFinite(lo) && Number.isFinite(hi) && lo < hi ? [lo, hi] : null;
}

/**
 * [lo, hi] → ``"lo,hi"`` (integers when the x axis is steps).
 * @param {[number, number]|null} zoom
 * @param {string} xMode
 * @returns {string|null}
 */
export function formatZoom(zoom, xMode) {
  if (!zoom) return null;
  const round = xMode === "step" ? Math.round : (/** @type {number} */ v) => Number(v.toPrecision(12));
  return `${round(zoom[0])},${round(zoom[1])}`;
}

/**
 * The view from URL fields.
 * @param {Record<string, string>} state
 * @returns {{keys: string, x: string, ylog: boolean, zoom: [number, number]|null,
 *   step: number|null, smooth: string|null, smoothKind: string}}
 */
export function viewFromState(state) {
  const x = X_MODES.includes(state.x) ? state.x : "step";
  const step = state.step !== undefined && state.step !== "" ? Number(state.step) : NaN;
  return {
    keys: state.keys ?? "",
    x,
    ylog: state.ylog === "1",
    zoom: parseZoom(state.zoom),
    step: Number.isFinite(step) ? step : null,
    smooth: state.smooth ?? null,
    smoothKind: state.smoothKind === "mean" ? "mean" : "ema",
  };
}

/**
 * The step range to fetch for an x-axis zoom: in step mode the zoom itself, otherwise the
 * steps of the drawn points that bracket it (the last point at or before ``lo`` through the
 * first at or after ``hi``, per series), so a range narrower than the gap between two drawn
 * points still zooms. ``xs``/``steps`` are parallel; null when nothing is drawn.
 * @param {[number, number]} zoom
 * @param {string} xMode
 * @param {{x: ArrayLike<number>, steps: ArrayLike<number>}[]} drawn
 * @returns {{startStep: number, endStep: number}|null}
 */
export function stepRange(zoom, xMode, drawn) {
  if (xMode === "step") {
    const startStep = Math.ceil(zoom[0]);
    return { startStep, endStep: Math.max(startStep, Math.floor(zoom[1])) };
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const { x, steps } of drawn) {
    if (!x.length) continue;
    let first = 0;
    let last = x.length - 1;
    for (let i = 0; i < x.length; i++) {
      if (x[i] <= zoom[0]) first = i;
      if (x[i] >= zoom[1]) { last = i; break; }
    }
    lo = Math.min(lo, steps[first]);
    hi = Math.max(hi, steps[last]);
  }
  return lo <= hi ? { startStep: lo, endStep: hi } : null;
}
