// The projects page: every workspace the session's key sees, its projects, run counts and
// last activity.
import { getJson } from "../api.js";
import { relativeTime } from "../format.js";
import { projectPath } from "../core/routes.js";

/**
 * @typedef {{workspaceSlug: string, name: string}} Workspace
 * @typedef {{projectSlug: string, name: string, runCount: number,
 *            lastActivityAtMs: number | null}} Project
 */

/**
 * Every page of a keyset-paged list route.
 * @param {string} path
 * @param {string} field the list's name in the reply
 * @returns {Promise<any[]>}
 */
async function listAll(path, field) {
  /** @type {any[]} */
  const rows = [];
  let cursor = null;
  do {
    const url = cursor ? `${path}?cursor=${encodeURIComponent(cursor)}` : path;
    const reply = await getJson(url);
    rows.push(...reply[field]);
    cursor = reply.page?.hasMore ? reply.page.nextCursor : null;
  } while (cursor);
  return rows;
}

/**
 * One table row for a project.
 * @param {string} workspaceSlug
 * @param {Project} project
 * @returns {HTMLTableRowElement}
 */
function projectRow(workspaceSlug, project) {
  const row = document.createElement("tr");
  const name = document.createElement("td");
  name.append(Object.assign(document.createElement("a"), {
    textContent: project.name, href: projectPath(workspaceSlug, project.projectSlug),
  }));
  const count = Object.assign(document.createElement("td"), {
    className: "num", textContent: String(project.runCount),
  });
  const last = document.createElement("td");
  if (project.lastActivityAtMs != null) {
    last.textContent = relativeTime(project.lastActivityAtMs, Date.now());
    last.title = new Date(project.lastActivityAtMs).toISOString();
  } else {
    last.textContent = "no runs yet";
    last.className = "muted";
  }
  row.dataset.project = project.projectSlug;
  row.append(name, count, last);
  return row;
}

/**
 * A workspace's section: its name and a table of its projects.
 * @param {Workspace} workspace
 * @param {Project[]} projects
 * @returns {HTMLElement}
 */
function workspaceSection(workspace, projects) {
  const section = document.createElement("section");
  section.className = "card";
  section.dataset.workspace = workspace.workspaceSlug;
  const title = Object.assign(document.createElement("h2"), { textContent: workspace.name });
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th>Project</th><th class=\"num\">Runs</th>" +
    "<th>Last activity</th></tr></thead>";
  const body = document.createElement("tbody");
  body.append(...projects.map((p) => projectRow(workspace.workspaceSlug, p)));
  table.append(body);
  section.append(title, projects.length ? table : Object.assign(
    document.createElement("p"), { className: "muted", textContent: "No projects." }));
  return section;
}

/**
 * Draw the projects page into ``view``.
 * @param {HTMLElement} view
 */
export async function renderProjects(view) {
  const workspaces = await listAll("/api/v1/workspaces", "workspaces");
  const sections = await Promise.all(workspaces.map(async (/** @type {Workspace} */ ws) => {
    const path = `/api/v1/workspaces/${encodeURIComponent(ws.workspaceSlug)}/projects`;
    return workspaceSection(ws, await listAll(path, "projects"));
  }));
  const heading = Object.assign(document.createElement("h1"), { textContent: "Projects" });
  view.replaceChildren(heading, ...(sections.length ? sections : [Object.assign(
    document.createElement("p"), { className: "muted", textContent: "No workspaces." })]));
}
