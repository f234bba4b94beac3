// The runs table of a project: filter, sort, group, column chooser, a virtual window of
// ~28 px rows (10,000 runs scroll smoothly), selection that drives the charts (``selection``
// on the bus; the 10 most recent runs by default), keyboard moves and the row editor.
// URL fields: runs (selection), q (filter), sort, group (core/urlstate.js).
import { distinctColors } from "../core/colors.js";
import { bindKey } from "../core/keys.js";
import { runPath } from "../core/routes.js";
import { getState, setState } from "../core/urlstate.js";
import { fillColumnChooser } from "./chooser.js";
import { columnById, columnWidths, DEFAULT_BASE } from "./columns.js";
import { openRunEditor } from "./edit.js";
import { allConfigKeys, canonicalField, varyingConfigKeys } from "./fields.js";
import { buildFilter } from "./filter.js";
import { colGroup, displayRow, headerRow, patchRows, spacerRow } from "./rows.js";
import { groupRows, parseSort, sortRuns } from "./sort.js";
import { clickSelection, defaultSelection, formatSelection, parseSelection, runRefs,
  virtualWindow } from "./view.js";
import { buildToolbar } from "./toolbar.js";
import { autoRefresh, fetchRuns, MAX_RUNS, selectionChanged } from "./load.js";

/**
 * @typedef {{ws: string, project: string, projectId: string,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} PageContext
 * @typedef {import("./fields.js").TableRun} TableRun
 */

export const ROW_PX = 28;
const OVERSCAN = 12;
const DEFAULT_SELECTED = 10;
const DEFAULT_CONFIG_COLUMNS = 8;
const WIDTH_SAMPLE = 200; // runs measured for the column widths
const EDGE_PX = 32; // the select and actions columns

/**
 * Draw the runs table into ``container``; announces ``selection`` on the bus.
 * @param {HTMLElement} container
 * @param {PageContext} context
 * @returns {Promise<void>}
 */
