// Pure chart logic (node --test): smoothing against the golden vectors the collector's pytest
// shares, SI formatting, key search and sections, zoom/URL parsing, band data and batching.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { smooth, smoothingFromState } from "../../collector/rundial_collector/ui/static/charts/smooth.js";
import { siFormat, durationFormat, tickLabels } from "../../collector/rundial_collector/ui/static/charts/axis.js";
import { groupKeys, parseKeySearch, sectionOf } from "../../collector/rundial_collector/ui/static/charts/keys.js";
import { parseZoom, formatZoom, viewFromState, stepRange } from "../../collector/rundial_collector/ui/static/charts/view.js";
import { entrySeries, joinX, plotData, lastValues } from "../../collector/rundial_collector/ui/static/charts/data.js";
import { batches, chartBody } from "../../collector/rundial_collector/ui/static/charts/fetch.js";
import { bucketSize, fidelityText } from "../../collector/rundial_collector/ui/static/charts/fidelity.js";
import { parseState, formatState } from "../../collector/rundial_collector/ui/static/core/urlstate.js";
import { projectFields } from "../../collector/rundial_collector/ui/static/charts/sources.js";

const golden = JSON.parse(readFileSync(new URL("../golden/smoothing.json", import.meta.url), "utf8"));

test("smoothing matches every golden vector", () => {
  assert.ok(golden.cases.length > 20);
  for (const c of golden.cases) {
    const got = smooth(c.values, c.smoothing);
    assert.equal(got.length, c.expected.length, c.name);
    got.forEach((v, i) => {
      const want = c.expected[i];
      if (want === null) { assert.equal(v, null, `${c.name} [${i}]`); return; }
      const err = Math.abs(v - want) / Math.max(Math.abs(want), Number.MIN_VALUE);
      assert.ok(want === 0 ? Math.abs(v) < 1e-300 : err <= golden.relativeTolerance,
        `${c.name} [${i}]: ${v} vs ${want}`);
    });
  }
});

test("smoothing URL fields: EMA weight in (0, 1), mean window >= 1, else off", () => {
  assert.deepEqual(smoothingFromState("0.6", null), { kind: "ema", weight: 0.6 });
  assert.deepEqual(smoothingFromState("25", "mean"), { kind: "mean", windowPoints: 25 });
  assert.equal(smoothingFromState("0", "ema"), null);
  assert.equal(smoothingFromState("1.5", "ema"), null);
  assert.equal(smoothingFromState("abc", "ema"), null);
  assert.equal(smoothingFromState(null, "mean"), null);
});

test("SI suffixes on axis numbers", () => {
  assert.equal(siFormat(1234), "1.23k");
  assert.equal(siFormat(1200), "1.2k");
  assert.equal(siFormat(3.4e6), "3.4M");
  assert.equal(siFormat(-2.5e9), "-2.5G");
  assert.equal(siFormat(0.5), "0.5");
  assert.equal(siFormat(0), "0");
  assert.equal(siFormat(1e-5), "1e-5");
  assert.equal(siFormat(null), "–");
  assert.equal(siFormat(Infinity), "∞");
  assert.equal(durationFormat(90), "1.5m");
  assert.equal(durationFormat(7200), "2h");
  assert.deepEqual(tickLabels([0, 1000, 2000], siFormat), ["0", "1k", "2k"]);
  assert.deepEqual(tickLabels([1.8e9, 1.8e9 + 1], siFormat), ["1800000000", "1800000001"]);
});

test("key search: substring, /regex/, and a bad regex reports an error", () => {
  assert.ok(parseKeySearch("LOSS").match("train/loss"));
  assert.ok(!parseKeySearch("acc").match("train/loss"));
  assert.ok(parseKeySearch("/^eval\\//").match("eval/acc"));
  assert.ok(!parseKeySearch("/^eval\\//").match("train/eval"));
  assert.ok(parseKeySearch("/LOSS/i").match("train/loss"));
  const bad = parseKeySearch("/(unclosed/");
  assert.match(/** @type {string} */ (bad.error), /bad regex/);
});

test("sections by prefix, in order, with prefix filters", () => {
  const keys = ["system/cpu", "train/loss", "lr", "eval/acc", "train/acc", "custom/x", "train/loss"];
  assert.equal(sectionOf("train/loss"), "train");
  assert.equal(sectionOf("lr"), "other");
  assert.equal(sectionOf("trainer/x"), "other");
  const all = groupKeys(keys, {});
  assert.deepEqual(all.sections.map((s) => [s.name, s.keys]), [
    ["train", ["train/acc", "train/loss"]], ["eval", ["eval/acc"]], ["system", ["system/cpu"]],
    ["other", ["custom/x", "lr"]]]);
  assert.equal(all.total, 6);
  assert.deepEqual(groupKeys(keys, { keyPrefix: "system/" }).sections.map((s) => s.name), ["system"]);
  assert.equal(groupKeys(keys, { excludePrefix: "system/" }).total, 5);
  assert.deepEqual(groupKeys(keys, { search: "acc" }).sections.flatMap((s) => s.keys),
    ["train/acc", "eval/acc"]);
  const unknown = groupKeys(keys, { search: "train/nope" });
  assert.equal(unknown.total, 0);
  assert.deepEqual(unknown.sections, [{ name: "train", keys: ["train/nope"] }]);
});

