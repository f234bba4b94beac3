// Paths of the artifact and media read routes (docs/protocol.md §5.6-§5.8) and byte sizes as
// text (pure; unit-tested with `node --test`).

const enc = encodeURIComponent;

/**
 * @param {string} ws
 * @param {string} project
 * @returns {string}
 */
function projectApi(ws, project) {
  return `/api/v1/workspaces/${enc(ws)}/projects/${enc(project)}`;
}

/**
 * The versions a run produced and used.
 * @param {string} ws @param {string} project @param {string} runId
 * @returns {string}
 */
export function runArtifactsPath(ws, project, runId) {
  return `${projectApi(ws, project)}/runs/${enc(runId)}/artifacts`;
}

/**
 * One page of a version's files.
 * @param {string} ws @param {string} project @param {string} artifactId
 * @param {number} limit @param {string | null} cursor
 * @returns {string}
 */
export function filesPath(ws, project, artifactId, limit, cursor) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (cursor) q.set("cursor", cursor);
  return `${projectApi(ws, project)}/artifacts/${enc(artifactId)}/files?${q}`;
}

/**
 * A file's bytes with the session cookie: a download, or inline for an ``<img>``.
 * @param {string} ws @param {string} project @param {string} artifactId @param {string} path
 * @param {boolean} [inline]
 * @returns {string}
 */
export function filePath(ws, project, artifactId, path, inline = false) {
  const q = new URLSearchParams({ path });
  if (inline) q.set("inline", "true");
  return `${projectApi(ws, project)}/artifacts/${enc(artifactId)}/file?${q}`;
}

/**
 * A run's media keys (one page) or one key's steps (one page).
 * @param {string} ws @param {string} project @param {string} runId
 * @param {{mediaKey?: string, cursor?: string | null}} [options]
 * @returns {string}
 */
export function mediaIndexPath(ws, project, runId, options = {}) {
  const q = new URLSearchParams();
  if (options.mediaKey !== undefined) q.set("mediaKey", options.mediaKey);
  if (options.cursor) q.set("cursor", options.cursor);
  const what = options.mediaKey !== undefined ? "steps" : "keys";
  const query = q.toString();
  return `${projectApi(ws, project)}/runs/${enc(runId)}/media/${what}${query ? `?${query}` : ""}`;
}

/**
 * The media items of one key at one step (their captions and artifact files).
 * @param {string} projectId @param {string} runId @param {string} mediaKey @param {number} step
 * @returns {string}
 */
export function mediaItemsPath(projectId, runId, mediaKey, step) {
  const q = new URLSearchParams({ projectId, runId, mediaKey, step: String(step), limit: "50" });
  return `/api/v1/media?${q}`;
}

/**
 * "1.5 KB" style text (powers of 1024, one decimal below 10).
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || value >= 10 ? String(Math.round(value)) : value.toFixed(1);
  return `${text} ${units[unit]}`;
}
