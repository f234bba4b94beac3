// Pure logic of the run page's logs: filtering (the same rules as the server's query/logs),
// the virtual window of a fixed-row-height list, merging pages and live lines into a bounded,
// ordered buffer, and mapping between steps and wall time (node --test: tests/js/runpage.test.mjs).

/** Log levels, lowest first (the collector's order). */
export const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];

/** Lines the logs tab keeps in memory at most; beyond it the far end is dropped (refetched). */
export const MAX_KEPT_LINES = 5000;

/**
 * @typedef {{timestampMs: number, sequence: number, level: string, message: string,
 *   truncated?: boolean}} LogLine  a line as query/logs and the live stream give it
 * @typedef {{minLevel: string, text: string}} LogFilter
 * @typedef {{step: number, timestampMs: number}} StepTime  one logged point's step and time
 */

/**
 * The rank of a level (unknown levels rank as "info").
 * @param {string} level
 * @returns {number}
 */
export function levelRank(level) {
  const rank = LEVELS.indexOf(level);
  return rank < 0 ? 2 : rank;
}

/**
 * Whether ``line`` passes ``filter``: level at least ``minLevel`` and ``text`` a substring of
 * the message, case-sensitive, as the server's filter (so live lines and fetched pages agree).
 * @param {LogLine} line
 * @param {LogFilter} filter
 * @returns {boolean}
 */
export function matchesLog(line, filter) {
  if (levelRank(line.level) < levelRank(filter.minLevel || "trace")) return false;
  return !filter.text || line.message.includes(filter.text);
}

/**
 * Order of two lines: (timestampMs, sequence), as the collector pages them.
 * @param {LogLine} a
 * @param {LogLine} b
 * @returns {number}
 */
export function compareLines(a, b) {
  return a.timestampMs - b.timestampMs || a.sequence - b.sequence;
}

/**
 * A line's identity for de-duplication (pages and the live tail may overlap).
 * @param {LogLine} line
 * @returns {string}
 */
export function lineKey(line) {
  return `${line.timestampMs}|${line.sequence}|${line.level}|${line.message}`;
}

/**
 * ``kept`` plus ``incoming`` (any order), sorted, without duplicates, and at most ``cap``
 * lines: when over, lines are dropped from the end opposite ``keep`` ("newest" keeps the
 * newest lines, dropping the oldest). Pure: returns new arrays.
 * @param {LogLine[]} kept sorted
 * @param {LogLine[]} incoming
 * @param {"newest" | "oldest"} keep
 * @param {number} [cap]
 * @returns {{lines: LogLine[], added: number, droppedOld: number, droppedNew: number}}
 */
export function mergeLines(kept, incoming, keep, cap = MAX_KEPT_LINES) {
  const seen = new Set(kept.map(lineKey));
  const fresh = [];
  for (const line of incoming) {
    const key = lineKey(line);
    if (!seen.has(key)) {
      seen.add(key);
      fresh.push(line);
    }
  }
  const lines = kept.concat(fresh).sort(compareLines);
  const over = Math.max(0, lines.length - cap);
  if (!over) return { lines, added: fresh.length, droppedOld: 0, droppedNew: 0 };
  return keep === "newest"
    ? { lines: lines.slice(over), added: fresh.length, droppedOld: over, droppedNew: 0 }
    : { lines: lines.slice(0, cap), added: fresh.length, droppedOld: 0, droppedNew: over };
}

/**
 * The rows of a fixed-height list to put in the DOM for a scroll position.
 * @param {number} scrollTopPx
 * @param {number} viewportPx
 * @param {number} rowPx
 * @param {number} count rows in the list
 * @param {number} [overscan] extra rows above and below
 * @returns {{first: number, end: number, offsetPx: number, totalPx: number}} rows
 *   ``[first, end)``, the first one's top, and the full list's height
 */
export function virtualWindow(scrollTopPx, viewportPx, rowPx, count, overscan = 10) {
  const totalPx = count * rowPx;
  const top = Math.max(0, Math.min(scrollTopPx, Math.max(0, totalPx - viewportPx)));
  const first = Math.max(0, Math.floor(top / rowPx) - overscan);
  const end = Math.min(count, Math.ceil((top + viewportPx) / rowPx) + overscan);
  return { first, end: Math.max(first, end), offsetPx: first * rowPx, totalPx };
}

/**
 * Whether a scroll box is at (within ``slackPx`` of) its bottom: the live tail follows only then.
 * @param {number} scrollTopPx
 * @param {number} viewportPx
 * @param {number} totalPx
 * @param {number} [slackPx]
 * @returns {boolean}
 */
export function atBottom(scrollTopPx, viewportPx, totalPx, slackPx = 4) {
  return scrollTopPx + viewportPx >= totalPx - slackPx;
}

/**
 * Index of the first line at or after ``timeMs`` (``lines.length`` when none; binary search).
 * @param {LogLine[]} lines sorted
 * @param {number} timeMs
 * @returns {number}
 */
export function indexAtTime(lines, timeMs) {
  return firstIndex(lines, (line) => line.timestampMs >= timeMs);
}

/**
 * The first index of a sorted array where ``reached`` holds (it must hold from there on);
 * ``items.length`` when it never does. Binary search.
 * @template T
 * @param {T[]} items
 * @param {(item: T) => boolean} reached
 * @returns {number}
 */
export function firstIndex(items, reached) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (reached(items[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Sorted copies of a run's (step, time) points: by step for step → time, by time for
 * time → step (a resumed run or a skewed clock may make time not follow step).
 * @param {StepTime[]} points
 * @returns {{byStep: StepTime[], byTime: StepTime[]}}
 */
export function stepTimeMap(points) {
  const clean = points.filter((p) => Number.isFinite(p.step) && Number.isFinite(p.timestampMs));
  return {
    byStep: [...clean].sort((a, b) => a.step - b.step),
    byTime: [...clean].sort((a, b) => a.timestampMs - b.timestampMs),
  };
}

/**
 * The wall time of ``step``: exact when logged, else interpolated between the nearest logged
 * steps, else the nearest end's time; null without points.
 * @param {{byStep: StepTime[]}} map
 * @param {number} step
 * @returns {number | null}
 */
export function timeAtStep(map, step) {
  const pts = map.byStep;
  if (!pts.length) return null;
  const lo = firstIndex(pts, (p) => p.step >= step);
  if (lo < pts.length && pts[lo].step === step) return pts[lo].timestampMs;
  if (lo === 0) return pts[0].timestampMs;
  if (lo === pts.length) return pts[pts.length - 1].timestampMs;
  const a = pts[lo - 1];
  const b = pts[lo];
  return Math.round(a.timestampMs + (b.timestampMs - a.timestampMs) * (step - a.step) / (b.step - a.step));
}

/**
 * The step a line written at ``timeMs`` belongs to: the step of the latest point logged at or
 * before it (null before the first point or without points).
 * @param {{byTime: StepTime[]}} map
 * @param {number} timeMs
 * @returns {number | null}
 */
export function stepAtTime(map, timeMs) {
  const pts = map.byTime;
  const lo = firstIndex(pts, (p) => p.timestampMs > timeMs);
  return lo === 0 ? null : pts[lo - 1].step;
}