test("zoom and view URL fields round-trip", () => {
  assert.deepEqual(parseZoom("10,200"), [10, 200]);
  assert.equal(parseZoom("200,10"), null);
  assert.equal(parseZoom("a,b"), null);
  assert.equal(parseZoom("1"), null);
  assert.equal(parseZoom(",5"), null);
  assert.equal(formatZoom([10.4, 199.6], "step"), "10,200");
  assert.equal(formatZoom(null, "step"), null);
  const search = formatState({}, { keys: "/loss/", smooth: "0.6", x: "wall", ylog: "1",
    zoom: formatZoom([1.5, 2.25], "wall"), step: "40" });
  const view = viewFromState(parseState(search));
  assert.deepEqual(view, { keys: "/loss/", x: "wall", ylog: true, zoom: [1.5, 2.25], step: 40,
    smooth: "0.6", smoothKind: "ema" });
  assert.equal(viewFromState({ x: "bogus" }).x, "step");
  assert.deepEqual(stepRange([5.2, 9.8], "step", []), { startStep: 6, endStep: 9 });
  assert.deepEqual(stepRange([5.2, 5.3], "step", []), { startStep: 6, endStep: 6 });
  assert.deepEqual(stepRange([1.5, 3], "wall", [{ x: [1, 2, 3, 4], steps: [10, 20, 30, 40] }]),
    { startStep: 10, endStep: 30 });
  // narrower than the gap between two drawn points: the two bracketing points
  assert.deepEqual(stepRange([2.1, 2.2], "wall", [{ x: [1, 2, 3, 4], steps: [10, 20, 30, 40] }]),
    { startStep: 20, endStep: 30 });
  assert.equal(stepRange([100, 200], "wall", [{ x: [], steps: [] }]), null);
});

const bucketEntry = { runId: "a", mode: "buckets", stepStart: [0, 10], stepEnd: [9, 19],
  min: [-1, null], max: [5, null], last: [2, null], lastTimestampMs: [1000, 2000], count: [10, 10],
  pointsLogged: 25, pointsInRange: 20, duplicatesResolved: 5, firstStep: 0, lastStep: 19 };
const rawEntry = { runId: "b", mode: "raw", steps: [0, 5, 19], values: [1, null, 3],
  timestampsMs: [500, 1500, 2500], pointsLogged: 3, pointsInRange: 3, duplicatesResolved: 0,
  firstStep: 0, lastStep: 19 };

test("entries become series in step, wall and relative x", () => {
  const s = entrySeries(bucketEntry, "step", null);
  assert.deepEqual([s.x, s.y, s.min, s.max], [[9, 19], [2, null], [-1, null], [5, null]]);
  assert.deepEqual(entrySeries(bucketEntry, "wall", null).x, [1, 2]);
  assert.deepEqual(entrySeries(rawEntry, "relative", 0).x, [0.5, 1.5, 2.5]);
  assert.deepEqual(entrySeries(rawEntry, "relative", null).x, [0, 1, 2]);
});

test("band data: runs joined on one x, min/max columns where bucketed, nulls as gaps", () => {
  const a = entrySeries(bucketEntry, "step", null);
  const b = entrySeries(rawEntry, "step", null);
  const { data, columns, points } = plotData([a, b], false);
  assert.deepEqual(data[0], [0, 5, 9, 19]);
  assert.deepEqual(columns, [{ runId: "a", line: 1, max: 2, min: 3, smoothed: null },
    { runId: "b", line: 4, max: null, min: null, smoothed: null }]);
  assert.deepEqual(data[1], [null, null, 2, null]);
  assert.deepEqual(data[2], [null, null, 5, null]);
  assert.deepEqual(data[3], [null, null, -1, null]);
  assert.deepEqual(data[4], [1, null, null, 3]);
  assert.equal(points, 5);
  const log = plotData([{ ...b, y: [-1, 0, 2] }], true);
  assert.deepEqual(log.data[1], [null, null, 2]);
  const single = plotData([{ runId: "c", mode: "raw", steps: [7], x: [7], y: [1] }], false);
  assert.deepEqual(single.data, [[7], [1]]);
  assert.deepEqual(joinX([[1, 2], [1, 2]]).where, [null, null]);
  assert.deepEqual(lastValues([a, b]), [{ runId: "a", step: 9, value: 2 }, { runId: "b", step: 19, value: 3 }]);
});

