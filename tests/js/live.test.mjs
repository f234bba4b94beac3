// Live chart merging (charts/merge.js): server golden vectors plus the cases the server cannot
// make (NaN values, stale flags, the read/stream race), and the feed's pure pieces (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cellOf, dropCovered, mergeTail } from "../../collector/rundial_collector/ui/static/charts/merge.js";
import { followRuns, pickFollowed, MAX_SOCKETS } from "../../collector/rundial_collector/ui/static/live/feed.js";
import { followRun, MAX_OPENING_SOCKETS } from "../../collector/rundial_collector/ui/static/core/socket.js";
import { FakeSocket, until } from "./fakesocket.mjs";

const golden = JSON.parse(readFileSync(new URL("../golden/merge.json", import.meta.url), "utf8"));

/** @param {number[]} steps @param {(number|null)[]} [values] */
const pts = (steps, values) => ({
  steps, timestampsMs: steps.map((s) => 1000 + s), values: values ?? steps.map((s) => s / 2),
});

/** A raw chart entry holding ``steps`` (value step/2, time 1000+step). */
const raw = (steps, values) => ({
  runId: "r", metricKey: "k", mode: "raw", pointsLogged: steps.length,
  pointsInRange: steps.length, duplicatesResolved: 0, firstStep: steps[0],
  lastStep: steps[steps.length - 1], ...pts(steps, values),
});

const strip = ({ grid: _grid, ...rest }) => rest;

test("golden vectors from the server: mergeTail(reply 1, part 2) == reply 2", () => {
  assert.ok(golden.vectors.length >= 8);
  for (const v of golden.vectors) {
    assert.deepEqual(strip(mergeTail(v.entry, v.points, v.buckets)), v.expected, v.name);
  }
});

test("the input entry is never changed", () => {
  const v = golden.vectors.find((x) => x.entry.mode === "buckets");
  const before = JSON.stringify(v.entry);
  mergeTail(v.entry, v.points, v.buckets);
  assert.equal(JSON.stringify(v.entry), before);
});

test("raw growth keeps raw and counts", () => {
  const out = mergeTail(raw([0, 1, 2]), pts([3, 4]), 10);
  assert.equal(out.mode, "raw");
  assert.deepEqual(out.steps, [0, 1, 2, 3, 4]);
  assert.deepEqual([out.pointsLogged, out.pointsInRange, out.lastStep], [5, 5, 4]);
});

test("raw becomes buckets past the budget, with the server's cells", () => {
  const out = mergeTail(raw([0, 1, 2, 3]), pts([4, 5, 6, 7, 8, 9]), 4);
  assert.equal(out.mode, "buckets");
  // span 10 in 4 cells: cell = floor(s * 4 / 10) -> [0,1,2] [3,4] [5,6,7] [8,9]
  assert.deepEqual(out.stepStart, [0, 3, 5, 8]);
  assert.deepEqual(out.stepEnd, [2, 4, 7, 9]);
  assert.deepEqual(out.count, [3, 2, 3, 2]);
  assert.deepEqual(out.min, [0, 1.5, 2.5, 4]);
  assert.deepEqual(out.last, [1, 2, 3.5, 4.5]);
  assert.deepEqual(out.lastTimestampMs, [1002, 1004, 1007, 1009]);
  assert.deepEqual(out.grid, { first: 0, span: 10, cells: 4 });
});

test("a repeated step supersedes without double counting", () => {
  const out = mergeTail(raw([0, 1, 2]), pts([1, 1, 3], [7, 8, 9]), 10);
  assert.deepEqual(out.values, [0, 8, 1, 9]);
  assert.deepEqual([out.pointsLogged, out.pointsInRange, out.duplicatesResolved], [6, 4, 2]);
});

test("out-of-order steps land in step order", () => {
  const out = mergeTail(raw([2, 4]), pts([3, 0]), 10);
  assert.deepEqual(out.steps, [0, 2, 3, 4]);
  assert.equal(out.firstStep, 0);
});

