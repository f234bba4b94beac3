// Pure logic of the runs table (filter, sort, grouping, virtual window, selection, columns),
// the keyboard and theme helpers. Run with `node --test tests/js/`.
import { test } from "node:test";
import assert from "node:assert/strict";

import { buildFilter, parseFilter } from "../../collector/rundial_collector/ui/static/runs/filter.js";
import { compareValues, groupRows, parseSort, sortRuns } from "../../collector/rundial_collector/ui/static/runs/sort.js";
import { clickSelection, defaultSelection, formatSelection, NO_RUNS,
  parseSelection, runRefs, virtualWindow } from "../../collector/rundial_collector/ui/static/runs/view.js";
import { canonicalField, decodeTable, fieldValue, varyingConfigKeys, allConfigKeys } from "../../collector/rundial_collector/ui/static/runs/fields.js";
import { formatDuration } from "../../collector/rundial_collector/ui/static/format.js";
import { cellText, columnById, formatValue, stateClass } from "../../collector/rundial_collector/ui/static/runs/columns.js";
import { parseTags } from "../../collector/rundial_collector/ui/static/runs/edit.js";
import { bindKey, findBinding, isTyping, shortcutList } from "../../collector/rundial_collector/ui/static/core/keys.js";
import { nextTheme } from "../../collector/rundial_collector/ui/static/core/theme.js";
import { AUTO_REFRESH_MAX_RUNS, refreshDue, selectionChanged } from "../../collector/rundial_collector/ui/static/runs/load.js";

const NOW = 1_700_000_100_000;

/** A run row with defaults. */
function run(id, fields = {}) {
  return { runId: id, name: id, status: "completed", reason: null, kind: "training",
    group: null, jobType: null, host: null, tags: [], startedAtMs: 1_700_000_000_000,
    finishedAtMs: 1_700_000_060_000, updatedAtMs: 0, config: {}, ...fields };
}

const RUNS = [
  run("a", { config: { lr: 0.1, opt: "adam" }, tags: ["foo", "base"], status: "running",
    finishedAtMs: null, startedAtMs: 1_700_000_090_000 }),
  run("b", { config: { lr: 0.001, opt: "sgd", "summary.loss": 0.5 }, tags: ["bar"],
    status: "failed", reason: "oom", group: "g1" }),
  run("c", { config: { lr: 0.005, opt: "adam", "summary.loss": 0.2 }, name: "Cool run",
    startedAtMs: 1_700_000_050_000, group: "g1" }),
  run("d", { config: { opt: "adam", lr: "auto" }, startedAtMs: 1_699_000_000_000 }),
];

/** Ids of the runs a filter keeps (asserting it parses). */
function kept(text) {
  const { predicate, error } = buildFilter(text, NOW);
  assert.equal(error, null, `${text}: ${error}`);
  return RUNS.filter(predicate).map((r) => r.runId);
}

test("field filters: numbers, state, tags, regex, text, AND", () => {
  assert.deepEqual(kept("config.lr < 0.01"), ["b", "c"]);
  assert.deepEqual(kept("config.lr<0.01"), ["b", "c"]);
  assert.deepEqual(kept("config.lr >= 0.005 AND config.opt = adam"), ["a", "c"]);
  assert.deepEqual(kept("state = running"), ["a"]);
  assert.deepEqual(kept("state != running"), ["b", "c", "d"]);
  assert.deepEqual(kept("tag:foo"), ["a"]);
  assert.deepEqual(kept("tags ~ ^ba"), ["a", "b"]);
  assert.deepEqual(kept("tags !~ ^ba"), ["c", "d"]);
  assert.deepEqual(kept("name ~ ^cool"), ["c"]);
  assert.deepEqual(kept("COOL"), ["c"]);
  assert.deepEqual(kept("g1 config.lr > 0.002"), ["c"]);
  assert.deepEqual(kept("summary.loss < 0.3"), ["c"]);
  assert.deepEqual(kept('name = "Cool run"'), ["c"]);
  assert.deepEqual(kept("config.lr = auto"), ["d"]);
  assert.deepEqual(kept("duration > 30000 state = running"), []); // running for 10 s
  assert.deepEqual(kept("duration < 30000"), ["a", "c"]); // 10 s each
  assert.deepEqual(kept(""), ["a", "b", "c", "d"]);
  assert.deepEqual(kept("   and  "), ["a", "b", "c", "d"]);
});

