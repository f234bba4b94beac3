// The project page's first look-ups, started as soon as the page is parsed: this is the page's
// first module script and has a small import graph, so they run while the page's other modules
// still load and run (docs/ui.md, "Figures"). They are the project by its slugs and, at the same
// time (by the same slugs, not after the project's id is known), the keys and the details of
// the runs the URL names; the project page and its chart grid take each result once
// (``earlyOr``), and make their own look-up when there is none.
import { findProject } from "./api.js";
import { route } from "./core/routes.js";
import { keysOfRuns, runsFromUrl, urlRunIds } from "./charts/sources.js";

/** @type {Map<string, Promise<{projectId: string, value: any}|null>>} by name, until taken
 *  (null: it failed; the taker then makes its own, which reports the error) */
const started = new Map();

/** Start the look-ups of a project page (nothing on other pages). */
function start() {
  const where = route(window.location.pathname);
  if (where.page !== "project") return;
  const project = findProject(where.ws, where.project);
  const slugs = { workspace: where.ws, project: where.project };
  /** ``read`` (already started), kept with the id of the project it was made for.
   *  @param {string} name @param {Promise<any>} read */
  const keep = (name, read) => {
    started.set(name, Promise.all([project, read])
      .then(([p, value]) => ({ projectId: p.projectId, value })).catch(() => null));
  };
  keep(`project ${where.ws}/${where.project}`, project);
  const ids = urlRunIds();
  if (!ids.length) return;
  keep(`keys ${ids.join(",")}`, keysOfRuns(slugs, ids));
  keep(`runs ${ids.join(",")}`, runsFromUrl({ projectId: slugs }, ids));
}

/**
 * The early look-up ``name`` (``project ws/slug``, ``keys id,…``, ``runs id,…``), once, when it
 * was made for ``projectId`` (any project when null) and succeeded; else ``fallback()``.
 * @template T
 * @param {string} name @param {string|null} projectId @param {() => Promise<T>} fallback
 * @returns {Promise<T>}
 */
export async function earlyOr(name, projectId, fallback) {
  const early = started.get(name);
  started.delete(name);
  const got = early ? await early : null;
  return got && (projectId === null || got.projectId === projectId) ? got.value : fallback();
}

start();