test("NaN (null) values: kept in raw, ignored by min/max, null when a bucket is all NaN", () => {
  const r = mergeTail(raw([0]), pts([1, 2], [null, NaN]), 10);
  assert.deepEqual(r.values, [0, null, null]);
  const b = mergeTail(raw([0, 1]), pts([2, 3, 4, 5], [null, 7, null, null]), 3);
  // span 6 in 3 cells: [0,1] [2,3] [4,5]
  assert.deepEqual(b.min, [0, 7, null]);
  assert.deepEqual(b.max, [0.5, 7, null]);
  assert.deepEqual(b.last, [0.5, 7, null]);
  const again = mergeTail(b, pts([6], [-1]), 3); // cell floor(6*3/6) = 3: a new bucket
  assert.deepEqual(again.min.slice(-1), [-1]);
  assert.equal(again.stale, undefined);
});

/** A bucketed entry of steps 0..n-1 (value step/2) in ``cells`` cells. */
const buckets = (n, cells) => mergeTail(raw([0]), pts(Array.from({ length: n - 1 }, (_, i) => i + 1)), cells);

test("buckets extend, update the last bucket, and pair up past twice the cells", () => {
  const b = buckets(40, 8); // cells of 5 steps
  const grown = mergeTail(b, pts([40, 41, 42]), 8);
  assert.equal(grown.stepEnd.length, 9);
  assert.deepEqual(grown.count.slice(-1), [3]);
  const paired = mergeTail(grown, pts([80]), 8); // cell 16 -> span doubles
  assert.deepEqual(paired.grid, { first: 0, span: 80, cells: 8 });
  assert.deepEqual(paired.count, [10, 10, 10, 10, 3, 1]);
  assert.equal(paired.pointsInRange, 44);
  assert.equal(paired.lastStep, 80);
});

test("superseding where the old value is unknown or extreme marks the entry stale", () => {
  const b = buckets(40, 8);
  const inside = mergeTail(b, pts([37], [3]), 8); // inside [35, 39]: old value unknown
  assert.equal(inside.stale, true);
  assert.equal(inside.pointsInRange, 40);
  const extreme = mergeTail(b, pts([39], [0]), 8); // 19.5 is the bucket's max
  assert.equal(extreme.stale, true);
  const same = mergeTail(b, pts([39], [19.5]), 8); // an identical re-send: exact
  assert.equal(same.stale, undefined);
  assert.deepEqual([same.pointsLogged, same.duplicatesResolved], [41, 1]);
  const before = mergeTail(b, pts([-1]), 8); // before the grid
  assert.equal(before.stale, true);
  assert.equal(mergeTail(before, pts([40]), 8).stale, true); // stays stale until refetched
});

test("an empty entry (unknown key) becomes raw with its first points", () => {
  const empty = { runId: "r", metricKey: "k", mode: "empty", reason: "no points logged for this key",
    pointsLogged: 0, pointsInRange: 0, duplicatesResolved: 0 };
  const out = mergeTail(empty, pts([5, 6]), 10);
  assert.equal(out.mode, "raw");
  assert.equal(out.reason, undefined);
  assert.deepEqual([out.firstStep, out.lastStep, out.pointsLogged], [5, 6, 2]);
});

test("cellOf is exact for large steps", () => {
  const grid = { first: 0, span: 2 ** 53 - 1, cells: 4000 };
  assert.equal(cellOf(2 ** 53 - 2, grid), 3999);
  assert.equal(cellOf(0, grid), 0);
  assert.equal(cellOf(9, { first: 0, span: 10, cells: 4 }), 3);
});

test("dropCovered: points up to the read's newest point are dropped (read/stream race)", () => {
  const entry = raw([0, 1, 2, 3]);
  const buffered = pts([2, 3, 4]); // 2 and 3 were committed before the read
  assert.deepEqual(dropCovered(entry, buffered).steps, [4]);
  assert.deepEqual(dropCovered(entry, pts([4, 5])).steps, [4, 5]);
  const b = buckets(40, 8);
  assert.deepEqual(dropCovered(b, pts([38, 39, 40])).steps, [40]);
  const merged = mergeTail(b, dropCovered(b, pts([38, 39, 40])), 8);
  assert.deepEqual([merged.pointsLogged, merged.pointsInRange, merged.stale], [41, 41, undefined]);
});

