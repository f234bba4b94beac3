// Axis and number formatting for charts (pure).

const BIG = [[1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];

/**
 * A number with an SI suffix: 1234 → "1.2k", 3.4e6 → "3.4M", 0.5 → "0.5", 1e-5 → "1e-5".
 * @param {number|null} value
 * @returns {string}
 */
export function siFormat(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  const size = Math.abs(value);
  for (const [limit, suffix] of BIG) {
    if (size >= /** @type {number} */ (limit)) {
      return `${trim(value / /** @type {number} */ (limit))}${suffix}`;
    }
  }
  if (size !== 0 && size < 1e-3) {
    const [mantissa, exponent] = value.toExponential(1).split("e");
    return `${mantissa.replace(/\.0$/, "")}e${exponent.replace("+", "")}`;
  }
  return trim(value);
}

/** Up to 3 significant digits, no trailing zeros. @param {number} v */
function trim(v) {
  const size = Math.abs(v);
  const digits = size >= 100 ? 0 : size >= 10 ? 1 : size >= 1 ? 2 : 3;
  return String(Number(v.toFixed(digits)));
}

/**
 * Seconds as a short duration ("45s", "12m", "3.5h", "2d") for a relative-time axis.
 * @param {number} seconds
 */
export function durationFormat(seconds) {
  const size = Math.abs(seconds);
  if (size < 60) return `${trim(seconds)}s`;
  if (size < 3600) return `${trim(seconds / 60)}m`;
  if (size < 86400) return `${trim(seconds / 3600)}h`;
  return `${trim(seconds / 86400)}d`;
}

/**
 * Tick labels: ``format`` of each tick, or the plain numbers when that would print two ticks
 * alike (a narrow range at a large magnitude: steps 1,800,000,001 to 1,800,000,003).
 * @param {number[]} ticks
 * @param {(value: number) => string} format
 * @returns {string[]}
 */
export function tickLabels(ticks, format) {
  const labels = ticks.map(format);
  if (new Set(labels).size === labels.length) return labels;
  return ticks.map((t) => String(Number(t.toPrecision(15))));
}
