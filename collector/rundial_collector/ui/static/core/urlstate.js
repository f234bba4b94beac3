// View state kept in the URL's query string, so a copied URL opens the same view.
//
// Fields (each owned by one component; values are strings, "" or absent = default):
//   runs   selected run ids, comma-separated (runs table)
//   q      runs table text/field filter      sort  "column" or "-column"   group  config key
//   keys   chart key search (plain or /regex/)  smooth  smoothing weight   smoothKind  ema|mean
//   x      step|wall|relative   ylog  "1" for log y   zoom  "lo,hi" in x units
//   tab    run page tab         step  focused step (linked timeline)
// Pure parse/format functions are unit-tested with `node --test` (tests/js/).

/**
 * The fields of a query string.
 * @param {string} search a ``location.search`` (with or without "?")
 * @returns {Record<string, string>}
 */
export function parseState(search) {
  /** @type {Record<string, string>} */
  const state = {};
  for (const [name, value] of new URLSearchParams(search)) state[name] = value;
  return state;
}

/**
 * ``state`` with ``patch`` applied (null or "" removes a field), as a query string with the
 * fields in name order (so equal states give equal URLs).
 * @param {Record<string, string>} state
 * @param {Record<string, string | null>} patch
 * @returns {string} "" or "?a=1&b=2"
 */
export function formatState(state, patch) {
  /** @type {Record<string, string>} */
  const merged = { ...state };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null || value === "") delete merged[name];
    else merged[name] = value;
  }
  const params = new URLSearchParams();
  for (const name of Object.keys(merged).sort()) params.set(name, merged[name]);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * One field of the current URL.
 * @param {string} name
 * @returns {string | null}
 */
export function getState(name) {
  return parseState(window.location.search)[name] ?? null;
}

/**
 * Apply ``patch`` to the current URL (history.replaceState, no reload) and announce the
 * changed fields on the bus as ``url-state``.
 * @param {Record<string, string | null>} patch
 * @param {(name: string, detail: any) => void} [announce]
 */
export function setState(patch, announce) {
  const search = formatState(parseState(window.location.search), patch);
  if (search !== window.location.search) {
    window.history.replaceState(null, "", window.location.pathname + search);
    announce?.("url-state", { changed: Object.keys(patch) });
  }
}