test("feed: only running runs are followed, the newest first, at most MAX_SOCKETS", () => {
  const runs = Array.from({ length: 30 }, (_, i) => ({
    runId: `r${i}`, name: `r${i}`, color: "#000", status: i === 3 ? "completed" : "running", startedAtMs: i,
  }));
  const { followed, skipped, over } = pickFollowed(runs);
  assert.equal(followed.length, MAX_SOCKETS);
  assert.equal(followed[0].runId, "r29");
  assert.ok(!followed.some((r) => r.runId === "r3"));
  assert.deepEqual(skipped.map((r) => r.runId), ["r3"]);
  assert.equal(over.length, 29 - MAX_SOCKETS);
});

// A scripted WebSocket: the test plays the server (open, messages, close codes).
const metrics = (steps, cursor, replay) => ({
  type: "metrics", runId: "r1", cursor, replay,
  series: [{ metricKey: "k", rank: null, ...pts(steps) }],
});

test("feed: from now, replays after a drop handed out once, a failed replay dropped", async () => {
  const seen = [];
  const statuses = [];
  const feed = followRuns("p1", [{ runId: "r1", name: "", color: "", status: "running", startedAtMs: 1 }], {
    onPoints: (runId, key, p) => seen.push(...p.steps),
    onStatus: (runId, status) => statuses.push(status),
  });
  const first = FakeSocket.all.at(-1);
  assert.match(first.url, /^ws:\/\/h:1\/api\/v1\/runs\/r1\/events\/ws\?projectId=p1&cursor=tail$/);
  first.open();
  first.deliver({ type: "state", runId: "r1", cursor: "", replay: true, status: "running" });
  first.deliver({ type: "replay_done", runId: "r1", cursor: "C0" });
  first.deliver(metrics([1, 2], "C1", false));
  first.drop(1006);
  assert.equal(statuses.at(-1), "reconnecting"); // at once, before any retry
  await until(() => FakeSocket.all.length === 2);
  const second = FakeSocket.all.at(-1);
  assert.match(second.url, /cursor=C1$/);
  second.open();
  second.deliver(metrics([3], "C1", true)); // replayed, then the socket dies mid-replay
  second.drop(1006);
  await until(() => FakeSocket.all.length === 3);
  const third = FakeSocket.all.at(-1);
  assert.match(third.url, /cursor=C1$/); // replayed messages carry the replay's start
  third.open();
  third.deliver(metrics([3, 4], "C1", true));
  assert.deepEqual(seen, [1, 2]); // held until the replay is complete
  third.deliver({ type: "replay_done", runId: "r1", cursor: "C2" });
  third.deliver(metrics([5], "C3", false));
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  third.drop(1000, "run finished");
  assert.deepEqual(statuses, ["connecting", "replaying", "live", "reconnecting", "replaying",
    "reconnecting", "replaying", "live", "finished"]);
  feed.close();
});

test("live status: a panel of many runs shows the least live status", async () => {
  const { combinedStatus } = await import("../../collector/rundial_collector/ui/static/live/status.js");
  assert.equal(combinedStatus([]), null);
  assert.equal(combinedStatus(["live", "finished"]), "live");
  assert.equal(combinedStatus(["live", "reconnecting", "finished"]), "reconnecting");
  assert.equal(combinedStatus(["finished", "finished"]), "finished");
  assert.equal(combinedStatus(["live", "idle"]), "idle");
});

test("socket: silent for 2.5 keepalive intervals counts as dropped; keepalives are not messages", async () => {
  const messages = [];
  const statuses = [];
  const stream = followRun("r2", "p1", "tail", {
    onMessage: (m) => messages.push(m.type), onStatus: (s) => statuses.push(s),
  });
  const socket = FakeSocket.all.at(-1);
  socket.open();
  socket.deliver({ type: "replay_done", runId: "r2", cursor: "K1" });
  socket.deliver({ type: "keepalive", runId: "r2", intervalMs: 40 });
  const opened = Date.now();
  await until(() => statuses.at(-1) === "reconnecting");
  assert.ok(Date.now() - opened >= 1000); // 2.5 x 40 ms + 1 s of grace
  assert.deepEqual(messages, ["replay_done"]);
  await until(() => FakeSocket.all.at(-1) !== socket);
  assert.match(FakeSocket.all.at(-1).url, /cursor=K1$/);
  stream.close();
});