test("bad filters give a message and never throw", () => {
  for (const [text, needle] of [
    ["config.lr <", "needs a value"], ["< 3", "needs a field"], ["colour = red", "unknown field"],
    ["name ~ [", "regular expression"], ['name = "open', "quote"], ["config.lr < abc", "number"],
    ["tag:", "tag"], ["state = = running", "needs a value"],
  ]) {
    const parsed = parseFilter(text);
    assert.equal(parsed.terms, null, text);
    assert.match(parsed.error, new RegExp(needle), text);
    assert.equal(buildFilter(text, NOW).predicate, null);
  }
});

test("sort: numbers, strings, nulls last both ways, mixed types ranked, stable", () => {
  const ids = (field, desc) => sortRuns(RUNS, field, desc, NOW).map((r) => r.runId);
  assert.deepEqual(ids("config.lr", false), ["b", "c", "a", "d"]); // numbers before strings
  assert.deepEqual(ids("config.lr", true), ["d", "a", "c", "b"]);
  assert.deepEqual(ids("summary.loss", false), ["c", "b", "a", "d"]); // absent last
  assert.deepEqual(ids("summary.loss", true), ["b", "c", "a", "d"]); // absent still last
  assert.deepEqual(ids("start", false), ["d", "b", "c", "a"].filter(() => true).sort(
    (x, y) => fieldValue(RUNS.find((r) => r.runId === x), "start") -
      fieldValue(RUNS.find((r) => r.runId === y), "start")));
  assert.deepEqual(ids("config.opt", false), ["a", "c", "d", "b"]); // ties keep input order
  assert.deepEqual(ids("name", false), ["a", "b", "d", "Cool run"].map(
    (n) => RUNS.find((r) => r.name === n).runId).sort((x, y) => compareValues(
    RUNS.find((r) => r.runId === x).name, RUNS.find((r) => r.runId === y).name)));
  assert.ok(compareValues(1, "1") < 0 && compareValues("a", true) < 0);
  assert.ok(compareValues([1], [2]) < 0 && compareValues(false, true) < 0);
  assert.ok(compareValues(NaN, 1) > 0);
  assert.deepEqual(RUNS.map((r) => r.runId), ["a", "b", "c", "d"]); // input untouched
  assert.deepEqual(parseSort("-duration"), { field: "duration", desc: true });
  assert.deepEqual(parseSort("name"), { field: "name", desc: false });
  assert.equal(parseSort(""), null);
});

test("grouping: one row per value with counts, absent last, collapsed hides runs", () => {
  const rows = groupRows(RUNS, "group", new Set(), NOW);
  assert.deepEqual(rows.map((r) => (r.type === "group" ? `${r.label}:${r.count}` : r.run.runId)),
    ["g1:2", "b", "c", "(none):2", "a", "d"]);
  const folded = groupRows(RUNS, "config.opt", new Set(["adam"]), NOW);
  assert.deepEqual(folded.map((r) => (r.type === "group" ? `${r.label}:${r.count}:${r.collapsed}`
    : r.run.runId)), ["adam:3:true", "sgd:1:false", "b"]);
  assert.equal(groupRows(RUNS, null, new Set(), NOW).length, 4);
});

test("virtual window: visible rows plus overscan, spacers keep the full height", () => {
  assert.deepEqual(virtualWindow(0, 280, 28, 10_000, 5),
    { start: 0, end: 16, padTopPx: 0, padBottomPx: (10_000 - 16) * 28 });
  const mid = virtualWindow(28 * 5000 + 10, 280, 28, 10_000, 5);
  assert.deepEqual([mid.start, mid.end], [4995, 5016]);
  assert.equal(mid.padTopPx + (mid.end - mid.start) * 28 + mid.padBottomPx, 280_000);
  const end = virtualWindow(1e9, 280, 28, 100, 5);
  assert.deepEqual([end.start, end.end, end.padBottomPx], [100, 100, 0]);
  assert.deepEqual(virtualWindow(0, 280, 28, 0, 5),
    { start: 0, end: 0, padTopPx: 0, padBottomPx: 0 });
  assert.deepEqual(virtualWindow(-50, 0, 28, 3, 0), { start: 0, end: 1, padTopPx: 0, padBottomPx: 56 });
});

