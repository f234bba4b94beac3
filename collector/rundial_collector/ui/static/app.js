// The UI shell: logout, the chart library check, and the current page.
import uPlot from "uplot";
import { postJson } from "/ui/api.js";
import { renderProjects } from "/ui/projects.js";

/** Record that the chart library loaded through the import map (read by tests and pages). */
document.documentElement.dataset.uplot = typeof uPlot;

const logout = /** @type {HTMLButtonElement} */ (document.getElementById("logout"));
logout.addEventListener("click", async () => {
  await postJson("/api/v1/ui/logout", {});
  window.location.assign("/login");
});

const view = /** @type {HTMLElement} */ (document.getElementById("view"));
renderProjects(view).catch((err) => {
  view.replaceChildren(Object.assign(document.createElement("p"), {
    className: "error", textContent: `Could not load projects: ${err.message}`,
  }));
});
