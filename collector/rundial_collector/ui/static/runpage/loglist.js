// A virtualized list of log lines: fixed 20 px rows, only the rows in view (plus a margin) are
// in the DOM, each ``.log-line[data-step][data-level]``. Knows nothing about fetching.
import { virtualWindow, atBottom, stepAtTime } from "./logmath.js";
import { clockTime, exactTime } from "./timefmt.js";

export const ROW_PX = 20;

/**
 * @typedef {import("./logmath.js").LogLine} LogLine
 * @typedef {{byTime: import("./logmath.js").StepTime[]}} TimeToStep
 * @typedef {{
 *   setLines: (lines: LogLine[], keepBottom: boolean, shiftRows?: number) => void,
 *   setStepMap: (map: TimeToStep) => void,
 *   setFocus: (keys: Set<string>) => void,
 *   scrollToIndex: (index: number) => void,
 *   atBottom: () => boolean,
 *   scrollBox: HTMLElement,
 * }} LogList
 */

/**
 * Mount the list into ``container``; ``onEdge("top" | "bottom")`` is called when the view
 * comes near an end (to load more).
 * @param {HTMLElement} container
 * @param {(edge: "top" | "bottom") => void} onEdge
 * @param {(line: LogLine) => string} keyOf
 * @returns {LogList}
 */
export function mountLogList(container, onEdge, keyOf) {
  const scrollBox = Object.assign(document.createElement("div"), { className: "logs-scroll" });
  scrollBox.tabIndex = 0;
  scrollBox.setAttribute("aria-label", "Log lines");
  const spacer = Object.assign(document.createElement("div"), { className: "logs-spacer" });
  const rows = Object.assign(document.createElement("div"), { className: "logs-rows" });
  rows.setAttribute("role", "list");
  spacer.append(rows);
  scrollBox.append(spacer);
  container.append(scrollBox);
  /** @type {LogLine[]} */
  let lines = [];
  /** @type {TimeToStep} */
  let steps = { byTime: [] };
  /** @type {Set<string>} */
  let focus = new Set();

  const render = () => {
    const view = virtualWindow(scrollBox.scrollTop, scrollBox.clientHeight || 400, ROW_PX,
      lines.length);
    spacer.style.height = `${view.totalPx}px`;
    rows.style.transform = `translateY(${view.offsetPx}px)`;
    const items = [];
    for (let i = view.first; i < view.end; i++) items.push(row(lines[i]));
    rows.replaceChildren(...items);
  };
  /** @param {LogLine} line */
  const row = (line) => {
    const el = Object.assign(document.createElement("div"), { className: "log-line" });
    el.setAttribute("role", "listitem");
    const step = stepAtTime(steps, line.timestampMs);
    el.dataset.step = step === null ? "" : String(step);
    el.dataset.level = line.level;
    el.classList.toggle("focused", focus.has(keyOf(line)));
    const time = Object.assign(document.createElement("span"), {
      className: "log-time", textContent: clockTime(line.timestampMs),
      title: exactTime(line.timestampMs),
    });
    const stepCell = Object.assign(document.createElement("span"), {
      className: "log-step", textContent: step === null ? "" : String(step),
    });
    const level = Object.assign(document.createElement("span"), {
      className: `log-level level-${line.level}`, textContent: line.level,
    });
    const message = Object.assign(document.createElement("span"), {
      className: "log-message", textContent: line.message + (line.truncated ? " …" : ""),
      title: line.message,
    });
    el.append(time, stepCell, level, message);
    return el;
  };
  // Whether the view was at the bottom when last seen (a hidden tab has no size to measure).
  let stuck = true;
  const measure = () => {
    if (scrollBox.clientHeight) {
      stuck = atBottom(scrollBox.scrollTop, scrollBox.clientHeight, lines.length * ROW_PX);
    }
    return stuck;
  };
  let edgeTimer = 0;
  scrollBox.addEventListener("scroll", () => {
    measure();
    render();
    if (edgeTimer) return;
    edgeTimer = window.setTimeout(() => {
      edgeTimer = 0;
      if (scrollBox.scrollTop < ROW_PX * 10) onEdge("top");
      if (atBottom(scrollBox.scrollTop, scrollBox.clientHeight, lines.length * ROW_PX,
        ROW_PX * 10)) onEdge("bottom");
    }, 50);
  });
  // A hidden tab has no size, and a scroll set while hidden is lost: keep the wanted place
  // and apply it once the list is shown (its size changes from zero).
  /** @type {number | null} */
  let pendingIndex = null;
  const scrollToIndex = (/** @type {number} */ index) => {
    if (!scrollBox.clientHeight) {
      pendingIndex = index;
      return render();
    }
    pendingIndex = null;
    scrollBox.scrollTop = Math.max(0, index * ROW_PX - scrollBox.clientHeight / 2 + ROW_PX / 2);
    render();
  };
  new ResizeObserver(() => {
    if (scrollBox.clientHeight && pendingIndex !== null) return scrollToIndex(pendingIndex);
    if (scrollBox.clientHeight && stuck) scrollBox.scrollTop = lines.length * ROW_PX;
    render();
  }).observe(scrollBox);
  return {
    scrollBox,
    setLines: (next, keepBottom, shiftRows = 0) => {
      lines = next;
      scrollBox.dataset.lines = String(lines.length);
      spacer.style.height = `${lines.length * ROW_PX}px`;
      if (keepBottom) {
        scrollBox.scrollTop = lines.length * ROW_PX;
        stuck = true;
        pendingIndex = null;
      }
      else if (shiftRows) scrollBox.scrollTop += shiftRows * ROW_PX;
      render();
    },
    setStepMap: (map) => {
      steps = map;
      render();
    },
    setFocus: (keys) => {
      focus = keys;
      render();
    },
    scrollToIndex,
    atBottom: measure,
  };
}
