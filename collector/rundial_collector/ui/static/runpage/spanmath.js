// Pure logic of the run page's traces: the span tree as rows, the waterfall layout (bars
// relative to the start of their trace, open spans growing to now, skewed clocks kept on
// screen), spans around a point in time, and the evidence references in span attributes
// (node --test: tests/js/runpage.test.mjs).

/**
 * @typedef {{traceId: string, spanId: string, parentSpanId: string | null, name: string,
 *   kind: string, startNs: string, endNs: string | null, status: string, attrsJson: string,
 *   events: any[], children: Span[], [field: string]: any}} Span  a query/spans tree node
 * @typedef {{span: Span, depth: number, root: Span, parent: Span | null,
 *   hasChildren: boolean}} SpanRow
 * @typedef {{leftFrac: number, widthFrac: number, open: boolean, skewed: boolean,
 *   offsetMs: number, durationMs: number}} Bar  a row's bar in its trace's time range
 */

/**
 * A decimal nanosecond string (or number) as a BigInt; null when absent or malformed.
 * @param {string | number | null | undefined} value
 * @returns {bigint | null}
 */
export function parseNs(value) {
  if (value === null || value === undefined || value === "") return null;
  try {
    return BigInt(value);
  } catch {
    return null;
  }
}

/**
 * The rows of a span forest in display order (depth first, children in their given order),
 * skipping the subtrees of ``collapsed`` span ids.
 * @param {Span[]} roots
 * @param {Set<string>} [collapsed] keys from :func:`spanKey`
 * @returns {SpanRow[]}
 */
export function spanRows(roots, collapsed = new Set()) {
  /** @type {SpanRow[]} */
  const rows = [];
  for (const root of roots) {
    /** @type {[Span, number, Span | null][]} */
    const stack = [[root, 0, null]];
    while (stack.length) {
      const [span, depth, parent] = /** @type {[Span, number, Span | null]} */ (stack.pop());
      const children = span.children ?? [];
      rows.push({ span, depth, root, parent, hasChildren: children.length > 0 });
      if (collapsed.has(spanKey(span))) continue;
      for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], depth + 1, span]);
    }
  }
  return rows;
}

/**
 * A span's key in the page (span ids can repeat across traces).
 * @param {Span} span
 * @returns {string}
 */
export function spanKey(span) {
  return `${span.traceId}/${span.spanId}`;
}

/**
 * The time range of a whole tree: its earliest start and latest end, an open span ending at
 * ``nowNs`` (an end before its start counts as the start: a skewed clock).
 * @param {Span} root
 * @param {bigint} nowNs
 * @returns {{startNs: bigint, endNs: bigint}}
 */
export function treeRange(root, nowNs) {
  let startNs = /** @type {bigint | null} */ (null);
  let endNs = /** @type {bigint | null} */ (null);
  const stack = [root];
  while (stack.length) {
    const span = /** @type {Span} */ (stack.pop());
    const { start, end } = spanTimes(span, nowNs);
    if (start !== null) {
      if (startNs === null || start < startNs) startNs = start;
      if (endNs === null || end > endNs) endNs = end;
    }
    stack.push(...(span.children ?? []));
  }
  return { startNs: startNs ?? nowNs, endNs: endNs ?? nowNs };
}

/**
 * A span's start and effective end (open → ``nowNs``, never before its start).
 * @param {Span} span
 * @param {bigint} nowNs
 * @returns {{start: bigint | null, end: bigint, open: boolean}}
 */
export function spanTimes(span, nowNs) {
  const start = parseNs(span.startNs);
  const given = parseNs(span.endNs);
  const open = given === null;
  let end = open ? nowNs : given;
  if (start !== null && end < start) end = start;
  return { start, end, open };
}

/**
 * The waterfall bar of every row, scaled to its root's whole tree (so a trace fills the
 * width); a bar never leaves [0, 1]. ``skewed`` marks a span reaching outside its parent's
 * range or ending before it starts (clocks of different processes disagree).
 * @param {SpanRow[]} rows
 * @param {bigint} nowNs the page's now, for open spans
 * @returns {Bar[]}
 */
