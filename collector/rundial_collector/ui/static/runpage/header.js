// The run page's header: name, state badge (running pulses, failed red with its reason on
// hover, killed/aborted/lost amber), the live status of the run's stream, and the edit button
// (shown only when the runs area's editor module loads).
import { relativeTime } from "../format.js";
import { exactTime } from "./timefmt.js";
import { stateBadge } from "../core/badge.js";

/** States drawn amber (stopped without completing). */

/**
 * @typedef {{setRun: (run: Record<string, any>) => void,
 *   setLiveStatus: (status: string, detail?: string) => void,
 *   showEdit: (on: boolean) => void}} RunHeader
 */

/**
 * Build the header into ``container``.
 * @param {HTMLElement} container
 * @param {Record<string, any>} run
 * @param {() => void} onEdit opens the run editor
 * @returns {RunHeader}
 */
export function mountRunHeader(container, run, onEdit) {
  const header = Object.assign(document.createElement("header"), { className: "run-header" });
  const title = document.createElement("h1");
  const badgeSlot = Object.assign(document.createElement("span"), { className: "badge-slot" });
  const started = Object.assign(document.createElement("span"), { className: "muted run-started" });
  const live = Object.assign(document.createElement("span"), { className: "live-status" });
  live.setAttribute("aria-live", "polite");
  const edit = Object.assign(document.createElement("button"), {
    type: "button", className: "run-edit", textContent: "Edit run", hidden: true,
  });
  edit.addEventListener("click", onEdit);
  header.append(title, badgeSlot, started, live, edit);
  container.append(header);
  const setRun = (/** @type {Record<string, any>} */ next) => {
    title.textContent = next.runName || next.runId;
    title.title = next.runId;
    badgeSlot.replaceChildren(stateBadge(next.status, next.reason));
    if (next.startedAtMs) {
      started.textContent = `started ${relativeTime(next.startedAtMs, Date.now())}`;
      started.title = exactTime(next.startedAtMs);
    }
  };
  setRun(run);
  return {
    setRun,
    setLiveStatus: (status, detail = "") => {
      live.dataset.status = status;
      live.textContent = status === "live" ? "● live" : status;
      live.title = detail || `stream: ${status}`;
    },
    showEdit: (/** @type {boolean} */ on) => { edit.hidden = !on; },
  };
}
