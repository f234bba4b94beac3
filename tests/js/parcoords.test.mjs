// Parallel coordinates layout (static/parcoords/layout.js): axis scales for numbers, log
// ranges, categories and missing values; which config keys get an axis; line positions;
// brushing and hover picking.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  axisScale, position, ticks, chooseKeys, layoutPlot, brushed, nearestLine, isMissing,
  shortNumber, MISSING_GAP_PX,
} from "../../collector/rundial_collector/ui/static/parcoords/layout.js";

const BOX = { width: 500, height: 230, top: 30, bottom: 0, left: 50, right: 50 };

test("numbers scale linearly between their min and max", () => {
  const scale = axisScale([32, 64, null, 128]);
  assert.deepEqual(scale, { kind: "number", min: 32, max: 128, log: false });
  assert.equal(position(scale, 32), 0);
  assert.equal(position(scale, 128), 1);
  assert.equal(position(scale, 80), 0.5);
  assert.equal(position(scale, null), null);
  assert.equal(position(scale, "64"), null, "a string is not on a number axis");
});

test("positive numbers spanning 100x or more get a log axis with decade ticks", () => {
  const scale = axisScale([1e-5, 1e-3, 1e-1]);
  assert.equal(scale.kind === "number" && scale.log, true);
  assert.ok(Math.abs(/** @type {number} */ (position(scale, 1e-3)) - 0.5) < 1e-12);
  assert.deepEqual(ticks(scale).map((t) => t.text), ["1.0e-5", "1.0e-4", "0.001", "0.01", "0.1"]);
  assert.equal(axisScale([-1, 1e-5, 1]).kind === "number" && axisScale([-1, 1e-5, 1]).log, false);
  assert.equal(/** @type {any} */ (axisScale([3e-4, 3e-2])).log, true, "an lr sweep");
  assert.deepEqual(ticks(axisScale([3e-4, 3e-2])).map((t) => t.text),
    ["3.0e-4", "0.001", "0.01", "0.03"], "the ends are ticks too");
  assert.deepEqual(ticks(axisScale([1.1e-3, 0.11])).map((t) => t.text), ["0.0011", "0.01", "0.11"],
    "a power too close to the max is left out, the max stays");
  assert.deepEqual(ticks(axisScale([9.5e-4, 0.5])).map((t) => t.text),
    ["9.5e-4", "0.01", "0.1", "0.5"], "a power too close to the min is left out");
  assert.equal(/** @type {any} */ (axisScale([16, 1024])).log, false, "64x stays linear");
});

test("equal numbers sit in the middle; all-missing is an empty axis", () => {
  const scale = axisScale([3, 3]);
  assert.equal(position(scale, 3), 0.5);
  assert.deepEqual(ticks(scale), [{ t: 0.5, text: "3" }]);
  assert.deepEqual(axisScale([null, undefined, NaN, Infinity]), { kind: "empty" });
  assert.equal(position({ kind: "empty" }, 1), null);
  assert.ok(isMissing(NaN) && isMissing(-Infinity) && isMissing(undefined) && !isMissing(0));
});

test("strings, booleans and mixed values are categories in natural order", () => {
  const scale = axisScale(["sgd", "adamw", "sgd", "lion"]);
  assert.deepEqual(scale, { kind: "category", categories: ["adamw", "lion", "sgd"] });
  assert.equal(position(scale, "adamw"), 0);
  assert.equal(position(scale, "lion"), 0.5);
  assert.equal(position(scale, "rmsprop"), null);
  assert.deepEqual(axisScale(["b10", "b9", 2]), { kind: "category", categories: ["2", "b9", "b10"] });
  assert.deepEqual(axisScale([true, false]), { kind: "category", categories: ["false", "true"] });
  assert.equal(position(axisScale(["only"]), "only"), 0.5);
  assert.deepEqual(axisScale([[0.9, 0.99], "x"]).kind, "category");
});

