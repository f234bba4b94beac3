// The run page's Logs tab: a virtualized list of the run's log lines (loglist.js) with a
// minimum-level filter and a text search (both applied by the server, and to live lines by
// the same rules), paged from POST /api/v1/query/logs in both directions as the view nears an
// end, at most MAX_KEPT_LINES lines kept, a live tail that follows only when the view is at
// the bottom, and the linked timeline: a ``step-focus`` loads the lines around that step's
// time, scrolls to them and highlights them.
import { LEVELS, MAX_KEPT_LINES, indexAtTime, lineKey, matchesLog, mergeLines,
  stepAtTime } from "./logmath.js";
import { focusTime, logPage, stepMap } from "./data.js";
import { mountLogList } from "./loglist.js";

const PAGE_LINES = 200;

/**
 * @typedef {import("./logmath.js").LogLine} LogLine
 * @typedef {import("./data.js").RunContext} RunContext
 * @typedef {{cursor?: string, startMs?: number, endMs?: number}} Edge  how to read past an end
 * @typedef {{step: number, timeMs?: number | null, key?: string | null, runId?: string | null}
 *   } Focus
 * @typedef {{addLines: (lines: LogLine[]) => void, focus: (detail: Focus) => Promise<void>}
 *   } LogsTab
 */

/**
 * Draw the logs tab into ``panel``.
 * @param {HTMLElement} panel
 * @param {RunContext} context
 * @returns {LogsTab}
 */
