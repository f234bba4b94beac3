// The run page's Traces tab: the run's span tree (POST /api/v1/query/spans) as collapsible
// rows ``.span-row[data-span-id]``, each with a waterfall bar relative to the start of its
// trace; open spans (no end yet) grow to now and are marked "open"; a details pane shows the
// selected span's fields, attributes, events and evidence links. Live spans merge in; a
// ``step-focus`` highlights the spans running at that step's time.
import { focusTime, spanTree } from "./data.js";
import { mergeSpans, spanKey, spanRows, spansAround, waterfall } from "./spanmath.js";
import { renderSpanDetails } from "./spandetails.js";
import { formatDuration } from "../format.js";

const OPEN_REFRESH_MS = 1000;

/**
 * @typedef {import("./spanmath.js").Span} Span
 * @typedef {import("./data.js").RunContext} RunContext
 * @typedef {{addSpans: (spans: Span[]) => void,
 *   focus: (detail: {step: number, timeMs?: number | null, key?: string | null}) =>
 *     Promise<void>}} TracesTab
 */

/** @returns {bigint} */
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/**
 * Draw the traces tab into ``panel``.
 * @param {HTMLElement} panel
 * @param {RunContext} context
 * @param {() => boolean} running whether the run is still running (open spans keep growing)
 * @returns {Promise<TracesTab>}
 */
