// Which media a run logged: its keys and each key's steps, read page by page (bounded), and
// the items at one step, cached so the slider never fetches the same step twice.
import { getJson } from "../api.js";
import { mediaIndexPath, mediaItemsPath } from "./assets_paths.js";

/** At most this many keys and steps per key are read (the slider stays responsive). */
export const MAX_KEYS = 1000;
export const MAX_STEPS_PER_KEY = 50_000;

/**
 * Follow a paged route until it has no more pages or ``cap`` entries were read.
 * @template T
 * @param {(cursor: string | null) => string} pathOf
 * @param {(page: any) => T[]} entries
 * @param {number} cap
 * @returns {Promise<{items: T[], truncated: boolean}>}
 */
async function readPages(pathOf, entries, cap) {
  /** @type {T[]} */
  const items = [];
  let cursor = null;
  for (;;) {
    const page = await getJson(pathOf(cursor));
    items.push(...entries(page));
    cursor = page.page.nextCursor;
    if (!page.page.hasMore || !cursor) return { items, truncated: false };
    if (items.length >= cap) return { items, truncated: true };
  }
}

/**
 * The run's media keys.
 * @param {{ws: string, project: string, runId: string}} where
 */
export function mediaKeys(where) {
  return readPages((cursor) => mediaIndexPath(where.ws, where.project, where.runId, { cursor }),
    (page) => page.keys, MAX_KEYS);
}

/**
 * The ascending steps of one key.
 * @param {{ws: string, project: string, runId: string}} where
 * @param {string} mediaKey
 */
export function mediaSteps(where, mediaKey) {
  return readPages((cursor) => mediaIndexPath(where.ws, where.project, where.runId,
    { mediaKey, cursor }), (page) => page.steps, MAX_STEPS_PER_KEY);
}

/** A logged table larger than this is not loaded into the page (rd.Table tables are far smaller). */
export const MAX_TABLE_BYTES = 32 * 1024 * 1024;

/**
 * The JSON of a table file with the session cookie; an Error with a clear message when the
 * file is missing, too large to show or not JSON.
 * @param {string} url
 * @returns {Promise<unknown>}
 */
export async function fetchTableJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  }
  const size = Number(response.headers.get("Content-Length") ?? "0");
  if (size > MAX_TABLE_BYTES) {
    await response.body?.cancel();
    throw new Error(`the table file is ${Math.round(size / 1048576)} MB, too large to show here`);
  }
  try {
    return await response.json();
  } catch {
    throw new Error("the table file is not valid JSON");
  }
}

/** A per-tab cache of the items at (key, step): one request per step, shared by prefetches. */
export class ItemCache {
  /**
   * @param {string} projectId
   * @param {string} runId
   */
  constructor(projectId, runId) {
    this.projectId = projectId;
    this.runId = runId;
    /** @type {Map<string, Promise<any[]>>} */
    this.items = new Map();
  }

  /**
   * The items of ``mediaKey`` at ``step`` (a failed fetch is forgotten, so it can be retried).
   * @param {string} mediaKey
   * @param {number} step
   * @returns {Promise<any[]>}
   */
  at(mediaKey, step) {
    const id = `${mediaKey}\u0000${step}`;
    let found = this.items.get(id);
    if (!found) {
      found = getJson(mediaItemsPath(this.projectId, this.runId, mediaKey, step))
        .then((reply) => reply.items);
      found.catch(() => this.items.delete(id));
      this.items.set(id, found);
    }
    return found;
  }
}
