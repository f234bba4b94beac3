// Pure logic of the run page: log filtering and search, the virtual window, bounded merging,
// step <-> time mapping, the span tree -> waterfall layout (open spans, clock skew), spans
// around a time, evidence references, config nesting and duration formatting (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  matchesLog, mergeLines, virtualWindow, atBottom, indexAtTime, stepTimeMap, timeAtStep,
  stepAtTime, levelRank,
} from "../../collector/rundial_collector/ui/static/runpage/logmath.js";
import {
  spanRows, waterfall, spansAround, evidenceRefs, mergeSpans, spanKey, parseNs,
} from "../../collector/rundial_collector/ui/static/runpage/spanmath.js";
import { runDurationMs, exactTime, clockTime } from "../../collector/rundial_collector/ui/static/runpage/timefmt.js";
import { formatDuration } from "../../collector/rundial_collector/ui/static/format.js";
import { splitConfig, searchEntries, nestEntries, valueText } from "../../collector/rundial_collector/ui/static/runpage/configtree.js";
import { tabFromState, TABS, nextTab } from "../../collector/rundial_collector/ui/static/runpage/tablogic.js";

const line = (ts, seq, level, message) => ({ timestampMs: ts, sequence: seq, level, message });

test("log filter: minimum level and case-sensitive substring, as the server filters", () => {
  const l = line(1, 1, "warn", "Loss went NaN at step 5");
  assert.equal(matchesLog(l, { minLevel: "info", text: "" }), true);
  assert.equal(matchesLog(l, { minLevel: "warn", text: "NaN" }), true);
  assert.equal(matchesLog(l, { minLevel: "error", text: "" }), false);
  assert.equal(matchesLog(l, { minLevel: "trace", text: "nan" }), false);
  assert.equal(matchesLog(l, { minLevel: "", text: "step 5" }), true);
  assert.equal(levelRank("bogus"), levelRank("info"));
});

test("merging pages: sorted, de-duplicated, capped from the far end", () => {
  const kept = [line(10, 1, "info", "a"), line(20, 1, "info", "b")];
  const merged = mergeLines(kept, [line(20, 1, "info", "b"), line(5, 1, "info", "z"),
    line(20, 2, "info", "c")], "newest", 10);
  assert.deepEqual(merged.lines.map((x) => x.message), ["z", "a", "b", "c"]);
  assert.equal(merged.added, 2);
  const capped = mergeLines(merged.lines, [line(30, 1, "info", "d")], "newest", 3);
  assert.deepEqual(capped.lines.map((x) => x.message), ["b", "c", "d"]);
  assert.equal(capped.droppedOld, 2);
  const older = mergeLines(capped.lines, [line(1, 1, "info", "y")], "oldest", 3);
  assert.deepEqual(older.lines.map((x) => x.message), ["y", "b", "c"]);
  assert.equal(older.droppedNew, 1);
  assert.deepEqual(kept.map((x) => x.message), ["a", "b"], "input not changed");
});

test("virtual window: only the visible rows plus overscan, clamped at both ends", () => {
  assert.deepEqual(virtualWindow(0, 100, 20, 1000, 2), { first: 0, end: 7, offsetPx: 0, totalPx: 20000 });
  assert.deepEqual(virtualWindow(2000, 100, 20, 1000, 2), { first: 98, end: 107, offsetPx: 1960, totalPx: 20000 });
  const bottom = virtualWindow(1e9, 100, 20, 1000, 2);
  assert.equal(bottom.end, 1000);
  assert.equal(bottom.first, 993);
  assert.deepEqual(virtualWindow(0, 100, 20, 0), { first: 0, end: 0, offsetPx: 0, totalPx: 0 });
  assert.equal(atBottom(900, 100, 1000), true);
  assert.equal(atBottom(800, 100, 1000), false);
});

