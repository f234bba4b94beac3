// The page's event bus: components talk through named events, never through each other's
// internals.

/**
 * @typedef {{runId: string, name: string, color: string, status: string,
 *            startedAtMs: number | null}} RunRef
 *   A run as the charts and panels need it; ``color`` is its colour in this selection
 *   (``distinctColors``: its own ``runColor`` unless another selected run has that one).
 * @typedef {{runId: string | null, key: string | null, step: number,
 *            timeMs: number | null}} StepFocus
 *   A point the user clicked on a chart (the linked timeline).
 *
 * Events (``detail`` types):
 * - ``selection``: ``{runs: RunRef[]}``, the runs table's selection changed (in table order);
 * - ``step-focus``: ``StepFocus``, highlight this step everywhere, open logs/spans around it;
 * - ``url-state``: ``{changed: string[]}``, URL state fields changed (after history.replaceState).
 */

/** One bus per page load. */
export const bus = new EventTarget();

/**
 * Send ``name`` with ``detail``.
 * @param {string} name
 * @param {any} detail
 */
export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

/**
 * Call ``handler(detail)`` on every ``name`` event; returns the function that stops it.
 * @param {string} name
 * @param {(detail: any) => void} handler
 * @returns {() => void}
 */
export function on(name, handler) {
  /** @param {Event} event */
  const listener = (event) => handler(/** @type {CustomEvent} */ (event).detail);
  bus.addEventListener(name, listener);
  return () => bus.removeEventListener(name, listener);
}