test("feed: update keeps the sockets of runs still followed, opens new ones, closes the rest", async () => {
  const ref = (runId) => ({ runId, name: runId, color: "", status: "running", startedAtMs: 1 });
  const before = FakeSocket.all.length;
  const feed = followRuns("p", [ref("u1")], {});
  const u1 = FakeSocket.all.at(-1);
  feed.update([ref("u1"), ref("u2")]);
  assert.equal(FakeSocket.all.length, before + 2);
  assert.match(FakeSocket.all.at(-1).url, /runs\/u2\//);
  assert.equal(u1.closed, undefined);
  feed.update([ref("u2")]);
  assert.equal(u1.closed, true);
  assert.equal(FakeSocket.all.length, before + 2);
  feed.close();
  assert.equal(FakeSocket.all.at(-1).closed, true);
});

test("socket: at most MAX_OPENING_SOCKETS handshakes at once, the others wait in order", () => {
  // Chromium delays a page's new WebSocket exponentially in the handshakes already pending.
  const before = FakeSocket.all.length;
  const ids = Array.from({ length: MAX_OPENING_SOCKETS + 4 }, (_v, i) => `g${i}`);
  const streams = ids.map((id) => followRun(id, "p", "tail", { onMessage() {} }));
  const made = () => FakeSocket.all.slice(before).map((s) => s.url.match(/runs\/(\w+)\//)[1]);
  assert.deepEqual(made(), ids.slice(0, MAX_OPENING_SOCKETS));
  FakeSocket.all[before].open(); // an open socket frees its slot
  assert.deepEqual(made(), ids.slice(0, MAX_OPENING_SOCKETS + 1));
  FakeSocket.all[before + 1].drop(1006); // so does a failed handshake (its retry waits its turn)
  assert.deepEqual(made(), ids.slice(0, MAX_OPENING_SOCKETS + 2));
  streams.at(-1).close(); // closed while waiting: never opens a socket
  streams[2].close(); // closed during its handshake: frees its slot
  assert.deepEqual(made(), ids.slice(0, MAX_OPENING_SOCKETS + 3));
  streams.forEach((stream) => stream.close());
  const after = FakeSocket.all.length;
  const next = Array.from({ length: MAX_OPENING_SOCKETS }, (_v, i) =>
    followRun(`h${i}`, "p", "tail", { onMessage() {} }));
  assert.equal(FakeSocket.all.length, after + MAX_OPENING_SOCKETS); // every slot was freed
  next.forEach((stream) => stream.close());
});

test("grid live: each read merges its own buffer; an older read never replaces a newer one", async () => {
  globalThis.document ??= { createElement: () => ({ setAttribute() {}, dataset: {} }) };
  const { createLiveCharts } = await import("../../collector/rundial_collector/ui/static/charts/live.js");
  const slots = new Map([["k", { entries: new Map() }]]);
  const live = createLiveCharts({ append() {}, replaceChildren() {} }, "p", {
    slots, rangeOf: () => null, draw() {}, refetch() {}, onNewKey() {} });
  const entries = slots.get("k").entries;
  const first = live.begin(["k"], ["r"]); // a read, then a refetch while it is in flight
  const second = live.begin(["k"], ["r"]);
  live.onPoints("r", "k", pts([3])); // committed after both reads' snapshots
  entries.set("r", live.settle("k", "r", raw([1, 2]), 100, second));
  live.end(["k"], ["r"], second);
  assert.deepEqual(entries.get("r").steps, [1, 2, 3]);
  live.onPoints("r", "k", pts([4])); // after the newer read: merged into its entry
  assert.deepEqual(entries.get("r").steps, [1, 2, 3, 4]);
  assert.equal(live.settle("k", "r", raw([1, 2]), 100, first), null); // would drop 4
  live.end(["k"], ["r"], first);
  live.close();
});