test("selection: default 10 newest, toggle, shift range, URL form", () => {
  const many = Array.from({ length: 15 }, (_, i) => run(`r${i}`, { startedAtMs: i * 1000 }));
  assert.deepEqual(defaultSelection(many, 10), Array.from({ length: 10 }, (_, i) => `r${14 - i}`));
  const ids = ["a", "b", "c", "d", "e"];
  let sel = clickSelection(new Set(), ids, 1, null, false);
  assert.deepEqual([...sel], ["b"]);
  sel = clickSelection(sel, ids, 3, 1, true);
  assert.deepEqual([...sel].sort(), ["b", "c", "d"]);
  sel = clickSelection(sel, ids, 2, 3, false);
  assert.deepEqual([...sel].sort(), ["b", "d"]);
  sel = clickSelection(sel, ids, 1, 2, true); // b selected → range b..c unselected
  assert.deepEqual([...sel], ["d"]);
  assert.equal(formatSelection(new Set(["c", "a"]), RUNS), "a,c");
  assert.equal(formatSelection(new Set(), RUNS), NO_RUNS);
  assert.deepEqual(parseSelection("a,c"), new Set(["a", "c"]));
  assert.deepEqual(parseSelection(NO_RUNS), new Set());
  assert.equal(parseSelection(null), null);
  const refs = runRefs(new Set(["c", "a"]), RUNS);
  assert.deepEqual(refs.map((r) => [r.runId, r.name, r.status]),
    [["a", "a", "running"], ["c", "Cool run", "completed"]]);
  assert.match(refs[0].color, /^#[0-9A-F]{6}$/i);
});

test("selection: ids the table does not know stay selected, as unknown runs (#15 integ)", () => {
  // a URL naming a deleted or mistyped run keeps it, so the charts can say "Unknown run"
  const refs = runRefs(new Set(["zz", "c", "a"]), RUNS);
  assert.deepEqual(refs.map((r) => [r.runId, r.name, r.status, r.startedAtMs]),
    [["a", "a", "running", RUNS[0].startedAtMs], ["c", "Cool run", "completed", RUNS[2].startedAtMs],
      ["zz", "zz", "unknown", null]]);
  assert.match(refs[2].color, /^#[0-9A-F]{6}$/i);
  assert.equal(formatSelection(new Set(["zz", "c", "a"]), RUNS), "a,c,zz");
});

test("formatting: durations, values, cells, state classes", () => {
  assert.equal(formatDuration(3_720_000), "1h 02m");
  assert.equal(formatDuration(187_000), "3m 07s");
  assert.equal(formatDuration(12_400), "12.4 s");
  assert.equal(formatDuration(640), "640 ms");
  assert.equal(formatDuration(2 * 86_400_000 + 4 * 3_600_000), "2d 04h");
  assert.equal(formatDuration(null), "");
  assert.equal(formatValue(0.000123456), "1.235e-4");
  assert.equal(formatValue(0.0003), "3e-4");
  assert.equal(formatValue(12345678.9), "1.235e+7");
  assert.equal(formatValue(0.123456), "0.1235");
  assert.equal(formatValue(3), "3");
  assert.equal(formatValue([1, 2]), "[1,2]");
  assert.equal(formatValue(null), "");
  assert.deepEqual(cellText(RUNS[1], "state", NOW), { text: "failed", title: "oom" });
  assert.equal(cellText(RUNS[0], "duration", NOW).text, "10.0 s");
  assert.equal(cellText(RUNS[0], "start", NOW).text, "10 s ago");
  assert.equal(cellText(RUNS[0], "start", NOW).title, "2023-11-14T22:14:50.000Z");
  assert.equal(cellText(RUNS[1], "summary.loss", NOW).text, "0.5");
  assert.equal(stateClass("lost"), "state state-warn");
  assert.equal(stateClass("killed"), "state state-warn");
  assert.equal(stateClass("failed"), "state state-failed");
  assert.equal(columnById("config.lr").label, "lr");
  assert.equal(columnById("summary.loss").id, "summary.loss");
  assert.equal(columnById("bogus"), null);
});

test("fields: aliases, decode of the compact reply, varying config keys", () => {
  assert.equal(canonicalField("status"), "state");
  assert.equal(canonicalField("tag"), "tags");
  assert.equal(canonicalField("config.a.b"), "config.a.b");
  assert.equal(canonicalField("nope"), null);
  const reply = { count: 2, config: [{ lr: 1 }, {}], columns: {
    runId: ["x", "y"], runName: ["X", null], status: ["running", "lost"], reason: [null, null],
    kind: ["training", "eval"], group: [null, "g"], jobType: [null, null], host: ["h", null],
    tags: [["t"], []], startedAtMs: [2, 1], finishedAtMs: [null, 5], updatedAtMs: [3, 5] } };
  const decoded = decodeTable(reply);
  assert.deepEqual(decoded[0], { runId: "x", name: "X", status: "running", reason: null,
    kind: "training", group: null, jobType: null, host: "h", tags: ["t"], startedAtMs: 2,
    finishedAtMs: null, updatedAtMs: 3, config: { lr: 1 } });
  assert.equal(fieldValue(decoded[1], "name", 0), "y"); // a run without a name shows its id
  assert.deepEqual(varyingConfigKeys(RUNS, 8), ["lr", "opt"]);
  const same = [run("x", { config: { a: 1, b: 2 } }), run("y", { config: { a: 1, b: 3 } })];
  assert.deepEqual(varyingConfigKeys(same, 8), ["b"]);
  assert.deepEqual(varyingConfigKeys(same, 0), []);
  assert.deepEqual(allConfigKeys(RUNS), ["lr", "opt", "summary.loss"]);
});

test("keys: typing targets, bindings, latest wins; theme toggle; tag parsing", () => {
  assert.equal(isTyping({ tagName: "INPUT", type: "search" }), true);
  assert.equal(isTyping({ tagName: "input" }), true);
  assert.equal(isTyping({ tagName: "INPUT", type: "checkbox" }), false);
  assert.equal(isTyping({ tagName: "TEXTAREA" }), true);
  assert.equal(isTyping({ tagName: "DIV", isContentEditable: true }), true);
  assert.equal(isTyping({ tagName: "BODY" }), false);
  assert.equal(isTyping(null), false);
  const calls = [];
  const unbindA = bindKey("x", "first", () => calls.push("a"));
  const unbindB = bindKey("x", "second", () => calls.push("b"));
  findBinding("x").handler();
  assert.deepEqual(shortcutList().filter((s) => s.key === "x"), [{ key: "x", description: "second" }]);
  unbindB();
  findBinding("x").handler();
  unbindA();
  assert.equal(findBinding("x"), undefined);
  assert.deepEqual(calls, ["b", "a"]);
  assert.equal(nextTheme(null, true), "light");
  assert.equal(nextTheme(null, false), "dark");
  assert.equal(nextTheme("dark", false), "light");
  assert.equal(nextTheme("light", true), "dark");
  assert.equal(nextTheme("bogus", true), "light");
  assert.deepEqual(parseTags(" a, b  c,,a "), ["a", "b", "c"]);
});

test("natural string order and the duration of lost runs", () => {
  const named = ["run-10", "run-9", "Run-1", "run-100"].map((n) => run(n));
  assert.deepEqual(sortRuns(named, "name", false, NOW).map((r) => r.runId),
    ["Run-1", "run-9", "run-10", "run-100"]);
  const lost = run("l", { status: "lost", finishedAtMs: null, startedAtMs: 1000, updatedAtMs: 61_000 });
  assert.equal(fieldValue(lost, "duration", NOW), 60_000);
  assert.equal(cellText(lost, "duration", NOW).text, "1m 00s");
});

test("live refresh: only small projects with a running run; selection changes that matter", () => {
  assert.equal(refreshDue(RUNS), true);
  assert.equal(refreshDue(RUNS.filter((r) => r.status !== "running")), false);
  const many = Array.from({ length: AUTO_REFRESH_MAX_RUNS + 1 }, (_, i) => run(`m${i}`,
    { status: "running" }));
  assert.equal(refreshDue(many), false);
  const refs = runRefs(new Set(["a", "b"]), RUNS);
  assert.equal(selectionChanged(refs, runRefs(new Set(["a", "b"]), RUNS)), false);
  assert.equal(selectionChanged(refs, runRefs(new Set(["a"]), RUNS)), true);
  const finished = RUNS.map((r) => (r.runId === "a" ? { ...r, status: "completed" } : r));
  assert.equal(selectionChanged(refs, runRefs(new Set(["a", "b"]), finished)), true);
});