export async function mountRunsTable(container, context) {
  const root = Object.assign(document.createElement("div"), { id: "runs-table" });
  root.dataset.state = "loading";
  root.dataset.rows = "0";
  const bar = buildToolbar();
  const scroll = Object.assign(document.createElement("div"), { className: "runs-scroll",
    tabIndex: 0 });
  scroll.setAttribute("aria-label", "runs (j/k move, Enter selects, e edits, o opens)");
  const table = Object.assign(document.createElement("table"), { className: "runs-grid" });
  const thead = document.createElement("thead");
  const tbody = document.createElement("tbody");
  const empty = Object.assign(document.createElement("p"), { className: "empty muted" });
  table.append(thead, tbody);
  scroll.append(table, empty);
  root.append(bar.element, scroll);
  container.replaceChildren(root);

  const { runs: all, capped } = await fetchRuns(context);
  let nowMs = Date.now();
  const s = {
    all, view: /** @type {TableRun[]} */ ([]),
    rows: /** @type {import("./sort.js").DisplayRow[]} */ ([]),
    selected: parseSelection(getState("runs")) ?? new Set(defaultSelection(all, DEFAULT_SELECTED)),
    anchor: /** @type {number | null} */ (null), cursor: -1,
    sort: parseSort(getState("sort")), group: groupField(getState("group")),
    collapsed: /** @type {Set<string>} */ (new Set()), filterError: /** @type {string | null} */ (null),
    columns: chosenColumns(context.projectId, all), capped,
  };
  if (s.sort && !canonicalField(s.sort.field)) s.sort = null;
  bar.filter.value = getState("q") ?? "";

  const announce = (/** @type {boolean} */ persist) => {
    const inView = new Set(s.view.map((run) => run.runId));
    const order = [...s.view, ...s.all.filter((run) => !inView.has(run.runId))];
    context.emit("selection", { runs: runRefs(s.selected, order) });
    if (persist) setState({ runs: formatSelection(s.selected, order) }, context.emit);
  };
  let widthsFor = "";
  const sizeColumns = () => {
    const key = s.columns.join("\n");
    if (key === widthsFor) return;
    widthsFor = key;
    const columns = s.columns.map((id) => /** @type {any} */ (columnById(id)));
    table.querySelector("colgroup")?.remove();
    const widths = columnWidths(columns, s.all.slice(0, WIDTH_SAMPLE), nowMs);
    table.prepend(colGroup(widths));
    table.style.width = `${widths.reduce((sum, w) => sum + w, 2 * EDGE_PX)}px`;
  };
  let headerKey = "";
  const renderHeader = () => {
    const visibleSelected = s.view.filter((run) => s.selected.has(run.runId)).length;
    const state = visibleSelected === 0 ? "none" : visibleSelected === s.view.length ? "all" : "some";
    // an unchanged header stays the same element, as rows do (patchRows): a click pressed on
    // it survives a re-render landing before the release (a filter change, a live refresh)
    const key = JSON.stringify([s.columns, s.sort, state]);
    if (key === headerKey && thead.firstElementChild) return;
    headerKey = key;
    thead.replaceChildren(headerRow(s.columns.map((id) => /** @type {any} */ (columnById(id))),
      s.sort, state));
  };
  const renderBody = () => {
    const win = virtualWindow(scroll.scrollTop, scroll.clientHeight - thead.offsetHeight, ROW_PX,
      s.rows.length, OVERSCAN);
    const ctx = { ws: context.ws, project: context.project, selected: s.selected,
      colors: distinctColors(s.selected),
      columns: s.columns.map((id) => /** @type {any} */ (columnById(id))), cursor: s.cursor, nowMs };
    const span = s.columns.length + 2;
    const rows = [spacerRow(win.padTopPx, span)];
    for (let i = win.start; i < win.end; i++) rows.push(displayRow(s.rows[i], i, ctx));
    rows.push(spacerRow(win.padBottomPx, span));
    patchRows(tbody, rows);
  };
  const recompute = () => {
    const built = buildFilter(bar.filter.value, nowMs);
    s.filterError = built.error;
    bar.showError(built.error);
    const filtered = built.predicate ? s.all.filter(built.predicate) : s.all;
    s.view = s.sort ? sortRuns(filtered, s.sort.field, s.sort.desc, nowMs) : filtered;
    s.rows = groupRows(s.view, s.group, s.collapsed, nowMs);
    s.cursor = Math.min(s.cursor, s.rows.length - 1);
    root.dataset.rows = String(s.view.length);
    empty.textContent = s.all.length === 0 ? "This project has no runs yet. Runs logged with " +
      "rundial.init() appear here." : s.view.length === 0 ? "No run matches this filter." : "";
    bar.count.textContent = `${s.view.length} of ${s.all.length} runs` +
      (s.capped ? ` (newest ${MAX_RUNS} loaded)` : "");
    sizeColumns();
    renderHeader();
    renderBody();
  };
  const setSelected = (/** @type {Set<string>} */ next) => {
    s.selected = next;
    renderHeader();
    renderBody();
    announce(true);
  };
  const runIds = () => s.rows.flatMap((row) => (row.type === "run" ? [row.run.runId] : []));
  const activate = (/** @type {number} */ index, /** @type {boolean} */ shift) => {
    const row = s.rows[index];
    if (!row) return;
    if (row.type === "group") {
      if (s.collapsed.has(row.label)) s.collapsed.delete(row.label);
      else s.collapsed.add(row.label);
      return recompute();
    }
    const ids = runIds();
    const at = ids.indexOf(row.run.runId);
    setSelected(clickSelection(s.selected, ids, at, s.anchor, shift));
    s.anchor = at;
  };
  const moveCursor = (/** @type {number} */ delta) => {
    if (s.rows.length === 0) return;
    s.cursor = Math.max(0, Math.min(s.rows.length - 1, s.cursor + delta));
    const top = s.cursor * ROW_PX, viewTop = scroll.scrollTop;
    const viewPx = scroll.clientHeight - thead.offsetHeight;
    if (top < viewTop) scroll.scrollTop = top;
    else if (top + ROW_PX > viewTop + viewPx) scroll.scrollTop = top + ROW_PX - viewPx;
    renderBody();
  };
  const editRun = (/** @type {TableRun} */ run) => openRunEditor(
    { ws: context.ws, project: context.project, runId: run.runId, name: run.name, tags: run.tags },
    (result) => {
      if (result.type === "deleted") {
        s.all = s.all.filter((r) => r.runId !== result.runId);
        s.selected.delete(result.runId);
        announce(true);
      } else {
        s.all = s.all.map((r) => (r.runId === run.runId
          ? { ...r, name: result.run.runName, tags: result.run.tags } : r));
        announce(false);
      }
      recompute();
    });

  /** @type {Record<string, string | null>} */
  let urlPatch = {};
  let urlPending = false;
  // history.replaceState takes 100+ ms in Chromium under load, so a sort, filter or grouping
  // reaches the URL (and url-state) just after the frame that shows it, never before.
  const deferState = (/** @type {Record<string, string | null>} */ patch) => {
    Object.assign(urlPatch, patch);
    if (urlPending) return;
    urlPending = true;
    requestAnimationFrame(() => setTimeout(() => {
      const next = urlPatch;
      urlPatch = {};
      urlPending = false;
      setState(next, context.emit);
    }, 0));
  };

  thead.addEventListener("click", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest(".select-all")) {
      const next = new Set(s.selected);
      const all = s.view.every((run) => next.has(run.runId));
      for (const run of s.view) all ? next.delete(run.runId) : next.add(run.runId);
      return setSelected(next);
    }
    const th = /** @type {HTMLElement | null} */ (target.closest("th[data-sort]"));
    if (!th) return;
    const field = /** @type {string} */ (th.dataset.sort);
    s.sort = s.sort?.field !== field ? { field, desc: false }
      : !s.sort.desc ? { field, desc: true } : null;
    recompute();
    deferState({ sort: s.sort ? `${s.sort.desc ? "-" : ""}${field}` : null });
  });
  tbody.addEventListener("click", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const tr = /** @type {HTMLElement | null} */ (target.closest("tr[data-index]"));
    if (!tr || target.closest("a")) return;
    const index = Number(tr.dataset.index);
    s.cursor = index;
    const row = s.rows[index];
    if (target.closest(".row-menu") && row?.type === "run") return editRun(row.run);
    if (target.closest(".select")) event.preventDefault();
    activate(index, event.shiftKey);
  });
  let frame = 0;
  scroll.addEventListener("scroll", () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; renderBody(); });
  });
  bar.filter.addEventListener("input", () => {
    recompute();
    deferState({ q: bar.filter.value });
  });
  bar.group.addEventListener("change", () => {
    s.group = groupField(bar.group.value);
    s.collapsed.clear();
    recompute();
    deferState({ group: s.group });
  });
  const chooseColumns = (/** @type {string[]} */ ids) => {
    s.columns = ids;
    try {
      window.localStorage.setItem(columnsKey(context.projectId), JSON.stringify(ids));
    } catch { /* storage disabled: columns last for this page */ }
    recompute();
  };
  const configKeys = allConfigKeys(all);
  fillColumnChooser(bar.chooser, configKeys, s.columns, chooseColumns);
  bar.fillGroups(configKeys, s.group);

  bindKey("j", "next run", () => moveCursor(1));
  bindKey("k", "previous run", () => moveCursor(-1));
  bindKey("Enter", "select or unselect the focused run", () => activate(s.cursor, false));
  bindKey(" ", "select or unselect the focused run", () => activate(s.cursor, false));
  bindKey("e", "edit the focused run (rename, tags, notes, delete)", () => {
    const row = s.rows[s.cursor];
    if (row?.type === "run") editRun(row.run);
  });
  bindKey("o", "open the focused run's page", () => {
    const row = s.rows[s.cursor];
    if (row?.type === "run") window.location.assign(runPath(context.ws, context.project, row.run.runId));
  });

  const reload = async () => {
    const loaded = await fetchRuns(context);
    const before = runRefs(s.selected, s.all);
    nowMs = Date.now();
    s.all = loaded.runs;
    s.capped = loaded.capped;
    if (getState("runs") === null) s.selected = new Set(defaultSelection(s.all, DEFAULT_SELECTED));
    recompute();
    if (selectionChanged(before, runRefs(s.selected, s.all))) announce(false);
  };
  bar.refresh.addEventListener("click", () => { reload().catch(bar.showLoadError); });
  autoRefresh(root, () => s.all, reload);

  recompute();
  root.dataset.state = "ready";
  announce(false);
}

/**
 * The group-by field of a URL value ("config.lr", "lr", "state"...), or null.
 * @param {string | null} value
 * @returns {string | null}
 */
function groupField(value) {
  if (!value) return null;
  return canonicalField(value) ?? canonicalField(`config.${value}`);
}

/** @param {string} projectId */
function columnsKey(projectId) {
  return `rundial-columns:${projectId}`;
}

/**
 * The columns chosen for this project before (localStorage), else the defaults: the fixed
 * ones and up to 8 config keys whose values vary across runs.
 * @param {string} projectId
 * @param {TableRun[]} runs
 * @returns {string[]}
 */
function chosenColumns(projectId, runs) {
  try {
    const stored = JSON.parse(window.localStorage.getItem(columnsKey(projectId)) ?? "null");
    if (Array.isArray(stored) && stored.every((id) => columnById(id))) return stored;
  } catch { /* fall back to the defaults */ }
  return [...DEFAULT_BASE,
    ...varyingConfigKeys(runs, DEFAULT_CONFIG_COLUMNS).map((key) => `config.${key}`)];
}
