// The lineage graph: a small canvas component (runs → versions → runs) with a text alternative.
// Clicking a run node opens its run page; clicking a version node scrolls to its card. The
// layout is pure (lineage_layout.js); this module only draws and handles pointer input.
import { runPath } from "../core/routes.js";
import { el } from "./assets_dom.js";
import { layoutLineage, lineageGraph, nodeAt } from "./lineage_layout.js";

export const MAX_DRAWN_NODES = 150;

/**
 * @typedef {import("./lineage_layout.js").LineageLayout} LineageLayout
 * @typedef {import("./lineage_layout.js").PlacedNode} PlacedNode
 */

/**
 * Draw the lineage of one run into ``container``: the canvas (when the graph has at most
 * :data:`MAX_DRAWN_NODES` nodes) and always the list that describes it.
 * @param {HTMLElement} container
 * @param {any} reply the run-artifacts reply
 * @param {{ws: string, project: string}} where
 */
export function mountLineage(container, reply, where) {
  const { nodes, edges } = lineageGraph(reply);
  const layout = layoutLineage(nodes, edges);
  /** @type {any} */ (window).__rundialLineage = layout;
  const parts = [];
  if (nodes.length <= MAX_DRAWN_NODES) {
    parts.push(lineageCanvas(layout, where));
  } else {
    parts.push(el("p", { className: "muted",
      textContent: `${nodes.length} runs and versions: too many to draw; see the list.` }));
  }
  parts.push(lineageList(reply, where));
  container.replaceChildren(...parts);
}

/**
 * @param {LineageLayout} layout
 * @param {{ws: string, project: string}} where
 * @returns {HTMLElement}
 */
function lineageCanvas(layout, where) {
  const canvas = /** @type {HTMLCanvasElement} */ (el("canvas", {
    className: "lineage-canvas", dataset: { nodes: layout.nodes.length },
    attrs: { role: "img", "aria-label": "Lineage graph; the list below describes it" },
  }));
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.ceil(layout.width * ratio);
  canvas.height = Math.ceil(layout.height * ratio);
  canvas.style.width = `${layout.width}px`;
  canvas.style.height = `${layout.height}px`;
  const at = (/** @type {MouseEvent} */ e) => {
    const box = canvas.getBoundingClientRect();
    return nodeAt(layout, (e.clientX - box.left) * layout.width / box.width,
      (e.clientY - box.top) * layout.height / box.height);
  };
  canvas.addEventListener("mousemove", (e) => {
    const node = at(e);
    canvas.classList.toggle("pointing", node !== null);
    canvas.title = node ? `${node.label} (${node.detail ?? node.kind})` : "";
  });
  canvas.addEventListener("click", (e) => {
    const node = at(e);
    if (node) openNode(node, where);
  });
  const wrap = el("div", { className: "lineage-scroll" }, [canvas]);
  requestAnimationFrame(() => draw(canvas, layout, ratio));
  return wrap;
}

/**
 * Navigate to a run node's page, or bring a version node's card into view.
 * @param {PlacedNode} node
 * @param {{ws: string, project: string}} where
 */
function openNode(node, where) {
  if (node.kind === "run" && node.runId && !node.current) {
    window.location.assign(runPath(where.ws, where.project, node.runId));
  } else if (node.kind === "version" && node.artifactId) {
    const card = document.getElementById(`artifact-${node.artifactId}`);
    card?.scrollIntoView({ block: "start" });
    card?.focus();
  }
}

/**
 * @param {HTMLCanvasElement} canvas
 * @param {LineageLayout} layout
 * @param {number} ratio
 */
function draw(canvas, layout, ratio) {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const css = getComputedStyle(canvas);
  const color = (/** @type {string} */ name, /** @type {string} */ fallback) =>
    css.getPropertyValue(name).trim() || fallback;
  const fg = color("--fg", "#1b1f24");
  const border = color("--border", "#d0d7de");
  const accent = color("--accent", "#0969da");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, layout.width, layout.height);
  const byId = new Map(layout.nodes.map((n) => [n.id, n]));
  for (const e of layout.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (a && b) drawEdge(ctx, a, b, e.back, fg);
  }
  for (const n of layout.nodes) drawNode(ctx, n, { fg, border, accent, card: color("--card", "#f6f8fa") });
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {PlacedNode} a @param {PlacedNode} b @param {boolean} back @param {string} stroke
 */
