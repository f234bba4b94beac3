// The collector's JSON API, called with the session cookie (same origin only).

/**
 * @typedef {{ok: true, status: number, body: any} | {ok: false, status: number, message: string}} Reply
 */

/**
 * GET a JSON route; a 401 sends the browser to the login page.
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function getJson(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("not logged in");
  }
  if (!response.ok) {
    throw new Error(await errorMessage(response));
  }
  return response.json();
}

/**
 * The project's id and names, by its slugs (``GET /api/v1/workspaces/{ws}/projects/{project}``:
 * one request, however many projects the workspace has); throws the collector's message
 * (``workspace/project … was not found``) when it is unknown.
 * @param {string} ws
 * @param {string} project
 * @returns {Promise<{projectId: string, projectSlug: string, name: string}>}
 */
export function findProject(ws, project) {
  return getJson(`/api/v1/workspaces/${encodeURIComponent(ws)}/projects/` +
    encodeURIComponent(project));
}

/**
 * POST a JSON body; never throws for an HTTP error.
 * @param {string} path
 * @param {object} body
 * @returns {Promise<Reply>}
 */
export async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.ok) {
    return { ok: true, status: response.status, body: await response.json() };
  }
  return { ok: false, status: response.status, message: await errorMessage(response) };
}

/**
 * The protocol envelope's message, or the status line.
 * @param {Response} response
 * @returns {Promise<string>}
 */
async function errorMessage(response) {
  try {
    const body = await response.json();
    return body?.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}
