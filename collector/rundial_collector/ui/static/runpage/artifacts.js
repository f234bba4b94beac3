// The run page's Artifacts tab (stub; issue 15 fills it).

/**
 * @typedef {{ws: string, project: string, projectId: string, run: Record<string, any>,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} RunContext
 */

/**
 * Draw the artifacts tab into ``panel``.
 * @param {HTMLElement} panel
 * @param {RunContext} context
 * @returns {Promise<void>}
 */
export async function renderArtifactsTab(panel, context) {
  panel.replaceChildren(Object.assign(document.createElement("p"), {
    className: "muted", textContent: `No artifacts view yet for ${context.run.runId}.`,
  }));
}
