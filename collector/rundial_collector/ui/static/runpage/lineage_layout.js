// Lineage graph model and layout (pure; unit-tested with `node --test`).
//
// The graph is runs → versions → runs: an edge run → version means the run produced it, an
// edge version → run that the run used it. Layout is layered left to right: every node sits one
// layer right of its furthest predecessor (longest path). Cycles (a run that used a version it
// also produced, directly or through others) are tolerated: the edges closing a cycle, found by
// a depth-first search, are marked ``back`` and ignored for layering. All nodes have the same
// size and sit on a grid (layer, order), so no two nodes overlap.

/**
 * @typedef {{id: string, kind: "run" | "version", label: string, detail?: string,
 *   runId?: string, artifactId?: string, current?: boolean}} LineageNode
 * @typedef {{from: string, to: string}} LineageEdge
 * @typedef {LineageNode & {layer: number, order: number, x: number, y: number, w: number,
 *   h: number}} PlacedNode
 * @typedef {{nodes: PlacedNode[], edges: (LineageEdge & {back: boolean})[], width: number,
 *   height: number}} LineageLayout
 */

export const NODE_W = 150;
export const NODE_H = 34;
const GAP_X = 50;
const GAP_Y = 14;
const PAD = 10;

/**
 * The lineage graph of one run from the run-artifacts reply (docs/protocol.md §5.7).
 * @param {{runId: string, produced: any[], used: any[],
 *   runs: Record<string, {runName: string | null, status: string}>}} reply
 * @returns {{nodes: LineageNode[], edges: LineageEdge[]}}
 */
export function lineageGraph(reply) {
  /** @type {Map<string, LineageNode>} */
  const nodes = new Map();
  /** @type {Map<string, LineageEdge>} */
  const edges = new Map();
  const runNode = (/** @type {string} */ runId) => {
    const id = `run:${runId}`;
    if (!nodes.has(id)) {
      const label = reply.runs?.[runId]?.runName || runId;
      nodes.set(id, { id, kind: "run", label, detail: reply.runs?.[runId]?.status ?? "unknown run",
        runId, current: runId === reply.runId });
    }
    return id;
  };
  const edge = (/** @type {string} */ from, /** @type {string} */ to) => {
    edges.set(`${from}\u0000${to}`, { from, to });
  };
  runNode(reply.runId);
  for (const v of [...reply.used, ...reply.produced]) {
    const id = `ver:${v.artifactId}`;
    if (!nodes.has(id)) {
      nodes.set(id, { id, kind: "version", label: `${v.name}:v${v.version ?? "?"}`,
        detail: v.artifactType ?? v.state, artifactId: v.artifactId });
    }
    edge(runNode(v.runId), id);
    for (const c of v.consumers ?? []) edge(id, runNode(c.runId));
    if (v.use) edge(id, runNode(reply.runId));
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/**
 * Edges that close a cycle in a depth-first search from each node in order (``from\0to`` keys).
 * @param {string[]} ids
 * @param {Map<string, string[]>} out
 * @returns {Set<string>}
 */
function backEdges(ids, out) {
  const state = new Map(); // 1: on the stack, 2: done
  const back = new Set();
  for (const root of ids) {
    if (state.has(root)) continue;
    /** @type {[string, number][]} */
    const stack = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const next = (out.get(top[0]) ?? [])[top[1]++];
      if (next === undefined) {
        state.set(top[0], 2);
        stack.pop();
      } else if (state.get(next) === 1) {
        back.add(`${top[0]}\u0000${next}`);
      } else if (!state.has(next)) {
        state.set(next, 1);
        stack.push([next, 0]);
      }
    }
  }
  return back;
}

/**
 * Longest-path layers over the forward edges (Kahn's order, so it runs in O(V + E)).
 * @param {string[]} ids
 * @param {LineageEdge[]} forward
 * @returns {Map<string, number>}
 */
function layers(ids, forward) {
  const layer = new Map(ids.map((id) => [id, 0]));
  const indegree = new Map(ids.map((id) => [id, 0]));
  /** @type {Map<string, string[]>} */
  const out = new Map();
  for (const e of forward) {
    indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
    out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  }
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const to of out.get(id) ?? []) {
      layer.set(to, Math.max(layer.get(to) ?? 0, (layer.get(id) ?? 0) + 1));
      indegree.set(to, (indegree.get(to) ?? 0) - 1);
      if (indegree.get(to) === 0) queue.push(to);
    }
  }
  return layer;
}

/**
 * Place the graph: layers left to right, nodes ordered in each layer by the mean order of their
 * predecessors (one barycentre sweep), each layer centred vertically.
 * @param {LineageNode[]} nodes
 * @param {LineageEdge[]} edges edges naming unknown nodes are dropped
 * @returns {LineageLayout}
 */
export function layoutLineage(nodes, edges) {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const valid = edges.filter((e) => known.has(e.from) && known.has(e.to) && e.from !== e.to);
  /** @type {Map<string, string[]>} */
  const out = new Map();
  for (const e of valid) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const back = backEdges(ids, out);
  const marked = valid.map((e) => ({ ...e, back: back.has(`${e.from}\u0000${e.to}`) }));
  const layer = layers(ids, marked.filter((e) => !e.back));
  const depth = Math.max(0, ...layer.values()) + 1;
  /** @type {string[][]} */
  const columns = Array.from({ length: depth }, () => []);
  for (const id of ids) columns[layer.get(id) ?? 0].push(id);
  /** @type {Map<string, string[]>} */
  const preds = new Map();
  for (const e of marked) if (!e.back) preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
  const order = new Map();
  for (const column of columns) {
    const weight = (/** @type {string} */ id) => {
      const placed = (preds.get(id) ?? []).filter((p) => order.has(p));
      return placed.length ? placed.reduce((s, p) => s + order.get(p), 0) / placed.length
        : Number.POSITIVE_INFINITY;
    };
    const weights = new Map(column.map((id) => [id, weight(id)]));
    column.sort((a, b) => (weights.get(a) ?? 0) - (weights.get(b) ?? 0));
    column.forEach((id, i) => order.set(id, i));
  }
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const height = 2 * PAD + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const placed = columns.flatMap((column, l) => {
    const top = (height - (column.length * NODE_H + (column.length - 1) * GAP_Y)) / 2;
    return column.map((id, i) => ({
      .../** @type {LineageNode} */ (byId.get(id)), layer: l, order: i,
      x: PAD + l * (NODE_W + GAP_X), y: top + i * (NODE_H + GAP_Y), w: NODE_W, h: NODE_H,
    }));
  });
  return { nodes: placed, edges: marked, width: 2 * PAD + depth * NODE_W + (depth - 1) * GAP_X,
    height };
}

/**
 * The node under a point of the layout's coordinate space, or null.
 * @param {LineageLayout} layout
 * @param {number} x
 * @param {number} y
 * @returns {PlacedNode | null}
 */
export function nodeAt(layout, x, y) {
  return layout.nodes.find((n) => x >= n.x && x <= n.x + n.w && y >= n.y && y <= n.y + n.h)
    ?? null;
}
