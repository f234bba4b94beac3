// A version's file list, one page at a time (an artifact may hold 10,000 files): path, size and
// a plain download link that works with the session cookie. Files whose content is no longer
// stored are marked and get no link.
import { getJson } from "../api.js";
import { filePath, filesPath, formatBytes } from "./assets_paths.js";
import { el, message } from "./assets_dom.js";

export const FILES_PAGE = 100;

/**
 * Mount the paged file list of one version into ``container`` and load its first page.
 * @param {HTMLElement} container
 * @param {{ws: string, project: string}} where
 * @param {{artifactId: string, fileCount: number, state: string}} version
 * @returns {Promise<void>}
 */
export async function mountFileList(container, where, version) {
  if (version.state !== "ready") {
    container.replaceChildren(message("muted",
      `This version is ${version.state}: its files are no longer available.`));
    return;
  }
  if (!version.fileCount) {
    container.replaceChildren(message("empty", "This version has no files."));
    return;
  }
  /** @type {(string | null)[]} the cursor that loads each page (index 0: none) */
  const cursors = [null];
  let index = 0;
  const body = el("tbody");
  const status = el("span", { className: "muted files-status" });
  const prev = el("button", { type: "button", textContent: "Previous", disabled: true });
  const next = el("button", { type: "button", textContent: "Next", disabled: true });
  const table = el("table", { className: "artifact-files" }, [
    el("thead", {}, [el("tr", {}, [el("th", { textContent: "Path", scope: "col" }),
      el("th", { className: "num", textContent: "Size", scope: "col" }),
      el("th", { textContent: "Download", scope: "col" })])]), body]);
  const pager = el("div", { className: "files-pager" }, [prev, status, next]);
  container.replaceChildren(table, pager);
  const show = async (/** @type {number} */ wanted) => {
    prev.toggleAttribute("disabled", true);
    next.toggleAttribute("disabled", true);
    status.textContent = "Loading…";
    try {
      const page = await getJson(filesPath(where.ws, where.project, version.artifactId,
        FILES_PAGE, cursors[wanted]));
      index = wanted;
      cursors[index + 1] = page.page.nextCursor;
      body.replaceChildren(...page.files.map((/** @type {any} */ f) => fileRow(where, version, f)));
      const first = index * FILES_PAGE + 1;
      status.textContent = `${first}–${first + page.files.length - 1} of ${page.total}`;
      prev.toggleAttribute("disabled", index === 0);
      next.toggleAttribute("disabled", !page.page.hasMore);
      container.dataset.page = String(index);
    } catch (err) {
      status.textContent = "";
      body.replaceChildren(el("tr", {}, [el("td", { colSpan: 3 },
        [message("error", `Could not load the files: ${/** @type {Error} */ (err).message}`)])]));
      prev.toggleAttribute("disabled", index === 0);
    }
  };
  prev.addEventListener("click", () => show(index - 1));
  next.addEventListener("click", () => show(index + 1));
  pager.hidden = version.fileCount <= FILES_PAGE;
  await show(0);
}

/**
 * @param {{ws: string, project: string}} where
 * @param {{artifactId: string}} version
 * @param {{path: string, sizeBytes: number, stored: boolean}} f
 * @returns {HTMLElement}
 */
function fileRow(where, version, f) {
  const name = f.path.split("/").pop() || "file";
  const link = f.stored
    ? el("a", { className: "download", href: filePath(where.ws, where.project, version.artifactId, f.path),
      download: name, textContent: "Download", title: `Download ${f.path}` })
    : el("span", { className: "error", textContent: "content no longer stored" });
  return el("tr", { dataset: { path: f.path } }, [
    el("td", { className: "path", textContent: f.path }),
    el("td", { className: "num", textContent: formatBytes(f.sizeBytes), title: `${f.sizeBytes} bytes` }),
    el("td", {}, [link]),
  ]);
}
