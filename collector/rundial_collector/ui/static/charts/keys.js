// Which metric keys the grid shows and in which sections (pure).

/** Section order: known prefixes first, then everything else. */
export const SECTIONS = ["train", "eval", "system", "other"];

/**
 * The key search: a plain substring (case-insensitive) or ``/regex/flags``.
 * @param {string} text
 * @returns {{match: (key: string) => boolean, error: string|null}}
 */
export function parseKeySearch(text) {
  const trimmed = (text ?? "").trim();
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(trimmed);
  if (regex && trimmed.length >= 2) {
    try {
      const pattern = new RegExp(regex[1], regex[2]);
      return { match: (key) => pattern.test(key), error: null };
    } catch (err) {
      return { match: () => true, error: `bad regex: ${/** @type {Error} */ (err).message}` };
    }
  }
  const needle = trimmed.toLowerCase();
  return { match: (key) => key.toLowerCase().includes(needle), error: null };
}

/**
 * The section of a key: its first path part when it is a known one, else "other".
 * @param {string} key
 */
export function sectionOf(key) {
  const head = key.split("/", 1)[0];
  return key.includes("/") && SECTIONS.includes(head) && head !== "other" ? head : "other";
}

/**
 * The keys to chart, grouped into sections in :data:`SECTIONS` order, keys sorted in each.
 * @param {Iterable<string>} keys
 * @param {{keyPrefix?: string, excludePrefix?: string, search?: string}} filter
 * @returns {{sections: {name: string, keys: string[]}[], error: string|null, total: number}}
 */
export function groupKeys(keys, filter) {
  const { match, error } = parseKeySearch(filter.search ?? "");
  /** @type {Map<string, string[]>} */
  const bySection = new Map(SECTIONS.map((name) => [name, []]));
  let total = 0;
  for (const key of new Set(keys)) {
    if (filter.keyPrefix && !key.startsWith(filter.keyPrefix)) continue;
    if (filter.excludePrefix && key.startsWith(filter.excludePrefix)) continue;
    if (!match(key)) continue;
    /** @type {string[]} */ (bySection.get(sectionOf(key))).push(key);
    total += 1;
  }
  const wanted = (filter.search ?? "").trim();
  if (!total && !error && wanted.includes("/") && !wanted.startsWith("/")) {
    // A whole key nobody logged: chart it anyway, so it says "unknown key" (and fills in
    // when a run logs it).
    /** @type {string[]} */ (bySection.get(sectionOf(wanted))).push(wanted);
  }
  const sections = [...bySection].filter(([, list]) => list.length)
    .map(([name, list]) => ({ name, keys: list.sort() }));
  return { sections, error, total };
}