test("time search and step <-> time mapping (interpolated, skew-tolerant)", () => {
  const lines = [line(10, 1, "info", "a"), line(20, 1, "info", "b"), line(20, 2, "info", "c"), line(30, 1, "info", "d")];
  assert.equal(indexAtTime(lines, 20), 1);
  assert.equal(indexAtTime(lines, 21), 3);
  assert.equal(indexAtTime(lines, 99), 4);
  const map = stepTimeMap([{ step: 10, timestampMs: 1100 }, { step: 0, timestampMs: 1000 },
    { step: 20, timestampMs: 1300 }, { step: NaN, timestampMs: 5 }]);
  assert.equal(timeAtStep(map, 10), 1100);
  assert.equal(timeAtStep(map, 15), 1200);
  assert.equal(timeAtStep(map, -5), 1000);
  assert.equal(timeAtStep(map, 99), 1300);
  assert.equal(timeAtStep(stepTimeMap([]), 3), null);
  assert.equal(stepAtTime(map, 1150), 10);
  assert.equal(stepAtTime(map, 1300), 20);
  assert.equal(stepAtTime(map, 999), null);
});

const span = (id, parent, start, end, children = [], trace = "t1") => ({
  traceId: trace, spanId: id, parentSpanId: parent, name: id, kind: "internal",
  startNs: start === null ? null : String(start), endNs: end === null ? null : String(end),
  status: "ok", attrsJson: "{}", events: [], children,
});
const BASE = 1_700_000_000_000_000_000n; // ns beyond 2^53: must not lose precision
const ns = (ms) => String(BASE + BigInt(ms) * 1_000_000n);

test("span tree rows: depth-first, collapsible", () => {
  const tree = [span("root", null, ns(0), ns(100), [span("a", "root", ns(10), ns(40), [span("a1", "a", ns(11), ns(12))]), span("b", "root", ns(50), ns(90))])];
  assert.deepEqual(spanRows(tree).map((r) => `${r.span.spanId}@${r.depth}`), ["root@0", "a@1", "a1@2", "b@1"]);
  assert.deepEqual(spanRows(tree, new Set(["t1/a"])).map((r) => r.span.spanId), ["root", "a", "b"]);
});

test("waterfall: bars relative to the trace start, open spans grow to now, skew stays on screen", () => {
  const now = BASE + 200n * 1_000_000n;
  const tree = [span("root", null, ns(0), null, [
    span("a", "root", ns(50), ns(100)),
    span("skew", "root", ns(-20), ns(10)),  // starts before its parent: another clock
    span("neg", "root", ns(150), ns(140)),  // ends before it starts
  ])];
  const rows = spanRows(tree);
  const bars = waterfall(rows, now);
  const byId = Object.fromEntries(rows.map((r, i) => [r.span.spanId, bars[i]]));
  // trace range [-20, 200] ms (root open until now)
  assert.equal(byId.root.open, true);
  assert.equal(byId.root.durationMs, 200);
  assert.ok(Math.abs(byId.root.leftFrac - 20 / 220) < 1e-9);
  assert.ok(Math.abs(byId.a.leftFrac - 70 / 220) < 1e-9);
  assert.ok(Math.abs(byId.a.widthFrac - 50 / 220) < 1e-9);
  assert.equal(byId.a.skewed, false);
  assert.equal(byId.skew.skewed, true);
  assert.equal(byId.skew.leftFrac, 0);
  assert.equal(byId.neg.skewed, true);
  assert.equal(byId.neg.durationMs, 0);
  for (const bar of bars) {
    assert.ok(bar.leftFrac >= 0 && bar.leftFrac + bar.widthFrac <= 1 + 1e-12);
  }
  assert.equal(parseNs("x"), null);
});

test("spans around a time: running at it, else the nearest start", () => {
  const now = BASE + 500n * 1_000_000n;
  const tree = [span("root", null, ns(0), ns(100), [span("a", "root", ns(10), ns(20))]), span("open", null, ns(300), null)];
  const rows = spanRows(tree);
  const t = (ms) => Number(BASE / 1_000_000n) + ms;
  const at15 = spansAround(rows, t(15), now);
  assert.deepEqual([...at15.keys].sort(), ["t1/a", "t1/root"]);
  assert.equal(at15.running, true);
  assert.deepEqual([...spansAround(rows, t(400), now).keys], ["t1/open"]);
  const gap = spansAround(rows, t(200), now);
  assert.deepEqual([...gap.keys], ["t1/open"]);
  assert.equal(gap.running, false);
  assert.deepEqual([...spansAround([], t(0), now).keys], []);
});

