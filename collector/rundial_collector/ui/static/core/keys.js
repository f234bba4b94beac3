// Keyboard shortcuts for every page: components bind keys here, and ``?`` lists them in an
// overlay (Esc closes it). A shortcut never fires while the user types in an input, a text
// area, a select or an editable element (Esc there only leaves the field); Enter and space are
// left alone on buttons and links, so their own activation wins.
//
// Built in: ``/`` focuses the page's search box (the first of SEARCH_SELECTORS on the page),
// ``s`` focuses the chart key search (#chart-search), ``?`` shows the list.

/** @typedef {{key: string, description: string, handler: (event: KeyboardEvent) => void}} Binding */

/** Search boxes ``/`` focuses, first present wins (runs filter, then the chart key search). */
export const SEARCH_SELECTORS = ["#runs-filter", "#logs-search", "#chart-search"];

/** @type {Binding[]} */
const bindings = [];

/**
 * True when a key event's target is somewhere the user types (pure on the target's shape).
 * @param {{tagName?: string, isContentEditable?: boolean, type?: string} | null} target
 * @returns {boolean}
 */
export function isTyping(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName.toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return true;
  if (tag !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "reset", "range"].includes(
    (target.type ?? "text").toLowerCase());
}

/**
 * The binding for a key name (``event.key``), newest binding first.
 * @param {string} key
 * @returns {Binding | undefined}
 */
export function findBinding(key) {
  for (let i = bindings.length - 1; i >= 0; i--) if (bindings[i].key === key) return bindings[i];
  return undefined;
}

/**
 * Bind ``key`` (an ``event.key`` value such as "j", "/", "Enter", " ") until the returned
 * function is called. A later binding of the same key wins while it exists.
 * @param {string} key
 * @param {string} description shown in the ``?`` overlay
 * @param {(event: KeyboardEvent) => void} handler
 * @returns {() => void}
 */
export function bindKey(key, description, handler) {
  const binding = { key, description, handler };
  bindings.push(binding);
  return () => {
    const at = bindings.indexOf(binding);
    if (at >= 0) bindings.splice(at, 1);
  };
}

/**
 * The shortcut list shown by ``?`` (one entry per key, the active binding).
 * @returns {{key: string, description: string}[]}
 */
export function shortcutList() {
  const seen = new Set();
  /** @type {{key: string, description: string}[]} */
  const list = [];
  for (let i = bindings.length - 1; i >= 0; i--) {
    const { key, description } = bindings[i];
    if (!seen.has(key)) list.unshift({ key, description });
    seen.add(key);
  }
  return list;
}

/**
 * Focus the first search box of ``selectors`` present on the page; false when none is.
 * @param {string[]} selectors
 * @returns {boolean}
 */
export function focusSearch(selectors) {
  for (const selector of selectors) {
    const box = /** @type {HTMLInputElement | null} */ (document.querySelector(selector));
    if (box && box.offsetParent !== null) {
      box.focus();
      box.select?.();
      return true;
    }
  }
  return false;
}

/** Show (or focus) the overlay listing the shortcuts; Esc or its button closes it. */
export function showShortcuts() {
  let dialog = /** @type {HTMLDialogElement | null} */ (document.getElementById("shortcuts"));
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "shortcuts";
    dialog.className = "shortcuts";
    dialog.setAttribute("aria-labelledby", "shortcuts-title");
    document.body.append(dialog);
  }
  const title = Object.assign(document.createElement("h2"), {
    id: "shortcuts-title", textContent: "Keyboard shortcuts" });
  const list = document.createElement("dl");
  for (const { key, description } of shortcutList()) {
    const kbd = Object.assign(document.createElement("kbd"), {
      textContent: key === " " ? "space" : key });
    const dt = document.createElement("dt");
    dt.append(kbd);
    list.append(dt, Object.assign(document.createElement("dd"), { textContent: description }));
  }
  const close = Object.assign(document.createElement("button"), {
    type: "button", textContent: "Close" });
  close.addEventListener("click", () => dialog?.close());
  dialog.replaceChildren(title, list, close);
  if (!dialog.open) dialog.showModal();
  close.focus();
}

/** @param {KeyboardEvent} event */
function onKeyDown(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = /** @type {HTMLElement | null} */ (event.target);
  if (isTyping(target)) {
    if (event.key === "Escape") target?.blur();
    return;
  }
  if (document.querySelector("dialog[open]") && event.key !== "?") return; // modal owns keys
  const tag = target?.tagName?.toUpperCase();
  if ((event.key === "Enter" || event.key === " ") && (tag === "BUTTON" || tag === "A")) return;
  const binding = findBinding(event.key);
  if (!binding) return;
  event.preventDefault();
  binding.handler(event);
}

/** Install the listener and the built-in keys once per page. */
function install() {
  document.addEventListener("keydown", onKeyDown);
  bindKey("?", "show this list of shortcuts", showShortcuts);
  bindKey("/", "focus the search box of this page", () => focusSearch(SEARCH_SELECTORS));
  bindKey("s", "focus the chart key search", () => focusSearch(["#chart-search"]));
  document.getElementById("shortcuts-help")?.addEventListener("click", showShortcuts);
}

if (typeof document !== "undefined") install();
