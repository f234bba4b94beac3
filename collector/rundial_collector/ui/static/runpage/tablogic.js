// Pure logic of the run page's tabs (node --test).

/** The tabs in order; the first is the default. */
export const TABS = /** @type {const} */ (["overview", "charts", "system", "logs", "traces",
  "artifacts", "media"]);

/** Tab labels. */
export const TAB_LABELS = {
  overview: "Overview", charts: "Charts", system: "System", logs: "Logs", traces: "Traces",
  artifacts: "Artifacts", media: "Media",
};

/**
 * The tab a ``?tab=`` value names, or the default for an absent or unknown one.
 * @param {string | null} value
 * @returns {string}
 */
export function tabFromState(value) {
  return value && /** @type {readonly string[]} */ (TABS).includes(value) ? value : TABS[0];
}

/**
 * The tab ``delta`` places after ``tab`` (arrow keys), wrapping around.
 * @param {string} tab
 * @param {number} delta
 * @returns {string}
 */
export function nextTab(tab, delta) {
  const i = /** @type {readonly string[]} */ (TABS).indexOf(tab);
  return TABS[(i + delta + TABS.length * 2) % TABS.length];
}
