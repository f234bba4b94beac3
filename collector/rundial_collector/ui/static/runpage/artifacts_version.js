// One artifact version as a card: name:vN, aliases, type, size, created time, lineage links and
// a lazily loaded, paged file list (opened at once for the first few versions).
import { runPath } from "../core/routes.js";
import { relativeTime } from "../format.js";
import { formatBytes } from "./assets_paths.js";
import { el, timeCell } from "./assets_dom.js";
import { mountFileList } from "./artifacts_files.js";

/**
 * @param {any} v a version of the run-artifacts reply (``use`` set for a used version)
 * @param {any} reply the whole reply (run names)
 * @param {{ws: string, project: string}} where
 * @param {boolean} open load and show the files now
 * @returns {HTMLElement}
 */
export function versionCard(v, reply, where, open) {
  const runName = (/** @type {string} */ id) => reply.runs?.[id]?.runName || id;
  const producer = v.runId === reply.runId ? el("span", { textContent: "this run" })
    : el("a", { href: runPath(where.ws, where.project, v.runId), textContent: runName(v.runId) });
  const facts = el("dl", { className: "artifact-facts" }, [
    ...fact("Type", v.artifactType ?? "—"),
    ...fact("Size", el("span", { textContent: formatBytes(v.sizeBytes), title: `${v.sizeBytes} bytes` })),
    ...fact("Files", String(v.fileCount)),
    ...fact("Created", timeCell(v.finalizedAtMs ?? v.createdAtMs, relativeTime)),
    ...fact("Produced by", producer),
    ...(v.use ? fact("Used as", `${v.use.ref} (${v.use.useCount}×)`) : []),
  ]);
  const aliases = el("span", { className: "aliases" }, v.aliases.map((/** @type {string} */ a) =>
    el("span", { className: "alias", textContent: a })));
  const state = v.state !== "ready" ? el("span", { className: "badge-deleted", textContent: v.state }) : null;
  const files = el("div", { className: "artifact-file-list" });
  const details = /** @type {HTMLDetailsElement} */ (el("details", { className: "artifact-files-box" },
    [el("summary", { textContent: `Files (${v.fileCount})` }), files]));
  let loaded = false;
  details.addEventListener("toggle", () => {
    if (details.open && !loaded) {
      loaded = true;
      mountFileList(files, where, v);
    }
  });
  details.open = open;
  return el("article", {
    className: "artifact-version card", id: `artifact-${v.artifactId}`, tabIndex: -1,
    dataset: { artifactId: v.artifactId, name: v.name, version: v.version ?? "" },
  }, [el("h3", {}, [el("span", { className: "artifact-name", textContent: `${v.name}:v${v.version}` }),
    " ", aliases, state]), facts, details]);
}

/**
 * @param {string} term
 * @param {Node | string} value
 * @returns {HTMLElement[]}
 */
function fact(term, value) {
  return [el("dt", { textContent: term }), el("dd", {}, [value])];
}
