// Pure UI logic of the shell: page routes, URL state and run colours (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { route, projectPath, runPath } from "../../collector/rundial_collector/ui/static/core/routes.js";
import { parseState, formatState } from "../../collector/rundial_collector/ui/static/core/urlstate.js";
import { runColor, hash32, PALETTE } from "../../collector/rundial_collector/ui/static/core/colors.js";

test("routes name the page and round-trip through their paths", () => {
  assert.deepEqual(route("/"), { page: "projects" });
  assert.deepEqual(route(projectPath("my ws", "p/1")), { page: "project", ws: "my ws", project: "p/1" });
  assert.deepEqual(route(runPath("w", "p", "run 7")), { page: "run", ws: "w", project: "p", runId: "run 7" });
  assert.deepEqual(route("/p/w"), { page: "unknown" });
  assert.deepEqual(route("/nope"), { page: "unknown" });
});

test("URL state: patches apply, empty values remove, fields are ordered", () => {
  const state = parseState("?zoom=1%2C2&runs=a,b");
  assert.deepEqual(state, { zoom: "1,2", runs: "a,b" });
  assert.equal(formatState(state, { x: "wall", zoom: null }), "?runs=a%2Cb&x=wall");
  assert.equal(formatState({}, { q: "" }), "");
  assert.deepEqual(parseState(formatState({}, { keys: "/^train\\//", q: "config.lr < 0.01" })),
    { keys: "/^train\\//", q: "config.lr < 0.01" });
});

test("run colours are stable, from the palette, and spread", () => {
  assert.equal(hash32(""), 0x811c9dc5);
  assert.equal(runColor("run-1"), runColor("run-1"));
  const seen = new Set(Array.from({ length: 200 }, (_, i) => runColor(`r${i}`)));
  assert.equal(seen.size, PALETTE.length);
});

test("distinct colours: a selection of up to 12 runs never shares a colour, whatever its order", async () => {
  const { distinctColors, runColor, PALETTE } = await import("../../collector/rundial_collector/ui/static/core/colors.js");
  // find two ids whose own colours collide
  const ids = Array.from({ length: 60 }, (_, i) => `run-${i}`);
  const a = ids[0];
  const b = ids.find((id) => id !== a && runColor(id) === runColor(a));
  assert.ok(b, "the palette is small enough for a collision among 60 ids");
  const one = distinctColors([a, b]);
  assert.notEqual(one.get(a), one.get(b));
  assert.deepEqual(distinctColors([b, a]), new Map([[b, one.get(b)], [a, one.get(a)]]));
  assert.ok([one.get(a), one.get(b)].includes(runColor(a)), "one of them keeps its own colour");
  const twelve = distinctColors(ids.slice(0, PALETTE.length));
  assert.equal(new Set(twelve.values()).size, PALETTE.length);
  const many = distinctColors(ids);
  assert.ok(ids.every((id) => many.get(id) === runColor(id)), "larger sets keep own colours");
});
