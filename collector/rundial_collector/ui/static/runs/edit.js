// The run editor dialog: rename, tags, notes, and delete after a confirmation. Used by the
// runs table's row action and reusable by the run page:
//   openRunEditor({ws, project, runId, name, tags, notes?}, onDone)
// It opens at once; without ``notes`` it reads them with GET on the run and the notes field
// stays read-only (aria-busy) until they arrive. Saves with PATCH and deletes with DELETE on
// /api/v1/workspaces/{ws}/projects/{proj}/runs/{runId} (docs/protocol.md §4.9), with the
// session cookie. Errors from the server are shown in the dialog (the envelope's message);
// the dialog stays open until a change succeeds.
import { getJson } from "../api.js";

/**
 * @typedef {{ws: string, project: string, runId: string, name: string | null,
 *   tags: string[], notes?: string}} EditableRun
 * @typedef {{type: "edited", run: any} | {type: "deleted", runId: string}} EditResult
 */

/**
 * Split the tags field ("a, b c" → ["a", "b", "c"]; commas or spaces separate).
 * @param {string} text
 * @returns {string[]}
 */
export function parseTags(text) {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/**
 * The run's path under its project.
 * @param {EditableRun} run
 * @returns {string}
 */
function runUrl(run) {
  return `/api/v1/workspaces/${encodeURIComponent(run.ws)}/projects/` +
    `${encodeURIComponent(run.project)}/runs/${encodeURIComponent(run.runId)}`;
}

/**
 * Send a JSON request; the reply body, or an Error carrying the envelope's message.
 * @param {string} method
 * @param {string} path
 * @param {object | undefined} body
 * @returns {Promise<any>}
 */
async function send(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const reply = await response.json().catch(() => ({}));
  if (!response.ok) {
    const field = reply?.error?.details?.field;
    const message = reply?.error?.message ?? `HTTP ${response.status}`;
    throw new Error(field && !message.includes(field) ? `${field}: ${message}` : message);
  }
  return reply;
}

/**
 * A labelled form control.
 * @param {string} label
 * @param {HTMLInputElement | HTMLTextAreaElement} control
 * @returns {HTMLLabelElement}
 */
function field(label, control) {
  const wrap = document.createElement("label");
  wrap.append(Object.assign(document.createElement("span"), { textContent: label }), control);
  return wrap;
}

/**
 * Fill ``box`` with the run's notes from the collector, then make it editable; on a failed
 * read say so in ``alert`` and leave it read-only, so that a save cannot blank the notes.
 * @param {EditableRun} run
 * @param {HTMLTextAreaElement} box read-only until the notes arrive
 * @param {HTMLElement} alert
 * @returns {Promise<string | null>} the notes as stored, or null when they could not be read
 */
async function loadNotes(run, box, alert) {
  box.readOnly = true;
  box.setAttribute("aria-busy", "true");
  box.placeholder = "Loading notes…";
  try {
    const notes = (await getJson(runUrl(run))).notes ?? "";
    Object.assign(box, { value: notes, readOnly: false, placeholder: "" });
    return notes;
  } catch (err) {
    box.placeholder = "The notes could not be loaded.";
    alert.textContent = `The notes could not be loaded (${/** @type {Error} */ (err).message}); ` +
      "saving keeps them as they are.";
    return null;
  } finally {
    box.removeAttribute("aria-busy");
  }
}

/**
 * Open the editor for ``run`` at once; ``onDone`` gets the result after a successful save or
 * delete. Without ``run.notes`` the notes are read in the background (:func:`loadNotes`) and
 * are sent on save only once read and changed.
 * @param {EditableRun} run
 * @param {(result: EditResult) => void} onDone
 * @returns {HTMLDialogElement} the open dialog
 */
export function openRunEditor(run, onDone) {
  /** @type {string | null} the notes as stored; null while unknown */
  let notes = run.notes ?? null;
  const dialog = Object.assign(document.createElement("dialog"), { className: "run-editor" });
  dialog.setAttribute("aria-label", `Edit run ${run.name ?? run.runId}`);
  const form = Object.assign(document.createElement("form"), { method: "dialog" });
  const name = Object.assign(document.createElement("input"), {
    id: "run-edit-name", value: run.name ?? "", required: true, maxLength: 512 });
  const tags = Object.assign(document.createElement("input"), {
    id: "run-edit-tags", value: run.tags.join(", "), placeholder: "tag1, tag2" });
  const notesBox = Object.assign(document.createElement("textarea"), {
    id: "run-edit-notes", value: notes ?? "", rows: 5 });
  const error = Object.assign(document.createElement("p"), { className: "error" });
  error.setAttribute("role", "alert");
  const save = Object.assign(document.createElement("button"), {
    type: "submit", textContent: "Save", className: "primary" });
  const cancel = Object.assign(document.createElement("button"), {
    type: "button", textContent: "Cancel" });
  const remove = Object.assign(document.createElement("button"), {
    type: "button", textContent: "Delete…", className: "danger" });
  const buttons = Object.assign(document.createElement("div"), { className: "buttons" });
  buttons.append(remove, cancel, save);
  form.append(Object.assign(document.createElement("h2"), { textContent: `Edit ${run.runId}` }),
    field("Name", name), field("Tags", tags), field("Notes", notesBox), error, buttons);
  dialog.append(form);
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  cancel.addEventListener("click", () => dialog.close());

  /** @param {() => Promise<EditResult>} action */
  const attempt = async (action) => {
    error.textContent = "";
    for (const button of [save, remove, cancel]) button.disabled = true;
    try {
      const result = await action();
      dialog.close();
      onDone(result);
    } catch (err) {
      error.textContent = /** @type {Error} */ (err).message;
    } finally {
      for (const button of [save, remove, cancel]) button.disabled = false;
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    /** @type {Record<string, any>} */
    const body = {};
    if (name.value !== (run.name ?? "")) body.runName = name.value;
    const newTags = parseTags(tags.value);
    if (newTags.join("\n") !== run.tags.join("\n")) body.tags = newTags;
    if (notes !== null && notesBox.value !== notes) body.notes = notesBox.value;
    if (Object.keys(body).length === 0) return dialog.close();
    attempt(async () => ({ type: "edited", run: await send("PATCH", runUrl(run), body) }));
  });
  remove.addEventListener("click", () => {
    if (remove.dataset.confirm !== "1") {
      remove.dataset.confirm = "1";
      remove.textContent = "Really delete";
      error.textContent = "Deleting hides this run and its data everywhere; its id can never " +
        "be used again. Click “Really delete” to confirm.";
      return;
    }
    attempt(async () => {
      await send("DELETE", runUrl(run), undefined);
      return { type: "deleted", runId: run.runId };
    });
  });
  dialog.showModal();
  name.focus();
  if (notes === null) loadNotes(run, notesBox, error).then((loaded) => { notes = loaded; });
  return dialog;
}
