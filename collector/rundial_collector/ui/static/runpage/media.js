// The run page's Media tab (stub; issue 15 fills it).

/**
 * @typedef {{ws: string, project: string, projectId: string, run: Record<string, any>,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} RunContext
 */

/**
 * Draw the media tab into ``panel``.
 * @param {HTMLElement} panel
 * @param {RunContext} context
 * @returns {Promise<void>}
 */
export async function renderMediaTab(panel, context) {
  panel.replaceChildren(Object.assign(document.createElement("p"), {
    className: "muted", textContent: `No media view yet for ${context.run.runId}.`,
  }));
}