test("chooseKeys keeps the keys that differ, numbers first, without summary keys", () => {
  const configs = [
    { lr: 1e-3, batch_size: 32, optimizer: "adamw", seed: 1, model: "a", "summary.loss": 1 },
    { lr: 3e-3, batch_size: 32, optimizer: "sgd", seed: 2, model: "a", "summary.loss": 2 },
    { lr: 1e-2, batch_size: 32, seed: 3, model: "a" },
  ];
  assert.deepEqual(chooseKeys(configs), ["lr", "seed", "optimizer"]);
  assert.deepEqual(chooseKeys(configs, 1), ["lr"]);
  assert.deepEqual(chooseKeys([{ b: 1, a: "x" }]), ["b", "a"], "one run: every key");
  assert.deepEqual(chooseKeys([]), []);
});

test("layoutPlot puts each run's value on each axis, missing values under the axis", () => {
  const rows = [
    { runId: "r1", name: "one", color: "#111", values: { lr: 1, opt: "a", loss: 0.5 } },
    { runId: "r2", name: "two", color: "#222", values: { lr: 3, opt: "b" } },
  ];
  const axes = [{ key: "lr", label: "lr" }, { key: "opt", label: "opt" }, { key: "loss", label: "loss" }];
  const { axes: laid, lines } = layoutPlot(rows, axes, BOX);
  assert.deepEqual(laid.map((a) => a.x), [50, 250, 450]);
  const bottom = BOX.height - MISSING_GAP_PX;
  assert.deepEqual(lines[0].points.map((p) => p.y), [bottom, bottom, (bottom + BOX.top) / 2]);
  assert.deepEqual(lines[1].points.map((p) => [p.y, p.missing]),
    [[BOX.top, false], [BOX.top, false], [BOX.height, true]]);
  assert.equal(laid[2].missingY, BOX.height);
  assert.deepEqual(laid[0].ticks.map((t) => t.text), ["1", "2", "3"]);
  const single = layoutPlot(rows, [axes[0]], BOX);
  assert.equal(single.axes[0].x, 250, "one axis is centred");
});

test("brushes keep the runs inside every brushed range; missing never passes", () => {
  const rows = [
    { runId: "a", name: "a", color: "#1", values: { x: 0, y: 0 } },
    { runId: "b", name: "b", color: "#2", values: { x: 5, y: 10 } },
    { runId: "c", name: "c", color: "#3", values: { x: 10 } },
  ];
  const { lines } = layoutPlot(rows, [{ key: "x", label: "x" }, { key: "y", label: "y" }], BOX);
  const top = BOX.top;
  assert.deepEqual([...brushed(lines, new Map([[0, [top - 1, lines[1].points[0].y + 1]]]))].sort(),
    ["b", "c"]);
  assert.deepEqual([...brushed(lines, new Map([[0, [BOX.height, 0]], [1, [0, top + 1]]]))], ["b"]);
  assert.deepEqual([...brushed(lines, new Map())].sort(), ["a", "b", "c"]);
});

test("nearestLine picks the line under the pointer within a few pixels", () => {
  const lines = [
    { runId: "low", name: "", color: "", points: [{ x: 0, y: 100, missing: false }, { x: 100, y: 100, missing: false }] },
    { runId: "diag", name: "", color: "", points: [{ x: 0, y: 0, missing: false }, { x: 100, y: 50, missing: false }] },
  ];
  assert.equal(nearestLine(lines, 50, 98), "low");
  assert.equal(nearestLine(lines, 50, 26), "diag");
  assert.equal(nearestLine(lines, 50, 70), null);
  assert.equal(nearestLine([{ runId: "dot", name: "", color: "", points: [{ x: 5, y: 5, missing: false }] }], 6, 6), "dot");
});

test("shortNumber uses SI suffixes and keeps three digits", () => {
  assert.deepEqual([1234567, 25000, 0.00012, 0.5, 0, 1e10, -2500000].map(shortNumber),
    ["1.23M", "25k", "1.2e-4", "0.5", "0", "10G", "-2.5M"]);
});
