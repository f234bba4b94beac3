// The run page's tab strip (WAI-ARIA tabs): buttons role=tab in a role=tablist, one
// role=tabpanel per tab, arrow keys / Home / End move between tabs, and the open tab is kept
// in the URL as ``?tab=`` (core/urlstate.js). Panels are drawn on first opening.
import { getState, setState } from "../core/urlstate.js";
import { emit } from "../core/bus.js";
import { TABS, TAB_LABELS, nextTab, tabFromState } from "./tablogic.js";

/**
 * @typedef {{select: (tab: string) => void, current: () => string,
 *   panel: (tab: string) => HTMLElement}} Tabs
 */

/**
 * Build the tab strip and panels into ``container``; ``draw(tab, panel)`` fills a panel the
 * first time its tab opens (a failure is shown in the panel, not thrown).
 * @param {HTMLElement} container
 * @param {(tab: string, panel: HTMLElement) => Promise<void> | void} draw
 * @returns {Tabs}
 */
export function mountTabs(container, draw) {
  const list = Object.assign(document.createElement("div"), { className: "run-tabs" });
  list.setAttribute("role", "tablist");
  list.setAttribute("aria-label", "Run sections");
  /** @type {Map<string, HTMLButtonElement>} */
  const buttons = new Map();
  /** @type {Map<string, HTMLElement>} */
  const panels = new Map();
  const drawn = new Set();
  for (const tab of TABS) {
    const button = Object.assign(document.createElement("button"), {
      type: "button", id: `tab-${tab}`, textContent: TAB_LABELS[tab], className: "run-tab",
    });
    button.dataset.tab = tab;
    button.setAttribute("role", "tab");
    button.setAttribute("aria-controls", `panel-${tab}`);
    const panel = Object.assign(document.createElement("section"), {
      id: `panel-${tab}`, className: "run-panel", hidden: true,
    });
    panel.dataset.tab = tab;
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", button.id);
    panel.tabIndex = 0;
    buttons.set(tab, button);
    panels.set(tab, panel);
    list.append(button);
  }
  let current = "";
  /** @param {string} tab @param {boolean} [focus] */
  const select = (tab, focus = false) => {
    tab = tabFromState(tab);
    if (tab === current) return;
    current = tab;
    for (const [name, button] of buttons) {
      const on = name === tab;
      button.setAttribute("aria-selected", String(on));
      button.tabIndex = on ? 0 : -1;
      /** @type {HTMLElement} */ (panels.get(name)).hidden = !on;
    }
    if (focus) /** @type {HTMLButtonElement} */ (buttons.get(tab)).focus();
    setState({ tab: tab === TABS[0] ? null : tab }, emit);
    const panel = /** @type {HTMLElement} */ (panels.get(tab));
    if (!drawn.has(tab)) {
      drawn.add(tab);
      Promise.resolve().then(() => draw(tab, panel)).catch((/** @type {Error} */ err) => {
        panel.replaceChildren(Object.assign(document.createElement("p"), {
          className: "error", textContent: `Could not load this tab: ${err.message}`,
        }));
      });
    }
  };
  list.addEventListener("click", (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest("[role=tab]");
    if (button instanceof HTMLElement && button.dataset.tab) select(button.dataset.tab);
  });
  list.addEventListener("keydown", (event) => {
    /** @type {Record<string, () => string>} */
    const moves = {
      ArrowRight: () => nextTab(current, 1), ArrowLeft: () => nextTab(current, -1),
      Home: () => TABS[0], End: () => TABS[TABS.length - 1],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    select(move(), true);
  });
  container.append(list, ...panels.values());
  select(getState("tab"));
  return {
    select: (tab) => select(tab),
    current: () => current,
    panel: (tab) => /** @type {HTMLElement} */ (panels.get(tab)),
  };
}