export function waterfall(rows, nowNs) {
  /** @type {Map<Span, {startNs: bigint, endNs: bigint}>} */
  const ranges = new Map();
  return rows.map(({ span, root, parent: parentSpan }) => {
    let range = ranges.get(root);
    if (!range) {
      range = treeRange(root, nowNs);
      ranges.set(root, range);
    }
    const { start, end, open } = spanTimes(span, nowNs);
    const total = Number(range.endNs - range.startNs) || 1;
    const from = start === null ? range.startNs : start;
    const leftFrac = clamp01(Number(from - range.startNs) / total);
    const widthFrac = Math.min(1 - leftFrac, Math.max(0, Number(end - from) / total));
    const parent = parentSpan ? spanTimes(parentSpan, nowNs) : null;
    const given = parseNs(span.endNs);
    const skewed = (start !== null && given !== null && given < start) ||
      (!!parent && start !== null && parent.start !== null &&
        (start < parent.start || (!open && end > parent.end)));
    return { leftFrac, widthFrac, open, skewed, offsetMs: Number(from - range.startNs) / 1e6,
      durationMs: Number(end - from) / 1e6 };
  });
}

/** @param {number} x */
function clamp01(x) {
  return Math.min(1, Math.max(0, x));
}

/**
 * Keys of the spans that were running at ``timeMs`` (open spans run until ``nowNs``); when
 * none was, the span(s) starting closest to it. Empty without spans.
 * @param {SpanRow[]} rows
 * @param {number} timeMs
 * @param {bigint} nowNs
 * @returns {{keys: Set<string>, running: boolean}} ``running``: the keys are spans that ran
 *   at that time (else the nearest ones)
 */
export function spansAround(rows, timeMs, nowNs) {
  const t = BigInt(Math.round(timeMs)) * 1_000_000n;
  const hits = new Set();
  let best = /** @type {bigint | null} */ (null);
  /** @type {string[]} */
  let nearest = [];
  for (const { span } of rows) {
    const { start, end } = spanTimes(span, nowNs);
    if (start === null) continue;
    if (start <= t && t <= end) hits.add(spanKey(span));
    const gap = start > t ? start - t : t - start;
    if (best === null || gap < best) {
      best = gap;
      nearest = [spanKey(span)];
    } else if (gap === best) nearest.push(spanKey(span));
  }
  return hits.size ? { keys: hits, running: true } : { keys: new Set(nearest), running: false };
}

/**
 * Evidence references and markers in a span's attributes (the SDK replaces large values by
 * ``{"kind": "rundial.evidence_ref" | "rundial.evidence_marker", …}``), with their attribute path.
 * @param {unknown} attrs parsed ``attrsJson``
 * @returns {{path: string, ref: Record<string, any>}[]}
 */
export function evidenceRefs(attrs) {
  /** @type {{path: string, ref: Record<string, any>}[]} */
  const found = [];
  /** @type {[unknown, string][]} */
  const stack = [[attrs, ""]];
  while (stack.length) {
    const [value, path] = /** @type {[unknown, string]} */ (stack.pop());
    if (!value || typeof value !== "object") continue;
    const record = /** @type {Record<string, any>} */ (value);
    if (record.kind === "rundial.evidence_ref" || record.kind === "rundial.evidence_marker") {
      found.push({ path, ref: record });
      continue;
    }
    for (const [name, child] of Object.entries(record)) {
      stack.push([child, path ? `${path}.${name}` : name]);
    }
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A tree with ``spans`` merged in by key (a live update): a known span is replaced (keeping
 * its children), a new one is attached under its parent (same trace first, else any span with
 * that id, as the server links), else becomes a new root.
 * Returns new roots; children stay ordered by start.
 * @param {Span[]} roots
 * @param {Span[]} spans
 * @returns {Span[]}
 */
export function mergeSpans(roots, spans) {
  /** @type {Map<string, Span>} */
  const index = new Map();
  /** @type {Map<string, Span>} */
  const byId = new Map();
  const copy = (/** @type {Span} */ s) => {
    const node = { ...s, children: (s.children ?? []).map(copy) };
    index.set(spanKey(node), node);
    byId.set(node.spanId, node);
    return node;
  };
  const out = roots.map(copy);
  for (const incoming of spans) {
    const known = index.get(spanKey(incoming));
    if (known) {
      Object.assign(known, { ...incoming, children: known.children });
      continue;
    }
    const node = { ...incoming, children: [] };
    index.set(spanKey(node), node);
    const parent = incoming.parentSpanId
      ? index.get(`${incoming.traceId}/${incoming.parentSpanId}`) ?? byId.get(incoming.parentSpanId)
      : null;
    byId.set(node.spanId, node);
    const siblings = parent ? parent.children : out;
    siblings.push(node);
    siblings.sort((a, b) => {
      const x = parseNs(a.startNs) ?? 0n;
      const y = parseNs(b.startNs) ?? 0n;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  return out;
}
