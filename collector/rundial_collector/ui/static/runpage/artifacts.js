// The run page's Artifacts tab: the versions this run produced and used (name, version,
// aliases, type, size, created time, paged files with download links) and their lineage, drawn
// as a small canvas graph with a list as its text alternative.
import { getJson } from "../api.js";
import { runArtifactsPath } from "./assets_paths.js";
import { el, message } from "./assets_dom.js";
import { versionCard } from "./artifacts_version.js";
import { mountLineage } from "./lineage.js";

/** Versions whose file list opens at once (the rest load when opened). */
const OPEN_FIRST = 6;

/**
 * @typedef {{ws: string, project: string, projectId: string, run: Record<string, any>,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} RunContext
 */

/**
 * Draw the artifacts tab into ``panel``. Sets ``panel.dataset.assets`` to ``loading``, then
 * ``ready``, ``empty`` or ``error`` (with a message in the panel; never throws).
 * @param {HTMLElement} panel
 * @param {RunContext} context
 * @returns {Promise<void>}
 */
export async function renderArtifactsTab(panel, context) {
  const where = { ws: context.ws, project: context.project };
  const root = el("section", { className: "assets artifacts-tab" }, [message("muted", "Loading artifacts…")]);
  panel.replaceChildren(root);
  panel.dataset.assets = "loading";
  let reply;
  try {
    reply = await getJson(runArtifactsPath(context.ws, context.project, context.run.runId));
  } catch (err) {
    root.replaceChildren(message("error",
      `Could not load this run's artifacts: ${/** @type {Error} */ (err).message}`));
    panel.dataset.assets = "error";
    return;
  }
  if (!reply.produced.length && !reply.used.length) {
    root.replaceChildren(message("empty", "This run has not produced or used any artifacts."));
    panel.dataset.assets = "empty";
    return;
  }
  const lineage = el("div", { className: "lineage" });
  let opened = 0;
  const cards = (/** @type {any[]} */ versions) => versions.map((v) =>
    versionCard(v, reply, where, opened++ < OPEN_FIRST));
  root.replaceChildren(
    el("h2", { textContent: "Lineage" }), lineage,
    section("Produced", reply.produced, reply.producedHasMore, cards, "produced"),
    section("Used", reply.used, reply.usedHasMore, cards, "used"));
  mountLineage(lineage, reply, where);
  panel.dataset.assets = "ready";
}

/**
 * @param {string} title
 * @param {any[]} versions
 * @param {boolean} more
 * @param {(versions: any[]) => HTMLElement[]} cards
 * @param {string} role
 * @returns {HTMLElement}
 */
function section(title, versions, more, cards, role) {
  const note = more ? message("muted", `Showing the first ${versions.length} versions.`) : null;
  const body = versions.length ? cards(versions)
    : [message("empty", role === "used" ? "This run used no artifacts." : "This run produced no artifacts.")];
  return el("section", { className: "artifact-group", dataset: { group: role } }, [
    el("h2", { textContent: `${title} (${versions.length}${more ? "+" : ""})` }), ...body, note]);
}