test("evidence references are found at any depth with their attribute path", () => {
  const ref = { kind: "rundial.evidence_ref", artifactId: "a1", path: "evidence/out.txt" };
  const found = evidenceRefs({ input: "x", nested: { output: ref }, marker: { kind: "rundial.evidence_marker", status: "offline_unavailable" } });
  assert.deepEqual(found.map((f) => f.path), ["marker", "nested.output"]);
  assert.equal(found[1].ref.artifactId, "a1");
  assert.deepEqual(evidenceRefs(null), []);
});

test("live spans merge into the tree under their parent, replacing known ones", () => {
  const roots = [span("root", null, ns(0), null, [span("a", "root", ns(10), ns(20))])];
  const merged = mergeSpans(roots, [span("b", "root", ns(5), ns(8)), span("root", null, ns(0), ns(90)),
    span("c", "gone", ns(1), ns(2), [], "t2"), span("x", "a", ns(11), ns(12), [], "t9")]);
  assert.equal(merged[0].endNs, ns(90));
  assert.deepEqual(merged[0].children.map((s) => s.spanId), ["b", "a"]);
  assert.deepEqual(merged[0].children[1].children.map((s) => s.spanId), ["x"]);
  assert.deepEqual(merged.map(spanKey), ["t1/root", "t2/c"]);
  assert.equal(roots[0].endNs, null, "input not changed");
});

test("durations and times format compactly", () => {
  assert.equal(formatDuration(850), "850 ms");
  assert.equal(formatDuration(0.03), "<1 ms");
  assert.equal(formatDuration(0), "0 ms");
  assert.equal(formatDuration(12_345), "12.3 s");
  assert.equal(formatDuration(245_000), "4m 05s");
  assert.equal(formatDuration(3_720_000), "1h 02m");
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), "3d 04h");
  assert.equal(formatDuration(-1), "—");
  assert.equal(runDurationMs(1000, 4000, 9999), 3000);
  assert.equal(runDurationMs(1000, null, 9000), 8000);
  assert.equal(runDurationMs(null, null, 9000), null);
  assert.equal(exactTime(0), "1970-01-01 00:00:00.000 UTC");
  assert.equal(clockTime(3_723_004), "01:02:03.004");
});

test("config: summary split off, searched, nested by dots", () => {
  const { config, summary } = splitConfig({ "optim.lr": 0.1, "optim.betas": [0.9, 0.99], seed: 1, "summary.loss": 0.5, a: 1, "a.b": 2 });
  assert.deepEqual(summary, [["loss", 0.5]]);
  assert.deepEqual(config.map(([k]) => k), ["a", "a.b", "optim.betas", "optim.lr", "seed"]);
  assert.deepEqual(searchEntries(config, "0.99").map(([k]) => k), ["optim.betas"]);
  assert.deepEqual(searchEntries(config, "OPTIM").map(([k]) => k), ["optim.betas", "optim.lr"]);
  const nested = nestEntries(config);
  assert.deepEqual(nested.map((n) => `${n.name}:${n.leaf}`), ["a:true", "a:false", "optim:false", "seed:true"]);
  assert.deepEqual(nested[2].children.map((n) => n.path), ["optim.betas", "optim.lr"]);
  assert.equal(valueText([0.9, 0.99]), "[0.9,0.99]");
  assert.equal(valueText("x"), "x");
});

test("tabs: the URL's tab when known, else overview; arrows wrap", () => {
  assert.equal(tabFromState("logs"), "logs");
  assert.equal(tabFromState("nope"), "overview");
  assert.equal(tabFromState(null), "overview");
  assert.equal(nextTab("overview", -1), TABS[TABS.length - 1]);
  assert.equal(nextTab("media", 1), "overview");
  assert.equal(nextTab("charts", 1), "system");
});
