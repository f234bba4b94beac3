// Pure logic of the run page's artifacts and media tabs (node --test): lineage graph and
// layout, the media slider's step look-up and prefetch, and table sorting with mixed types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { layoutLineage, lineageGraph, nodeAt, NODE_W } from "../../collector/rundial_collector/ui/static/runpage/lineage_layout.js";
import { isNumericColumn, nearestStepIndex, neighbourIndexes, normaliseTable, sortedRowIndexes } from "../../collector/rundial_collector/ui/static/runpage/media_logic.js";

const node = (id, kind = "run") => ({ id, kind, label: id });
const layerOf = (layout) => Object.fromEntries(layout.nodes.map((n) => [n.id, n.layer]));

function assertNoOverlap(layout) {
  const n = layout.nodes;
  for (let i = 0; i < n.length; i++) {
    for (let j = i + 1; j < n.length; j++) {
      const apart = n[i].x + n[i].w <= n[j].x || n[j].x + n[j].w <= n[i].x
        || n[i].y + n[i].h <= n[j].y || n[j].y + n[j].h <= n[i].y;
      assert.ok(apart, `${n[i].id} overlaps ${n[j].id}`);
    }
    assert.ok(n[i].x >= 0 && n[i].y >= 0 && n[i].x + n[i].w <= layout.width
      && n[i].y + n[i].h <= layout.height, `${n[i].id} is outside the canvas`);
  }
}

test("layers follow the longest path", () => {
  const layout = layoutLineage(["a", "b", "c", "d"].map((id) => node(id)),
    [{ from: "a", to: "b" }, { from: "b", to: "c" }, { from: "a", to: "c" }, { from: "d", to: "c" }]);
  assert.deepEqual(layerOf(layout), { a: 0, b: 1, c: 2, d: 0 });
  assert.ok(layout.edges.every((e) => !e.back));
  assertNoOverlap(layout);
});

test("cycles are tolerated: every node is placed once and one edge is marked back", () => {
  const nodes = ["r1", "v1", "r2", "v2"].map((id) => node(id));
  const layout = layoutLineage(nodes, [{ from: "r1", to: "v1" }, { from: "v1", to: "r2" },
    { from: "r2", to: "v2" }, { from: "v2", to: "r1" }, { from: "r1", to: "r1" }]);
  assert.equal(layout.nodes.length, 4);
  assert.deepEqual(layerOf(layout), { r1: 0, v1: 1, r2: 2, v2: 3 });
  assert.deepEqual(layout.edges.filter((e) => e.back).map((e) => [e.from, e.to]), [["v2", "r1"]]);
  assertNoOverlap(layout);
});

test("no overlap on random graphs, with cycles and dangling edges", () => {
  let seed = 7;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let round = 0; round < 50; round++) {
    const count = 1 + rand(30);
    const nodes = Array.from({ length: count }, (_, i) => node(`n${i}`, i % 2 ? "version" : "run"));
    const edges = Array.from({ length: rand(60) }, () => ({ from: `n${rand(count + 2)}`, to: `n${rand(count)}` }));
    const layout = layoutLineage(nodes, edges);
    assert.equal(new Set(layout.nodes.map((n) => n.id)).size, count);
    assertNoOverlap(layout);
    for (const e of layout.edges.filter((x) => !x.back)) {
      const from = layout.nodes.find((n) => n.id === e.from);
      const to = layout.nodes.find((n) => n.id === e.to);
      assert.ok(to.layer > from.layer, "forward edges go right");
    }
  }
});

test("nodeAt finds the node under a point", () => {
  const layout = layoutLineage([node("a"), node("b")], [{ from: "a", to: "b" }]);
  const b = layout.nodes.find((n) => n.id === "b");
  assert.equal(nodeAt(layout, b.x + 1, b.y + 1)?.id, "b");
  assert.equal(nodeAt(layout, b.x - 5, b.y), null);
  assert.ok(layout.width >= 2 * NODE_W);
});

test("lineageGraph: producer → used version → this run → produced version → consumer", () => {
  const reply = {
    runId: "me",
    runs: { me: { runName: "mine", status: "completed" }, up: { runName: "upstream", status: "completed" } },
    used: [{ artifactId: "A", name: "data", version: 1, runId: "up", consumers: [{ runId: "me" }, { runId: "other" }], use: { ref: "data:golden" } }],
    produced: [{ artifactId: "B", name: "model", version: 3, runId: "me", consumers: [{ runId: "down" }] }],
  };
  const { nodes, edges } = lineageGraph(reply);
  const ids = nodes.map((n) => n.id).sort();
  assert.deepEqual(ids, ["run:down", "run:me", "run:other", "run:up", "ver:A", "ver:B"]);
  assert.equal(nodes.find((n) => n.id === "run:up").label, "upstream");
  assert.equal(nodes.find((n) => n.id === "run:other").label, "other");
  assert.equal(nodes.find((n) => n.id === "ver:B").label, "model:v3");
  assert.ok(nodes.find((n) => n.id === "run:me").current);
  const layout = layoutLineage(nodes, edges);
  assert.deepEqual(layerOf(layout), { "run:me": 2, "run:up": 0, "ver:A": 1, "run:other": 2, "ver:B": 3, "run:down": 4 });
  assert.equal(edges.filter((e) => e.from === "ver:A" && e.to === "run:me").length, 1);
});

