// The project's multiplexed live stream (core/muxsocket.js, live/feed.js followProjectRuns)
// against a scripted WebSocket that plays the collector (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { followProjectRuns } from "../../collector/rundial_collector/ui/static/live/feed.js";
import { FakeSocket, until } from "./fakesocket.mjs";

const ref = (runId) => ({ runId, name: runId, color: "", status: "running", startedAtMs: 1 });
const metrics = (runId, steps, cursor, replay) => ({
  type: "metrics", runId, cursor, replay,
  series: [{ metricKey: "k", rank: null, steps, timestampsMs: steps, values: steps }],
});

test("mux: one socket for all runs, per-run live, resume per cursor after a drop", async () => {
  const seen = [];
  const statuses = [];
  const feed = followProjectRuns("p1", [ref("a"), ref("b")], {
    onPoints: (runId, _key, p) => seen.push(...p.steps.map((s) => `${runId}${s}`)),
    onStatus: (runId, status) => statuses.push(`${runId}:${status}`),
  });
  assert.equal(FakeSocket.all.length, 1);
  const first = FakeSocket.all[0];
  assert.equal(first.url, "ws://h:1/api/v1/projects/p1/events/ws");
  first.open();
  assert.deepEqual(first.sent, [{ type: "subscribe", runId: "a", cursor: "tail" },
    { type: "subscribe", runId: "b", cursor: "tail" }]);
  first.deliver({ type: "replay_done", runId: "a", cursor: "A0" });
  first.deliver(metrics("a", [1], "A1", false));
  assert.deepEqual(statuses.slice(-3), ["a:replaying", "b:replaying", "a:live"]);
  first.deliver(metrics("b", [7], "B1", true)); // held: b's replay is not done
  assert.deepEqual(seen, ["a1"]);
  first.drop(1006);
  assert.deepEqual(statuses.slice(-2), ["a:reconnecting", "b:reconnecting"]);
  await until(() => FakeSocket.all.length === 2);
  const second = FakeSocket.all[1];
  second.open();
  assert.deepEqual(second.sent, [{ type: "subscribe", runId: "a", cursor: "A1" },
    { type: "subscribe", runId: "b", cursor: "B1" }]); // a replay carries its start
  second.deliver(metrics("b", [7, 8], "B1", true));
  second.deliver({ type: "replay_done", runId: "b", cursor: "B2" });
  second.deliver({ type: "run_closed", runId: "b", code: 1000, reason: "run finished" });
  assert.deepEqual(seen, ["a1", "b7", "b8"]); // the dropped replay is not handed out twice
  assert.equal(statuses.at(-1), "b:finished");
  feed.close();
  assert.equal(second.closed, true);
});

test("mux: an error frame fails only its run; update unsubscribes and subscribes", () => {
  const statuses = new Map();
  const before = FakeSocket.all.length;
  const feed = followProjectRuns("p2", [ref("x"), ref("y")], {
    onStatus: (runId, status, detail) => statuses.set(runId, `${status} ${detail}`.trim()),
  });
  const socket = FakeSocket.all[before];
  socket.open();
  socket.deliver({ type: "error", runId: "x", code: 4404, message: "run x was not found" });
  socket.deliver({ type: "replay_done", runId: "y", cursor: "Y0" });
  assert.equal(statuses.get("x"), "failed 4404 run x was not found");
  assert.equal(statuses.get("y"), "live");
  feed.update([ref("y"), ref("z")]);
  assert.deepEqual(socket.sent.slice(2), [{ type: "subscribe", runId: "z", cursor: "tail" }]);
  feed.update([ref("z")]);
  assert.deepEqual(socket.sent.at(-1), { type: "unsubscribe", runId: "y" });
  assert.equal(FakeSocket.all.length, before + 1); // still the one socket
  socket.drop(4403, "no access");
  assert.equal(statuses.get("z"), "failed 4403 no access");
  feed.close();
});

test("mux: a silent socket is dropped and 4408 reconnects; finished runs are not resubscribed", async () => {
  const statuses = [];
  const before = FakeSocket.all.length;
  const feed = followProjectRuns("p3", [ref("m"), ref("n")], {
    onStatus: (runId, status) => statuses.push(`${runId}:${status}`),
  });
  const first = FakeSocket.all[before];
  first.open();
  first.deliver({ type: "replay_done", runId: "m", cursor: "M0" });
  first.deliver({ type: "replay_done", runId: "n", cursor: "N0" });
  first.deliver({ type: "run_closed", runId: "n", code: 1000, reason: "run finished" });
  first.deliver({ type: "keepalive", intervalMs: 10 }); // silent for 2.5 intervals + 1 s: dead
  await until(() => FakeSocket.all.length === before + 2);
  assert.equal(first.closed, true);
  assert.deepEqual(statuses.slice(-2), ["n:finished", "m:reconnecting"]);
  const second = FakeSocket.all[before + 1];
  second.open();
  assert.deepEqual(second.sent, [{ type: "subscribe", runId: "m", cursor: "M0" }]);
  assert.equal(statuses.at(-1), "m:replaying"); // not live before its replay_done
  second.drop(4408, "slow consumer");
  assert.equal(statuses.at(-1), "m:reconnecting");
  await until(() => FakeSocket.all.length === before + 3);
  const third = FakeSocket.all[before + 2];
  third.open();
  third.deliver({ type: "replay_done", runId: "m", cursor: "M1" });
  assert.equal(statuses.at(-1), "m:live");
  feed.update([]); // nothing followed any more: the socket closes
  assert.equal(third.closed, true);
  feed.close();
});
