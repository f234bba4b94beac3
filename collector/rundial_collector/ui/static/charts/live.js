// The grid's live part: follow the running runs' feeds, route their points to the charts, and
// show one ``.live-status[data-status]`` for the grid (the least healthy feed's status, so a
// reconnecting or failed feed is never shown as live).
import { followRuns } from "../live/feed.js";

/**
 * @typedef {import("../core/bus.js").RunRef} RunRef
 * @typedef {import("./merge.js").TailPoints} TailPoints
 */

/**
 * The status a set of feeds shows: the first not live nor finished, else live, else finished.
 * @param {string[]} states
 */
export function overallStatus(states) {
  return states.find((v) => v !== "live" && v !== "finished") ??
    (states.includes("live") ? "live" : "finished");
}

/**
 * @param {HTMLElement} holder where the status element goes
 * @param {string} projectId
 * @param {(runId: string, key: string, points: TailPoints) => void} onPoints
 */
export function createLiveStatus(holder, projectId, onPoints) {
  /** @type {{close: () => void}|null} */
  let feed = null;
  return {
    /** Follow the running ones of ``runs`` (closing the previous feeds). @param {RunRef[]} runs */
    follow(runs) {
      feed?.close();
      feed = null;
      holder.replaceChildren();
      const running = runs.filter((r) => r.status === "running");
      if (!running.length) return;
      const status = Object.assign(document.createElement("span"), {
        className: "live-status", textContent: "connecting" });
      status.dataset.status = "connecting";
      holder.append(status);
      /** @type {Map<string, string>} */
      const states = new Map(running.map((r) => [r.runId, "connecting"]));
      feed = followRuns(projectId, running, {
        onPoints,
        onStatus: (runId, s) => {
          states.set(runId, s);
          const shown = overallStatus([...states.values()]);
          status.dataset.status = shown;
          status.textContent = shown;
        },
      });
    },
    close() {
      feed?.close();
      feed = null;
    },
  };
}