export function mountLogsTab(panel, context) {
  const target = { projectId: context.projectId, runId: context.run.runId };
  const { bar, level, search, latest, status } = toolbar();
  const empty = Object.assign(document.createElement("p"), { className: "logs-empty muted",
    hidden: true });
  panel.replaceChildren(bar, empty);
  const list = mountLogList(panel, (edge) => void loadMore(edge === "top" ? "older" : "newer"),
    lineKey);
  /** @type {LogLine[]} */
  let lines = [];
  /** @type {Edge | null} */
  let older = null;
  /** @type {Edge | null} */
  let newer = null; // null: caught up with the stored lines, so live lines are appended
  let busy = false;
  let generation = 0;
  const filter = () => ({ minLevel: level.value, text: search.value });
  const params = () => ({ minLevel: level.value, text: search.value, limit: PAGE_LINES });

  const show = (/** @type {string} */ note) => {
    status.textContent = `${lines.length} lines loaded (at most ${MAX_KEPT_LINES} kept)` +
      (newer ? " · paused (newer lines below)" : "") + (note ? ` · ${note}` : "");
    empty.hidden = lines.length > 0;
    empty.textContent = level.value !== "trace" || search.value
      ? "No log lines match this filter." : "No log lines for this run yet.";
    latest.hidden = newer === null;
  };
  /** @param {() => Promise<void>} work */
  const guarded = async (work) => {
    if (busy) return;
    busy = true;
    try {
      await work();
      show("");
    } catch (err) {
      show(`could not load: ${/** @type {Error} */ (err).message}`);
    } finally {
      busy = false;
    }
  };
  const loadTail = () => {
    const mine = ++generation;
    busy = false;
    lines = []; // live lines arriving during the fetch collect here and are kept
    older = null;
    newer = null;
    return guarded(async () => {
      const page = await logPage(target, { ...params(), order: "desc" });
      if (mine !== generation) return;
      merge(page.rows, "newest");
      if (page.hasMore) older = { cursor: /** @type {string} */ (page.nextCursor) };
      list.setLines(lines, true);
    });
  };
  /** @param {number} timeMs */
  const anchor = async (timeMs) => {
    const mine = ++generation;
    busy = false;
    await guarded(async () => {
      const [before, after] = await Promise.all([
        logPage(target, { ...params(), order: "desc", endMs: timeMs }),
        logPage(target, { ...params(), order: "asc", startMs: timeMs + 1 }),
      ]);
      if (mine !== generation) return;
      lines = before.rows.reverse().concat(after.rows);
      older = before.hasMore ? { endMs: timeMs, cursor: before.nextCursor ?? undefined } : null;
      newer = after.hasMore ? { startMs: timeMs + 1, cursor: after.nextCursor ?? undefined }
        : null;
      list.setLines(lines, false);
    });
    return mine === generation;
  };
  /**
   * Merge ``incoming`` keeping the end ``keep`` names; an end that lost lines is read again
   * from its new edge line. Returns the rows the first kept line moved by (for the scroll).
   * @param {LogLine[]} incoming @param {"newest" | "oldest"} keep
   */
  const merge = (incoming, keep) => {
    const firstKey = lines.length ? lineKey(lines[0]) : "";
    const merged = mergeLines(lines, incoming, keep);
    lines = merged.lines;
    if (merged.droppedOld && lines.length) older = { endMs: lines[0].timestampMs };
    if (merged.droppedNew && lines.length) newer = { startMs: lines[lines.length - 1].timestampMs };
    const at = firstKey ? lines.findIndex((l) => lineKey(l) === firstKey) : 0;
    return at >= 0 ? at : -merged.droppedOld;
  };
  /** @param {"older" | "newer"} side */
  const loadMore = (side) => (side === "older" ? older : newer) && guarded(async () => {
    const edge = /** @type {Edge} */ (side === "older" ? older : newer);
    const mine = generation;
    const page = await logPage(target, { ...params(), order: side === "older" ? "desc" : "asc",
      ...edge });
    if (mine !== generation) return;
    const next = page.hasMore ? { ...edge, cursor: page.nextCursor ?? undefined } : null;
    if (side === "older") older = next; else newer = next;
    const shift = merge(page.rows, side === "older" ? "oldest" : "newest");
    list.setLines(lines, false, shift);
  });

  let debounce = 0;
  level.addEventListener("change", () => void loadTail());
  search.addEventListener("input", () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(() => void loadTail(), 250);
  });
  latest.addEventListener("click", () => {
    list.setFocus(new Set());
    void loadTail();
  });
  stepMap(target, null).then((map) => list.setStepMap(map)).catch(() => {});
  void loadTail();

  return {
    addLines: (incoming) => {
      if (newer !== null) return; // paged away from the tail: these come when paging down
      const fresh = incoming.filter((line) => matchesLog(line, filter()));
      if (!fresh.length) return;
      const follow = list.atBottom();
      const shift = merge(fresh, "newest");
      list.setLines(lines, follow, follow ? 0 : shift);
      show("");
    },
    focus: async (detail) => {
      window.clearTimeout(debounce); // the anchor reads the search box itself
      let timeMs;
      try {
        timeMs = await focusTime(target, detail);
      } catch (err) {
        return show(`could not find step ${detail.step}: ${/** @type {Error} */ (err).message}`);
      }
      if (timeMs === null) return show(`step ${detail.step} has no known time`);
      if (!await anchor(timeMs)) return;
      const map = await stepMap(target, detail.key ?? null).catch(() => null);
      const keys = new Set(map ? lines.filter((l) => stepAtTime(map, l.timestampMs) ===
        detail.step).map(lineKey) : []);
      const at = Math.min(indexAtTime(lines, timeMs), lines.length - 1);
      if (!keys.size && at >= 0) keys.add(lineKey(lines[at]));
      const first = lines.findIndex((l) => keys.has(lineKey(l)));
      list.setFocus(keys);
      list.scrollToIndex(first < 0 ? 0 : first);
      show(`around step ${detail.step}`);
    },
  };
}

/** The toolbar: minimum level, search, "latest" and a status line. */
function toolbar() {
  const bar = Object.assign(document.createElement("div"), { className: "logs-toolbar" });
  const level = Object.assign(document.createElement("select"), { id: "log-level" });
  level.setAttribute("aria-label", "Minimum level");
  for (const name of LEVELS) {
    level.append(Object.assign(document.createElement("option"), {
      value: name, textContent: name === "trace" ? "all levels" : `${name} and above`,
    }));
  }
  const search = Object.assign(document.createElement("input"), {
    id: "log-search", type: "search", placeholder: "Search log text (case-sensitive)",
  });
  search.setAttribute("aria-label", "Search log text");
  const latest = Object.assign(document.createElement("button"), {
    type: "button", className: "logs-latest", textContent: "Jump to latest", hidden: true,
  });
  const status = Object.assign(document.createElement("span"), { className: "logs-status muted" });
  status.setAttribute("aria-live", "polite");
  bar.append(level, search, latest, status);
  return { bar, level, search, latest, status };
}
