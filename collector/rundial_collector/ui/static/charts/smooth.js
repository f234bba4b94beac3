// Chart smoothing over full-resolution points (pure; the collector's query/chart_smooth.py
// computes the same thing server-side; tests/golden/smoothing.json keeps the two equal).
//
// Both smoothers run over the *finite* values in order; a non-finite value (or null) neither
// feeds nor resets them, and its smoothed value is the one before it (null before any).
//   ema:  y_t = w·y_{t−1} + (1−w)·x_t from y_0 = 0, reported as y_t / (1 − w^t), t = finite
//         points seen (TensorBoard's debiased EMA: no pull toward the first point or zero);
//   mean: the mean of the trailing N finite values (fewer at the start).

/**
 * @typedef {{kind: "ema", weight: number} | {kind: "mean", windowPoints: number}} SmoothingSpec
 */

/**
 * Debiased EMA of ``values``.
 * @param {ArrayLike<number|null>} values
 * @param {number} weight in [0, 1)
 * @returns {(number|null)[]}
 */
export function debiasedEma(values, weight) {
  const out = new Array(values.length);
  let y = 0;
  let seen = 0;
  let last = null;
  let decay = 1; // weight ** seen, kept as a running product
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== null && Number.isFinite(x)) {
      y = weight * y + (1 - weight) * x;
      seen += 1;
      decay *= weight;
      last = weight === 0 ? x : y / (1 - decay);
    }
    out[i] = last;
  }
  return out;
}

/**
 * Trailing mean in O(n): prefix sums restarted every block of ``>= windowPoints`` values
 * (the same scheme as the server), so the error follows the window's magnitudes.
 * @param {ArrayLike<number|null>} values
 * @param {number} windowPoints
 * @returns {(number|null)[]}
 */
export function runningMean(values, windowPoints) {
  const n = Math.max(1, Math.floor(windowPoints));
  const finite = [];
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== null && Number.isFinite(x)) finite.push(x);
  }
  const block = Math.max(n, 256);
  const prefix = new Float64Array(finite.length);
  for (let i = 0; i < finite.length; i++) {
    prefix[i] = (i % block === 0 ? 0 : prefix[i - 1]) + finite[i];
  }
  const means = new Float64Array(finite.length);
  for (let i = 0; i < finite.length; i++) {
    const lo = i - n; // the window is (lo, i]
    const ownStart = i - (i % block);
    let total = prefix[i];
    if (lo >= ownStart) total -= prefix[lo];
    else if (lo >= 0) total += prefix[ownStart - 1] - prefix[lo];
    means[i] = total / Math.min(i + 1, n);
  }
  const out = new Array(values.length);
  let k = -1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== null && Number.isFinite(x)) k += 1;
    out[i] = k >= 0 ? means[k] : null;
  }
  return out;
}

/**
 * ``values`` smoothed as ``spec`` says.
 * @param {ArrayLike<number|null>} values
 * @param {SmoothingSpec} spec
 * @returns {(number|null)[]}
 */
export function smooth(values, spec) {
  if (spec.kind === "ema") return debiasedEma(values, spec.weight);
  return runningMean(values, spec.windowPoints);
}

/**
 * The smoothing the URL fields ask for, or null when off. ``smooth`` is the EMA weight (0..1)
 * for ``ema``, or the window in points for ``mean``.
 * @param {string|null} smoothText
 * @param {string|null} kindText
 * @returns {SmoothingSpec|null}
 */
export function smoothingFromState(smoothText, kindText) {
  const value = Number(smoothText);
  if (!smoothText || !Number.isFinite(value) || value <= 0) return null;
  if (kindText === "mean") {
    return value >= 1 ? { kind: "mean", windowPoints: Math.min(1e6, Math.round(value)) } : null;
  }
  return value < 1 ? { kind: "ema", weight: value } : null;
}