test("nearestStepIndex picks the nearest logged step (ties go low)", () => {
  const steps = [0, 5, 10, 20];
  assert.equal(nearestStepIndex([], 3), -1);
  assert.equal(nearestStepIndex(steps, -4), 0);
  assert.equal(nearestStepIndex(steps, 0), 0);
  assert.equal(nearestStepIndex(steps, 2), 0);
  assert.equal(nearestStepIndex(steps, 3), 1);
  assert.equal(nearestStepIndex(steps, 7.5), 1);
  assert.equal(nearestStepIndex(steps, 8), 2);
  assert.equal(nearestStepIndex(steps, 15), 2);
  assert.equal(nearestStepIndex(steps, 1e9), 3);
  assert.equal(nearestStepIndex([42], 0), 0);
});

test("neighbourIndexes prefetches around the shown step, within bounds", () => {
  assert.deepEqual(neighbourIndexes(0, 4), [1]);
  assert.deepEqual(neighbourIndexes(3, 4), [2]);
  assert.deepEqual(neighbourIndexes(2, 5, 2), [3, 1, 4, 0]);
  assert.deepEqual(neighbourIndexes(0, 1), []);
});

test("sorting: numbers numerically, mixed kinds grouped, empty cells last both ways", () => {
  const rows = [[10], ["b"], [2], [null], ["a10"], ["a9"], [true], [NaN], [-1.5], [{ x: 1 }]];
  const asc = sortedRowIndexes(rows, 0, "ascending").map((i) => rows[i][0]);
  assert.deepEqual(asc.slice(0, 8), [-1.5, 2, 10, true, "a9", "a10", "b", { x: 1 }]);
  assert.deepEqual(asc.slice(8).map(String), ["null", "NaN"]);
  const desc = sortedRowIndexes(rows, 0, "descending").map((i) => rows[i][0]);
  assert.deepEqual(desc.slice(0, 8), [{ x: 1 }, "b", "a10", "a9", true, 10, 2, -1.5]);
  assert.deepEqual(desc.slice(8).map(String), ["null", "NaN"]);
});

test("sorting is stable on ties", () => {
  const rows = [[1, "x"], [0, "y"], [1, "z"], [0, "w"]];
  assert.deepEqual(sortedRowIndexes(rows, 0, "ascending"), [1, 3, 0, 2]);
  assert.deepEqual(sortedRowIndexes(rows, 0, "descending"), [0, 2, 1, 3]);
});

test("numeric columns are detected; tables normalise dict rows", () => {
  const t = normaliseTable({ columns: ["id", "label"], rows: [[1, "a"], { id: 2, label: "b" }, { label: "c" }] });
  assert.deepEqual(t.rows, [[1, "a"], [2, "b"], [undefined, "c"]]);
  assert.ok(isNumericColumn(t.rows, 0));
  assert.ok(!isNumericColumn(t.rows, 1));
  assert.ok(!isNumericColumn([[null]], 0));
  assert.throws(() => normaliseTable({ rows: [] }), /columns, rows/);
});

import { filePath, filesPath, formatBytes, mediaIndexPath, mediaItemsPath, runArtifactsPath } from "../../collector/rundial_collector/ui/static/runpage/assets_paths.js";

test("route paths encode every segment and parameter", () => {
  assert.equal(runArtifactsPath("w s", "p/1", "r#1"), "/api/v1/workspaces/w%20s/projects/p%2F1/runs/r%231/artifacts");
  assert.equal(filesPath("w", "p", "art_1", 100, null), "/api/v1/workspaces/w/projects/p/artifacts/art_1/files?limit=100");
  assert.equal(filesPath("w", "p", "a", 5, "Wz=="), "/api/v1/workspaces/w/projects/p/artifacts/a/files?limit=5&cursor=Wz%3D%3D");
  assert.equal(filePath("w", "p", "a", "sub/x y&.png", true), "/api/v1/workspaces/w/projects/p/artifacts/a/file?path=sub%2Fx+y%26.png&inline=true");
  assert.equal(mediaIndexPath("w", "p", "r"), "/api/v1/workspaces/w/projects/p/runs/r/media/keys");
  assert.equal(mediaIndexPath("w", "p", "r", { mediaKey: "a/b", cursor: "c" }), "/api/v1/workspaces/w/projects/p/runs/r/media/steps?mediaKey=a%2Fb&cursor=c");
  assert.equal(mediaItemsPath("P", "r", "k", 5), "/api/v1/media?projectId=P&runId=r&mediaKey=k&step=5&limit=50");
});

test("formatBytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(50 * 1024 * 1024), "50 MB");
});
