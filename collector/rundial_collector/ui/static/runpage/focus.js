// The linked timeline's drawer on the run page: a chart point's ``step-focus`` opens "Around
// step N" beside the tabs, with the log lines just before and after that step's time and the
// spans running then, whatever tab is open; its buttons open the Logs or Traces tab, which
// scroll to and highlight the same place.
import { focusTime, logPage, spanTree } from "./data.js";
import { spanRows, spansAround, spanKey, waterfall } from "./spanmath.js";
import { formatDuration } from "../format.js";
import { clockTime, exactTime } from "./timefmt.js";

const LINES_EACH_SIDE = 8;
const MAX_SPANS_SHOWN = 20;

/**
 * @typedef {{step: number, timeMs?: number | null, key?: string | null}} Focus
 * @typedef {{show: (detail: Focus) => Promise<void>, close: () => void}} FocusDrawer
 */

/**
 * Mount the (hidden) drawer into ``container``.
 * @param {HTMLElement} container
 * @param {import("./data.js").RunContext} context
 * @param {(tab: string) => void} openTab
 * @returns {FocusDrawer}
 */
export function mountFocusDrawer(container, context, openTab) {
  const target = { projectId: context.projectId, runId: context.run.runId };
  const drawer = Object.assign(document.createElement("aside"), {
    id: "step-focus", className: "focus-drawer card", hidden: true });
  drawer.setAttribute("aria-label", "Around the focused step");
  container.append(drawer);
  /** @type {ReturnType<typeof spanTree> | null} */
  let spans = null;
  let shown = 0;
  const close = () => { drawer.hidden = true; };
  drawer.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });

  return {
    close,
    show: async (detail) => {
      const mine = ++shown;
      drawer.hidden = false;
      drawer.dataset.step = String(detail.step);
      const title = Object.assign(document.createElement("h2"), {
        textContent: `Around step ${detail.step}` });
      const closeButton = button("Close", close);
      closeButton.setAttribute("aria-label", "Close the step drawer");
      drawer.replaceChildren(title, closeButton, Object.assign(document.createElement("p"), {
        className: "muted", textContent: "Loading…" }));
      const timeMs = await focusTime(target, detail).catch(() => null);
      if (mine !== shown) return;
      if (timeMs === null) {
        drawer.replaceChildren(title, closeButton, Object.assign(document.createElement("p"), {
          className: "muted", textContent: `Step ${detail.step} has no known time in this run.` }));
        return;
      }
      spans ??= spanTree(target);
      const [before, after, tree] = await Promise.all([
        logPage(target, { order: "desc", endMs: timeMs, limit: LINES_EACH_SIDE }),
        logPage(target, { order: "asc", startMs: timeMs + 1, limit: LINES_EACH_SIDE }),
        spans.catch(() => ({ roots: [] })),
      ]);
      if (mine !== shown) return;
      const lines = before.rows.reverse().concat(after.rows);
      drawer.replaceChildren(title, closeButton,
        Object.assign(document.createElement("p"), { className: "muted",
          textContent: `at ${clockTime(timeMs)} UTC`, title: exactTime(timeMs) }),
        Object.assign(document.createElement("h3"), { textContent: "Log lines" }),
        lines.length ? logList(lines, timeMs) : muted("No log lines near this time."),
        button("Open in Logs", () => openTab("logs")),
        ...spanList(tree.roots, timeMs), button("Open in Traces", () => openTab("traces")));
    },
  };
}

/** @param {string} text @param {() => void} onClick */
function button(text, onClick) {
  const el = Object.assign(document.createElement("button"), { type: "button", textContent: text });
  el.addEventListener("click", onClick);
  return el;
}

/** @param {string} text */
function muted(text) {
  return Object.assign(document.createElement("p"), { className: "muted", textContent: text });
}

/** @param {import("./logmath.js").LogLine[]} lines @param {number} timeMs */
function logList(lines, timeMs) {
  const list = Object.assign(document.createElement("ol"), { className: "focus-logs" });
  for (const line of lines) {
    const li = Object.assign(document.createElement("li"), { className: "focus-log",
      textContent: `${clockTime(line.timestampMs)} ${line.level} ${line.message}` });
    li.dataset.level = line.level;
    li.classList.toggle("after", line.timestampMs > timeMs);
    list.append(li);
  }
  return list;
}

/**
 * A heading and the list of the spans running at ``timeMs`` (or the nearest ones).
 * @param {import("./spanmath.js").Span[]} roots
 * @param {number} timeMs
 * @returns {HTMLElement[]}
 */
function spanList(roots, timeMs) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const rows = spanRows(roots);
  const { keys, running } = spansAround(rows, timeMs, now);
  const bars = waterfall(rows, now);
  const picked = rows.map((row, i) => ({ row, bar: bars[i] }))
    .filter(({ row }) => keys.has(spanKey(row.span))).slice(0, MAX_SPANS_SHOWN);
  const title = Object.assign(document.createElement("h3"), {
    textContent: running ? "Spans running then" : "Nearest span (none was running then)" });
  if (!picked.length) return [title, muted("No spans in this run.")];
  const list = Object.assign(document.createElement("ul"), { className: "focus-spans" });
  for (const { row, bar } of picked) {
    const li = Object.assign(document.createElement("li"), { className: "focus-span",
      textContent: `${row.span.name} · ${bar.open ? "open" : formatDuration(bar.durationMs)}` });
    li.dataset.spanId = row.span.spanId;
    list.append(li);
  }
  return [title, list];
}
