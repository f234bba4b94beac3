// A tiny element builder for the artifacts and media tabs (no innerHTML, CSP-safe).

/**
 * Create ``tag`` with properties (``dataset``/``attrs`` objects are spread onto the element's
 * data attributes and attributes) and children (strings become text nodes; null is skipped).
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {(Node | string | null | undefined)[]} [children]
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  const { dataset, attrs, ...rest } = props;
  Object.assign(node, rest);
  for (const [k, v] of Object.entries(dataset ?? {})) node.dataset[k] = String(v);
  for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, String(v));
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/**
 * A message paragraph: ``kind`` is "empty" (a clear empty state), "error" or "muted".
 * @param {"empty" | "error" | "muted"} kind
 * @param {string} text
 * @returns {HTMLElement}
 */
export function message(kind, text) {
  const className = kind === "empty" ? "empty-state muted" : kind;
  return el("p", { className, textContent: text, attrs: kind === "error" ? { role: "alert" } : {} });
}

/**
 * An exact time on hover, a relative one shown.
 * @param {number | null | undefined} ms
 * @param {(thenMs: number, nowMs: number) => string} relative
 * @returns {HTMLElement}
 */
export function timeCell(ms, relative) {
  if (!ms) return el("span", { className: "muted", textContent: "—" });
  const date = new Date(ms);
  return el("time", { textContent: relative(ms, Date.now()), title: date.toISOString(),
    dateTime: date.toISOString() });
}
