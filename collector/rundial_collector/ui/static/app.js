// The UI shell: logout, the chart library check, and the router that draws the current page.
//
// Pages (paths the collector answers with this shell):
//   /                              projects            (pages/projects.js)
//   /p/{ws}/{project}              project: runs table + charts (pages/project.js)
//   /p/{ws}/{project}/r/{runId}    run page with tabs  (pages/run.js)
//
// The run page's modules (about 30) are imported only on the run page: the other pages'
// module preload list (every static import of the page's scripts) stays without them.
import uPlot from "uplot";
import { postJson } from "./api.js";
import { renderProjects } from "./pages/projects.js";
import { renderProject } from "./pages/project.js";
import { projectPath, route, runPath } from "./core/routes.js";

/** Record that the chart library loaded through the import map (read by tests and pages). */
document.documentElement.dataset.uplot = typeof uPlot;

/**
 * The breadcrumb: workspace / project / run, each a link.
 * @param {import("./core/routes.js").Route} where
 */
function breadcrumb(where) {
  const nav = /** @type {HTMLElement} */ (document.getElementById("breadcrumb"));
  /** @type {[string, string][]} */
  const crumbs = [];
  if (where.page === "project" || where.page === "run") {
    crumbs.push([where.ws, "/"], [where.project, projectPath(where.ws, where.project)]);
    if (where.page === "run") {
      crumbs.push([where.runId, runPath(where.ws, where.project, where.runId)]);
    }
  }
  nav.replaceChildren(...crumbs.flatMap(([text, href], i) => {
    const link = Object.assign(document.createElement("a"), { textContent: text, href });
    return i ? [document.createTextNode(" / "), link] : [link];
  }));
}

/** Draw the page the URL names into ``#view``. */
async function draw() {
  const view = /** @type {HTMLElement} */ (document.getElementById("view"));
  const where = route(window.location.pathname);
  breadcrumb(where);
  if (where.page === "projects") return renderProjects(view);
  if (where.page === "project") return renderProject(view, where.ws, where.project);
  if (where.page === "run") {
    const { renderRun } = await import("./pages/run.js");
    return renderRun(view, where.ws, where.project, where.runId);
  }
  view.replaceChildren(Object.assign(document.createElement("p"), {
    className: "error", textContent: `No page at ${window.location.pathname}.`,
  }));
}

const logout = /** @type {HTMLButtonElement} */ (document.getElementById("logout"));
logout.addEventListener("click", async () => {
  await postJson("/api/v1/ui/logout", {});
  window.location.assign("/login");
});

draw().catch((err) => {
  const view = /** @type {HTMLElement} */ (document.getElementById("view"));
  view.replaceChildren(Object.assign(document.createElement("p"), {
    className: "error", textContent: `Could not load this page: ${err.message}`,
  }));
});
