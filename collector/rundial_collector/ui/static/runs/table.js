// The runs table of a project (placeholder until the runs table lands, issue 15).

/**
 * @typedef {{ws: string, project: string, projectId: string,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} PageContext
 */

/**
 * Draw the runs table into ``container``; announces ``selection`` on the bus.
 * @param {HTMLElement} container
 * @param {PageContext} context
 * @returns {Promise<void>}
 */
export async function mountRunsTable(container, context) {
  container.replaceChildren(Object.assign(document.createElement("p"), {
    className: "muted", textContent: `Runs of ${context.ws}/${context.project}`,
  }));
}