export async function mountTracesTab(panel, context, running) {
  const target = { projectId: context.projectId, runId: context.run.runId };
  const status = Object.assign(document.createElement("p"), { className: "traces-status muted" });
  const tree = Object.assign(document.createElement("div"), { className: "span-tree" });
  tree.setAttribute("role", "tree");
  tree.setAttribute("aria-label", "Spans");
  const details = Object.assign(document.createElement("aside"), { className: "span-details" });
  const layout = Object.assign(document.createElement("div"), { className: "traces-layout" });
  layout.append(tree, details);
  panel.replaceChildren(status, layout);
  status.textContent = "Loading spans…";
  const loaded = await spanTree(target);
  /** @type {Span[]} */
  let roots = loaded.roots;
  /** @type {Set<string>} */
  const collapsed = new Set();
  /** @type {Set<string>} */
  let focused = new Set();
  let selected = "";

  const draw = () => {
    const rows = spanRows(roots, collapsed);
    const bars = waterfall(rows, nowNs());
    status.textContent = roots.length ? `${countSpans(roots)} spans` +
      (loaded.truncated ? " (the server read only the first 10,000)" : "") +
      " · bars are relative to the start of their trace" : "";
    if (!roots.length) {
      tree.replaceChildren(Object.assign(document.createElement("p"), {
        className: "traces-empty muted", textContent: "No spans for this run.",
      }));
      return;
    }
    const active = document.activeElement;
    const focusedKey = active instanceof HTMLElement && tree.contains(active)
      ? active.dataset.key : undefined;
    tree.replaceChildren(...rows.map((row, i) => spanRow(row, bars[i])));
    if (focusedKey) { // a redraw (live spans, open bars growing) keeps the keyboard focus
      const again = [...tree.querySelectorAll(".span-row")].find(
        (el) => el instanceof HTMLElement && el.dataset.key === focusedKey);
      if (again instanceof HTMLElement) again.focus();
    }
    const first = tree.querySelector(".span-row");
    if (first instanceof HTMLElement && !tree.querySelector('.span-row[tabindex="0"]')) {
      first.tabIndex = 0; // the tree is reachable by keyboard before anything is selected
    }
  };
  /** @param {import("./spanmath.js").SpanRow} row @param {import("./spanmath.js").Bar} bar */
  const spanRow = (row, bar) => {
    const key = spanKey(row.span);
    const el = Object.assign(document.createElement("div"), { className: "span-row" });
    el.dataset.spanId = row.span.spanId;
    el.dataset.key = key;
    el.setAttribute("role", "treeitem");
    el.setAttribute("aria-level", String(row.depth + 1));
    el.setAttribute("aria-selected", String(key === selected));
    if (row.hasChildren) el.setAttribute("aria-expanded", String(!collapsed.has(key)));
    el.tabIndex = key === selected ? 0 : -1;
    el.classList.toggle("open", bar.open);
    el.classList.toggle("focused", focused.has(key));
    el.classList.toggle("error", row.span.status === "error");
    const label = Object.assign(document.createElement("span"), { className: "span-label" });
    label.style.paddingLeft = `${row.depth * 14}px`;
    const twisty = Object.assign(document.createElement("span"), {
      className: "span-twisty", textContent: row.hasChildren ? (collapsed.has(key) ? "▸" : "▾") : "",
    });
    label.append(twisty, Object.assign(document.createElement("span"), {
      className: "span-name", textContent: row.span.name, title: `${row.span.kind} span`,
    }));
    const duration = Object.assign(document.createElement("span"), {
      className: "span-duration", textContent: (bar.open ? "open · " : "") +
        formatDuration(bar.durationMs),
      title: `starts ${formatDuration(bar.offsetMs)} after its trace starts` +
        (bar.skewed ? "; outside its parent's time range (clock skew)" : ""),
    });
    const lane = Object.assign(document.createElement("span"), { className: "span-lane" });
    const barEl = Object.assign(document.createElement("span"), { className: "span-bar" });
    barEl.classList.toggle("skewed", bar.skewed);
    barEl.style.left = `${(bar.leftFrac * 100).toFixed(3)}%`;
    barEl.style.width = `max(2px, ${(bar.widthFrac * 100).toFixed(3)}%)`;
    lane.append(barEl);
    el.append(label, duration, lane);
    return el;
  };
  /** @param {string} key */
  const select = (key) => {
    selected = key;
    const row = spanRows(roots).find((r) => spanKey(r.span) === key);
    if (row) renderSpanDetails(details, row.span, context);
    draw();
    tree.querySelector(`.span-row[aria-selected="true"]`)?.focus?.();
  };
  tree.addEventListener("click", (event) => {
    const el = /** @type {HTMLElement} */ (event.target).closest(".span-row");
    if (!(el instanceof HTMLElement)) return;
    const key = /** @type {string} */ (el.dataset.key);
    if (/** @type {HTMLElement} */ (event.target).closest(".span-twisty")) {
      if (collapsed.has(key)) collapsed.delete(key); else collapsed.add(key);
      return draw();
    }
    select(key);
  });
  // Keys: up/down move (and select), left/right collapse/expand, Enter selects.
  tree.addEventListener("keydown", (event) => {
    const rows = /** @type {HTMLElement[]} */ ([...tree.querySelectorAll(".span-row")]);
    const at = rows.findIndex((r) => r === document.activeElement);
    if (at < 0) return;
    const key = /** @type {string} */ (rows[at].dataset.key);
    const move = /** @type {Record<string, number>} */ ({ ArrowDown: 1, ArrowUp: -1 })[event.key];
    if (move && rows[at + move]) {
      event.preventDefault();
      select(/** @type {string} */ (rows[at + move].dataset.key));
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      if (event.key === "ArrowLeft") collapsed.add(key); else collapsed.delete(key);
      select(key);
    } else if (event.key === "Enter") {
      event.preventDefault();
      select(key);
    }
  });
  draw();
  const timer = window.setInterval(() => {
    if (!panel.isConnected || !running()) return window.clearInterval(timer);
    if (!panel.hidden && tree.querySelector(".span-row.open")) draw();
  }, OPEN_REFRESH_MS);
  return {
    addSpans: (spans) => {
      roots = mergeSpans(roots, spans);
      draw();
    },
    focus: async (detail) => {
      const timeMs = await focusTime(target, detail);
      if (timeMs === null) return;
      focused = spansAround(spanRows(roots), timeMs, nowNs()).keys;
      collapsed.clear(); // every focused span must be visible
      draw();
      tree.querySelector(".span-row.focused")?.scrollIntoView({ block: "center" });
    },
  };
}

/** @param {Span[]} roots */
function countSpans(roots) {
  let n = 0;
  const stack = [...roots];
  while (stack.length) {
    n++;
    stack.push(.../** @type {Span} */ (stack.pop()).children ?? []);
  }
  return n;
}