function drawEdge(ctx, a, b, back, stroke) {
  const forward = b.x > a.x;
  const x1 = forward ? a.x + a.w : a.x + a.w / 2;
  const y1 = forward ? a.y + a.h / 2 : a.y + a.h;
  const x2 = forward ? b.x : b.x + b.w / 2;
  const y2 = forward ? b.y + b.h / 2 : b.y + b.h;
  ctx.save();
  ctx.strokeStyle = stroke;
  ctx.globalAlpha = 0.55;
  ctx.lineWidth = 1.25;
  ctx.setLineDash(back ? [4, 3] : []);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  const bend = forward ? (x2 - x1) / 2 : 0;
  ctx.bezierCurveTo(x1 + bend, forward ? y1 : y1 + 30, x2 - bend, forward ? y2 : y2 + 30, x2, y2);
  ctx.stroke();
  if (forward) {
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - 6, y2 - 3.5);
    ctx.lineTo(x2 - 6, y2 + 3.5);
    ctx.closePath();
    ctx.fillStyle = stroke;
    ctx.fill();
  }
  ctx.restore();
}

/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {PlacedNode} n
 * @param {{fg: string, border: string, accent: string, card: string}} colors
 */
function drawNode(ctx, n, colors) {
  ctx.save();
  ctx.beginPath();
  const radius = n.kind === "run" ? n.h / 2 : 4;
  ctx.roundRect(n.x, n.y, n.w, n.h, radius);
  ctx.fillStyle = colors.card;
  ctx.fill();
  ctx.lineWidth = n.current ? 2.5 : 1;
  ctx.strokeStyle = n.current ? colors.accent : colors.border;
  ctx.stroke();
  ctx.fillStyle = colors.fg;
  ctx.font = `${n.kind === "run" ? "600 " : ""}12px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  ctx.fillText(clip(ctx, n.label, n.w - 16), n.x + 8, n.y + n.h / 2);
  ctx.restore();
}

/**
 * ``text`` cut with an ellipsis to fit ``width`` pixels.
 * @param {CanvasRenderingContext2D} ctx @param {string} text @param {number} width
 * @returns {string}
 */
function clip(ctx, text, width) {
  if (ctx.measureText(text).width <= width) return text;
  let end = text.length;
  while (end > 1 && ctx.measureText(`${text.slice(0, end)}…`).width > width) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * The text alternative: per version, who produced it and who used it, as links.
 * @param {any} reply
 * @param {{ws: string, project: string}} where
 * @returns {HTMLElement}
 */
function lineageList(reply, where) {
  const runLink = (/** @type {string} */ runId) => {
    const name = reply.runs?.[runId]?.runName || runId;
    if (runId === reply.runId) return el("strong", { textContent: `${name} (this run)` });
    return el("a", { href: runPath(where.ws, where.project, runId), textContent: name,
      dataset: { runId } });
  };
  const seen = new Set();
  const items = [];
  for (const v of [...reply.used, ...reply.produced]) {
    if (seen.has(v.artifactId)) continue;
    seen.add(v.artifactId);
    const users = (v.consumers ?? []).flatMap((/** @type {any} */ c, /** @type {number} */ i) =>
      i ? [", ", runLink(c.runId)] : [runLink(c.runId)]);
    const more = v.consumerCount > (v.consumers ?? []).length
      ? ` and ${v.consumerCount - v.consumers.length} more` : "";
    items.push(el("li", { dataset: { nodeId: `ver:${v.artifactId}` } }, [
      el("a", { href: `#artifact-${v.artifactId}`, textContent: `${v.name}:v${v.version}` }),
      " — produced by ", runLink(v.runId), "; ",
      ...(users.length ? ["used by ", ...users, more] : ["not used by any run"]),
    ]));
  }
  return el("ul", { className: "lineage-list" }, items);
}
