// The runs filter typed in ``#runs-filter`` (pure, no DOM; tested with node --test).
//
// Grammar: terms separated by spaces (an ``AND`` between terms is allowed and ignored); every
// term must hold. A term is
//   field op value   op: = != < <= > >= ~ (regex match) !~ (no match); spaces optional
//   tag:value        the run has this tag (same as ``tags = value``)
//   word             plain text: a case-insensitive substring of name, id, group or a tag
// Fields: see fields.js (name, id, state, kind, group, jobType, host, tags, start, end,
// duration, updated, config.<key>, summary.<key>). Values may be "double quoted". Numbers
// compare numerically; ``tags`` matches when any tag does. A bad filter never throws: the
// parser returns ``{error}`` with a message saying what is wrong.
import { canonicalField, fieldValue } from "./fields.js";

/**
 * @typedef {import("./fields.js").TableRun} TableRun
 * @typedef {{field: string, op: string, value: string, regex?: RegExp, number?: number}} Term
 *   ``field`` "" = plain text.
 * @typedef {{terms: Term[], error: null} | {terms: null, error: string}} Parsed
 */

const OPS = ["<=", ">=", "!=", "!~", "=", "<", ">", "~"];
const TOKEN = /\s*(?:"((?:[^"\\]|\\.)*)"|(<=|>=|!=|!~|=|<|>|~)|([^\s"<>=!~]+(?:![^\s"<>=~]*)*))/y;

/**
 * Split the filter text into tokens: {text, quoted, op}.
 * @param {string} text
 * @returns {{tokens: {text: string, kind: "word" | "quoted" | "op"}[], error: string | null}}
 */
export function tokenize(text) {
  /** @type {{text: string, kind: "word" | "quoted" | "op"}[]} */
  const tokens = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (text.slice(at).trim() !== "") {
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) {
      const rest = text.slice(at).trim();
      return { tokens, error: rest.startsWith('"') ? "a quote is not closed"
        : `cannot read the filter at “${rest}”` };
    }
    at = TOKEN.lastIndex;
    if (m[1] !== undefined) tokens.push({ text: m[1].replace(/\\(.)/g, "$1"), kind: "quoted" });
    else if (m[2] !== undefined) tokens.push({ text: m[2], kind: "op" });
    else tokens.push({ text: m[3], kind: "word" });
  }
  return { tokens, error: null };
}

/**
 * Parse a filter; ``{terms}`` or ``{error}`` (never throws).
 * @param {string} text
 * @returns {Parsed}
 */
export function parseFilter(text) {
  const { tokens, error } = tokenize(text);
  if (error) return { terms: null, error };
  /** @type {Term[]} */
  const terms = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === "op") return fail(`“${token.text}” needs a field before it`);
    if (token.kind === "word" && /^and$/i.test(token.text)) continue;
    const next = tokens[i + 1];
    if (next?.kind === "op") {
      const value = tokens[i + 2];
      if (!value || value.kind === "op") {
        return fail(`“${token.text} ${next.text}” needs a value after ${next.text}`);
      }
      const term = makeTerm(token.text, next.text, value.text);
      if (typeof term === "string") return fail(term);
      terms.push(term);
      i += 2;
    } else if (token.kind === "word" && /^tags?:/i.test(token.text)) {
      const value = token.text.slice(token.text.indexOf(":") + 1);
      if (!value) return fail("tag: needs a tag after the colon");
      terms.push({ field: "tags", op: "=", value });
    } else {
      terms.push({ field: "", op: "~", value: token.text.toLowerCase() });
    }
  }
  return { terms, error: null };
}

/** @param {string} error @returns {Parsed} */
function fail(error) {
  return { terms: null, error };
}

/**
 * One ``field op value`` term, or the error text.
 * @param {string} rawField
 * @param {string} op
 * @param {string} value
 * @returns {Term | string}
 */
function makeTerm(rawField, op, value) {
  const field = canonicalField(rawField);
  if (field === null) {
    return `unknown field “${rawField}” (use name, id, state, kind, group, jobType, host, ` +
      "tags, start, duration, config.<key> or summary.<key>)";
  }
  if (!OPS.includes(op)) return `unknown operator “${op}”`;
  /** @type {Term} */
  const term = { field, op, value };
  if (op === "~" || op === "!~") {
    try {
      term.regex = new RegExp(value, "i");
    } catch (err) {
      return `“${value}” is not a valid regular expression`;
    }
  }
  const number = Number(value);
  if (value.trim() !== "" && Number.isFinite(number)) term.number = number;
  if ((op === "<" || op === "<=" || op === ">" || op === ">=") && term.number === undefined) {
    return `${rawField} ${op} needs a number, not “${value}”`;
  }
  return term;
}

/**
 * The predicate of parsed terms: true when the run matches all of them.
 * @param {Term[]} terms
 * @param {number} nowMs for the duration of running runs
 * @returns {(run: TableRun) => boolean}
 */
export function compileFilter(terms, nowMs) {
  if (terms.length === 0) return () => true;
  return (run) => terms.every((term) => matches(term, run, nowMs));
}

/**
 * @param {Term} term
 * @param {TableRun} run
 * @param {number} nowMs
 * @returns {boolean}
 */
function matches(term, run, nowMs) {
  if (term.field === "") return textMatches(term.value, run);
  const value = fieldValue(run, term.field, nowMs);
  if (Array.isArray(value) && term.field === "tags") {
    const hit = value.some((item) => compare(item, term));
    return term.op === "!=" || term.op === "!~" ? value.every((item) => compare(item, term))
      : hit;
  }
  return compare(value, term);
}

/**
 * @param {string} needle lower-cased
 * @param {TableRun} run
 */
function textMatches(needle, run) {
  let haystack = SEARCH_TEXT.get(run);
  if (haystack === undefined) {
    haystack = [run.name ?? "", run.runId, run.group ?? "", ...run.tags].join("\n").toLowerCase();
    SEARCH_TEXT.set(run, haystack);
  }
  return haystack.includes(needle);
}

/** The lower-cased text a plain word searches, per run (computed once per run object). */
const SEARCH_TEXT = /** @type {WeakMap<TableRun, string>} */ (new WeakMap());

/**
 * @param {any} value a run's value (null = absent)
 * @param {Term} term
 * @returns {boolean}
 */
function compare(value, term) {
  const { op } = term;
  if (op === "~" || op === "!~") {
    const hit = value !== null && /** @type {RegExp} */ (term.regex).test(String(value));
    return op === "~" ? hit : !hit;
  }
  const numeric = typeof value === "number" && term.number !== undefined;
  if (op === "=" || op === "!=") {
    const equal = numeric ? value === term.number
      : value !== null && String(value).toLowerCase() === term.value.toLowerCase();
    return op === "=" ? equal : !equal;
  }
  if (!numeric) return false;
  const n = /** @type {number} */ (term.number);
  if (op === "<") return value < n;
  if (op === "<=") return value <= n;
  if (op === ">") return value > n;
  return value >= n;
}

/**
 * Parse and compile in one step: ``{predicate}`` or ``{error}`` (never throws).
 * @param {string} text
 * @param {number} nowMs
 * @returns {{predicate: ((run: TableRun) => boolean) | null, error: string | null}}
 */
export function buildFilter(text, nowMs) {
  const parsed = parseFilter(text);
  if (parsed.error !== null) return { predicate: null, error: parsed.error };
  return { predicate: compileFilter(parsed.terms, nowMs), error: null };
}
