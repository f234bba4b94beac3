// The live-status badge: one `.live-status[data-status]` element that says whether what a
// panel shows is live (docs/ui.md, "Live updates"). A panel showing several runs shows the
// least live of their statuses.

/** @typedef {import("./feed.js").FeedStatus} FeedStatus */

/** Most urgent first: the status a panel of many runs shows. */
const PRECEDENCE = ["failed", "reconnecting", "connecting", "replaying", "idle", "live", "finished"];

const LABELS = {
  connecting: "connecting…", replaying: "catching up…", live: "live",
  reconnecting: "reconnecting…", finished: "finished", failed: "not live", idle: "not live",
};

/**
 * The status a panel of several runs shows: the least live one (``finished`` only when every
 * run finished; ``live`` only when none is behind). Pure.
 * @param {Iterable<FeedStatus>} statuses
 * @returns {FeedStatus | null} null for no run
 */
export function combinedStatus(statuses) {
  let best = null;
  for (const s of statuses) {
    if (best === null || PRECEDENCE.indexOf(s) < PRECEDENCE.indexOf(best)) best = s;
  }
  return best;
}

/**
 * A badge in ``container`` tracking per-run statuses; ``set(runId, status, detail)`` fits
 * ``FeedHandlers.onStatus``.
 * @param {HTMLElement} container
 * @returns {{set: (runId: string, status: FeedStatus, detail: string) => void,
 *            element: HTMLElement}}
 */
export function mountLiveStatus(container) {
  const element = document.createElement("span");
  element.className = "live-status";
  element.setAttribute("role", "status");
  container.append(element);
  /** @type {Map<string, FeedStatus>} */
  const byRun = new Map();
  /** @type {Map<string, string>} */
  const details = new Map();
  const render = () => {
    const status = combinedStatus(byRun.values());
    if (status === null) {
      element.hidden = true;
      return;
    }
    element.hidden = false;
    element.dataset.status = status;
    element.textContent = LABELS[status] ?? status;
    element.title = [...byRun].filter(([, s]) => s === status)
      .map(([runId]) => `${runId}: ${details.get(runId) || status}`).join("\n");
  };
  return {
    set: (runId, status, detail) => {
      byRun.set(runId, status);
      details.set(runId, detail);
      render();
    },
    element,
  };
}
