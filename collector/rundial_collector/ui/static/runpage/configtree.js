// Pure logic of the run overview's config: the flat dotted config split into config and
// summary (``summary.`` keys), nested by the dots, and searched (node --test).

/**
 * @typedef {{name: string, path: string, value?: unknown, leaf: boolean,
 *   children: ConfigNode[]}} ConfigNode
 */

export const SUMMARY_PREFIX = "summary.";

/**
 * The run's config entries split into plain config and summary (prefix removed), each sorted.
 * @param {Record<string, unknown> | null | undefined} config
 * @returns {{config: [string, unknown][], summary: [string, unknown][]}}
 */
export function splitConfig(config) {
  /** @type {[string, unknown][]} */
  const plain = [];
  /** @type {[string, unknown][]} */
  const summary = [];
  for (const [key, value] of Object.entries(config ?? {})) {
    if (key.startsWith(SUMMARY_PREFIX)) summary.push([key.slice(SUMMARY_PREFIX.length), value]);
    else plain.push([key, value]);
  }
  const byKey = (/** @type {[string, unknown]} */ a, /** @type {[string, unknown]} */ b) =>
    (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  return { config: plain.sort(byKey), summary: summary.sort(byKey) };
}

/**
 * A config value as text: strings as they are, everything else as JSON.
 * @param {unknown} value
 * @returns {string}
 */
export function valueText(value) {
  return typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
}

/**
 * Entries whose key or value text contains ``query`` (case-insensitive); all when blank.
 * @param {[string, unknown][]} entries
 * @param {string} query
 * @returns {[string, unknown][]}
 */
export function searchEntries(entries, query) {
  const needle = query.trim().toLowerCase();
  if (!needle) return entries;
  return entries.filter(([key, value]) => key.toLowerCase().includes(needle) ||
    valueText(value).toLowerCase().includes(needle));
}

/**
 * Entries nested by the dots of their keys ("optim.lr" → optim › lr). A key that is both a
 * value and a prefix ("a" and "a.b") keeps both: the value as a leaf, the others in a group.
 * @param {[string, unknown][]} entries sorted
 * @returns {ConfigNode[]}
 */
export function nestEntries(entries) {
  /** @type {ConfigNode} */
  const top = { name: "", path: "", leaf: false, children: [] };
  for (const [key, value] of entries) {
    const parts = key.split(".");
    let node = top;
    for (let i = 0; i < parts.length - 1; i++) {
      const path = parts.slice(0, i + 1).join(".");
      let group = node.children.find((c) => !c.leaf && c.path === path);
      if (!group) {
        group = { name: parts[i], path, leaf: false, children: [] };
        node.children.push(group);
      }
      node = group;
    }
    node.children.push({ name: parts[parts.length - 1], path: key, value, leaf: true,
      children: [] });
  }
  return top.children;
}
