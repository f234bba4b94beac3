// The run state badge, the same on every page: running pulses a dot (its text keeps full
// contrast), completed is neutral, failed is red, every other state (killed, aborted, lost,
// unknown) amber; a reason shows on hover. Styles: style.css (".state").

/**
 * The badge's classes for ``status``.
 * @param {string} status
 * @returns {string}
 */
export function stateClass(status) {
  if (status === "running" || status === "completed" || status === "failed") {
    return `state state-${status}`;
  }
  return "state state-warn";
}

/**
 * A state badge element (``data-state`` holds the status).
 * @param {string} status
 * @param {string | null} [reason] shown as the tooltip
 * @returns {HTMLElement}
 */
export function stateBadge(status, reason) {
  const warn = stateClass(status).endsWith("warn") ? " state-amber" : "";
  const badge = Object.assign(document.createElement("span"), {
    className: `${stateClass(status)} state-badge${warn}`, textContent: status,
  });
  badge.dataset.state = status;
  if (reason) badge.title = reason;
  return badge;
}
