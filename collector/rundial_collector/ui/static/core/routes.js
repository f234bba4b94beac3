// The UI's page paths (pure; unit-tested with `node --test`).

/**
 * @typedef {{page: "projects"} |
 *   {page: "project", ws: string, project: string} |
 *   {page: "run", ws: string, project: string, runId: string} |
 *   {page: "unknown"}} Route
 */

/**
 * The page a path names (pure; unit-tested).
 * @param {string} path ``location.pathname``
 * @returns {Route}
 */
export function route(path) {
  if (path === "/" || path === "") return { page: "projects" };
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "p") return { page: "unknown" };
  if (parts.length === 3) return { page: "project", ws: parts[1], project: parts[2] };
  if (parts.length === 5 && parts[3] === "r") {
    return { page: "run", ws: parts[1], project: parts[2], runId: parts[4] };
  }
  return { page: "unknown" };
}

/**
 * The path of a project page.
 * @param {string} ws
 * @param {string} project
 * @returns {string}
 */
export function projectPath(ws, project) {
  return `/p/${encodeURIComponent(ws)}/${encodeURIComponent(project)}`;
}

/**
 * The path of a run page.
 * @param {string} ws
 * @param {string} project
 * @param {string} runId
 * @returns {string}
 */
export function runPath(ws, project, runId) {
  return `${projectPath(ws, project)}/r/${encodeURIComponent(runId)}`;
}