test("a million identical steps' worth of buckets joins without growing", () => {
  const n = 4000;
  const xs = Array.from({ length: n }, (_, i) => i);
  const runs = Array.from({ length: 20 }, (_, r) => ({ runId: `r${r}`, mode: "buckets",
    steps: xs, x: xs, y: xs.map(() => 1), min: xs.map(() => 1), max: xs.map(() => 1) }));
  const { data } = plotData(runs, false);
  assert.equal(data[0].length, n);
  assert.equal(data.length, 1 + 20 * 3);
});

test("requests are batched within the route's bounds", () => {
  const refs = Array.from({ length: 1000 }, (_, i) => i);
  assert.deepEqual(batches(refs, 1000).map((b) => b.length), [400, 400, 200]);
  assert.deepEqual(batches(refs, 4000).map((b) => b.length).slice(0, 2), [125, 125]);
  const body = chartBody("prj", [{ runId: "a", metricKey: "k" }], { buckets: 9999, startStep: 3,
    endStep: 9, smoothing: { kind: "ema", weight: 0.5 }, smoothedOnly: true });
  assert.deepEqual(body, { projectId: "prj", buckets: 4000, series: [{ runId: "a", metricKey: "k" }],
    startStep: 3, endStep: 9, smoothing: { kind: "ema", weight: 0.5 }, smoothedOnly: true });
});

test("fidelity badge: shown vs logged, steps per bucket, duplicates", () => {
  assert.equal(bucketSize([rawEntry], 100), null);
  assert.equal(bucketSize([bucketEntry, rawEntry], 2), 10);
  assert.equal(fidelityText([bucketEntry, rawEntry], 10), "5 of 28 pts · 10 steps/bucket · 5 dup steps resolved");
  assert.equal(fidelityText([rawEntry], null), "3 of 3 pts · raw");
});

test("empty states say why: unknown run, unknown key, no points, every value NaN", async () => {
  const { emptyReason } = await import("../../collector/rundial_collector/ui/static/charts/data.js");
  assert.match(/** @type {string} */ (emptyReason([{ mode: "empty", reason: "unknown run" }])), /Unknown run/);
  assert.match(/** @type {string} */ (emptyReason([{ mode: "empty", reason: "no points logged for this key" },
    { mode: "empty", reason: "unknown run" }])), /Unknown key/);
  assert.match(/** @type {string} */ (emptyReason([{ ...rawEntry, steps: [], values: [], pointsInRange: 0 }])), /No points/);
  assert.match(/** @type {string} */ (emptyReason([{ ...bucketEntry, last: [null, null], min: [null, null] }])), /NaN/);
  assert.equal(emptyReason([bucketEntry, { mode: "empty", reason: "unknown run" }]), null);
  assert.equal(emptyReason([{ ...rawEntry, steps: [3], values: [1], pointsInRange: 1 }]), null);
});

test("live tail: points kept inside a zoom, batches joined in commit order (#15 integ)", async () => {
  const { pointsInRange, concatPoints } = await import("../../collector/rundial_collector/ui/static/charts/live.js");
  const points = { steps: [1, 5, 9], timestampsMs: [10, 50, 90], values: [0.1, null, 0.9] };
  assert.deepEqual(pointsInRange(points, null), points);
  assert.deepEqual(pointsInRange(points, { startStep: 2, endStep: 9 }),
    { steps: [5, 9], timestampsMs: [50, 90], values: [null, 0.9] });
  assert.deepEqual(pointsInRange(points, { startStep: 10, endStep: 20 }).steps, []);
  assert.deepEqual(concatPoints([points, { steps: [2], timestampsMs: [20], values: [0.2] }]),
    { steps: [1, 5, 9, 2], timestampsMs: [10, 50, 90, 20], values: [0.1, null, 0.9, 0.2] });
  assert.deepEqual(concatPoints([]), { steps: [], timestampsMs: [], values: [] });
});

test("grid message: no runs, unknown runs, no metrics, no key matching", async () => {
  const { gridMessage } = await import("../../collector/rundial_collector/ui/static/charts/sections.js");
  assert.equal(gridMessage(0, 0, [], 0), "No runs selected.");
  assert.equal(gridMessage(1, 0, ["r9"], 0), "Unknown run (not in this project): r9. No metrics logged yet.");
  assert.equal(gridMessage(2, 5, ["a", "b"], 5), "Unknown runs (not in this project): a, b. ");
  assert.equal(gridMessage(2, 5, [], 0), "No metric key matches the search.");
  assert.equal(gridMessage(2, 5, [], 3), "");
});

test("a look-up names its project by id, or by the URL's slugs before the id is known", () => {
  assert.deepEqual(projectFields("prj_1"), { projectId: "prj_1" });
  assert.deepEqual(projectFields({ workspace: "ws", project: "p" }),
    { workspace: "ws", project: "p" });
});
