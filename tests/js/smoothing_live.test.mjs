// Server smoothing of live-merged chart entries (charts/smoothing.js): the request gives the
// entry's own buckets back, and the last curve stays drawn while new buckets wait.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSmoother, fitLength, DEBOUNCE_MS } from "../../collector/rundial_collector/ui/static/charts/smoothing.js";

/** Wait for ``check()`` to be truthy, polling, with a deadline. */
async function until(check, deadlineMs = 2000) {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS / 4));
  }
}

test("a live-merged bucketed entry is smoothed on its own grid and keeps its curve meanwhile", async () => {
  /** @type {any[]} */
  const bodies = [];
  globalThis.fetch = async (_url, init) => {
    const body = JSON.parse(init.body);
    bodies.push(body);
    const series = body.series.map(() => ({ smoothed: [0.5, 0.25, 0.125, 0.0625] }));
    return new Response(JSON.stringify({ series }), { status: 200 });
  };
  const merged = { runId: "r", metricKey: "loss", mode: "buckets", last: [4, 3, 2, 1],
    grid: { first: 10, span: 100, cells: 8 } };
  const redrawn = [];
  const smoother = createSmoother({
    projectId: "prj", redraw: (key) => redrawn.push(key), zoomed: () => false,
    shape: () => ({ buckets: 8 }), entryOf: () => merged,
  });
  smoother.setSpec("0.9", "ema");
  assert.equal(smoother.smoothedFor("loss", {}, merged), null); // nothing cached yet
  await until(() => redrawn.length === 1);
  assert.equal(bodies.length, 1);
  assert.equal(bodies[0].buckets, 16);
  assert.equal(bodies[0].startStep, 10);
  assert.equal(bodies[0].endStep, 209);
  assert.deepEqual(smoother.smoothedFor("loss", {}, merged), [0.5, 0.25, 0.125, 0.0625]);
  // one more live bucket: the old curve stays, the new bucket blank until the next reply
  const grown = { ...merged, last: [4, 3, 2, 1, 0] };
  assert.deepEqual(smoother.smoothedFor("loss", {}, grown), [0.5, 0.25, 0.125, 0.0625, null]);
});

test("fitLength pads with gaps or cuts", () => {
  assert.deepEqual(fitLength([1, 2], 3), [1, 2, null]);
  assert.deepEqual(fitLength([1, 2, 3], 2), [1, 2]);
  const same = [1];
  assert.equal(fitLength(same, 1), same);
});
