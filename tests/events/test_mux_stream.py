"""The multiplexed event stream (docs/protocol.md §6.6): one socket, many runs of a project."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.events.streaming import (V1, call, closed, finish, messages_of, of_type, post_lines,
                                    post_points, receive_until, seeded_run, start_run,
                                    steps_of)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _mux(session: aiohttp.ClientSession, proc: CollectorProcess, project: str,
               key: str | None = "admin", **params: str) -> aiohttp.ClientWebSocketResponse:
    headers = {} if key is None else {
        "Authorization": f"Bearer {proc.api_key if key == 'admin' else key}"}
    return await session.ws_connect(f"{proc.url}{V1}/projects/{project}/events/ws",
                                    params=params, headers=headers)


async def _subscribe(ws: aiohttp.ClientWebSocketResponse, rid: str,
                     cursor: str = "") -> None:
    await ws.send_str(json.dumps({"type": "subscribe", "runId": rid, "cursor": cursor}))


def _of_run(messages: list[dict[str, Any]], rid: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("runId") == rid]


def _replayed(rid: str) -> Any:
    return lambda ms: any(m["type"] == "replay_done" for m in _of_run(ms, rid))


async def test_two_runs_replay_live_and_finish(shared_collector: CollectorProcess,
                                               session: aiohttp.ClientSession) -> None:
    """Each run is replayed then followed live once; a finished run ends with run_closed
    while the socket keeps serving the other run."""
    proc = shared_collector
    pid, first = await seeded_run(session, proc, "loss", range(3), ["one"])
    _, second = await seeded_run(session, proc, "acc", range(2), [])
    ws = await _mux(session, proc, pid)
    await _subscribe(ws, first)
    await _subscribe(ws, second)
    replay = await receive_until(ws, lambda ms: _replayed(first)(ms) and _replayed(second)(ms))
    assert steps_of(_of_run(replay, first), "loss") == [0, 1, 2]
    assert messages_of(_of_run(replay, first)) == ["one"]
    assert steps_of(_of_run(replay, second), "acc") == [0, 1]
    await post_points(session, proc, pid, first, "loss", range(3, 5))
    await post_points(session, proc, pid, second, "acc", range(2, 4))
    live = await receive_until(ws, lambda ms: steps_of(_of_run(ms, first), "loss") == [3, 4]
                               and steps_of(_of_run(ms, second), "acc") == [2, 3])
    assert not any(m.get("replay") for m in live if m["type"] == "metrics")
    await finish(session, proc, first)
    ended = await receive_until(ws, lambda ms: bool(of_type(ms, "run_closed")))
    assert [(m["runId"], m["code"]) for m in of_type(ended, "run_closed")] == [(first, 1000)]
    await post_lines(session, proc, pid, second, ["still here"], ts=5_000, first_sequence=5)
    more = await receive_until(ws, lambda ms: "still here" in messages_of(ms))
    assert messages_of(_of_run(more, second)) == ["still here"]
    assert not ws.closed
    await ws.close()


async def test_tail_cursor_and_resume(shared_collector: CollectorProcess,
                                      session: aiohttp.ClientSession) -> None:
    """``tail`` replays nothing; a new socket resumes from a run's last cursor without a gap
    or a duplicate."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "loss", range(4), [])
    ws = await _mux(session, proc, pid)
    await _subscribe(ws, rid, "tail")
    first = await receive_until(ws, _replayed(rid))
    assert steps_of(first, "loss") == []
    await post_points(session, proc, pid, rid, "loss", range(4, 6))
    live = await receive_until(ws, lambda ms: steps_of(ms, "loss") == [4, 5])
    cursor = of_type(live, "metrics")[-1]["cursor"]
    await ws.close()
    await post_points(session, proc, pid, rid, "loss", range(6, 8))
    again = await _mux(session, proc, pid)
    await _subscribe(again, rid, cursor)
    resumed = await receive_until(again, lambda ms: 7 in steps_of(ms, "loss")
                                  and _replayed(rid)(ms))
    assert steps_of(resumed, "loss") == [6, 7]
    await again.close()


async def test_bad_frames_unknown_and_foreign_runs(shared_collector: CollectorProcess,
                                                   session: aiohttp.ClientSession) -> None:
    """Bad JSON, a bad cursor, an unknown run and a run of another project each get an error
    frame; the socket stays open and still serves a good subscription."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "loss", range(1), [])
    status, other = await call(session, proc, "POST", f"/workspaces/{proc.workspace}/projects",
                               {"slug": f"mux-{rid[-8:].lower()}"})
    assert status == 201, other
    _, foreign = await start_run(session, proc, other["projectId"])
    ws = await _mux(session, proc, pid)
    await ws.send_str("{not json")
    await ws.send_str(json.dumps({"type": "subscribe", "runId": rid, "cursor": "zz!"}))
    await _subscribe(ws, "no-such-run")
    await _subscribe(ws, foreign)
    errors = await receive_until(ws, lambda ms: len(of_type(ms, "error")) == 4)
    codes = [(m.get("runId"), m["code"]) for m in of_type(errors, "error")]
    assert codes == [(None, 4400), (rid, 4400), ("no-such-run", 4404), (foreign, 4404)]
    await _subscribe(ws, rid)
    replay = await receive_until(ws, _replayed(rid))
    assert steps_of(replay, "loss") == [0]
    await ws.close()


async def test_too_many_runs(shared_collector: CollectorProcess,
                             session: aiohttp.ClientSession) -> None:
    """Past the per-socket cap a subscription gets a 4413 error frame."""
    from rundial_collector.routes import live_mux
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    ws = await _mux(session, proc, pid)
    # unknown runs are refused before they count: the socket is filled with real ones
    runs = [rid] + [(await start_run(session, proc))[1]
                    for _ in range(live_mux.MAX_RUNS_PER_SOCKET)]
    for run_id in runs:
        await _subscribe(ws, run_id, "tail")
    got = await receive_until(ws, lambda ms: bool(of_type(ms, "error")), timeout=30.0)
    assert [(m["runId"], m["code"]) for m in of_type(got, "error")] == [(runs[-1], 4413)]
    await ws.close()


async def test_refused_sockets(shared_collector: CollectorProcess,
                               session: aiohttp.ClientSession) -> None:
    """No key, a bad key and an unknown project close the socket with 4401/4404."""
    proc = shared_collector
    pid, _ = await start_run(session, proc)
    for key, project, code in ((None, pid, 4401), ("rd_bad", pid, 4401),
                               ("admin", "no-such-project", 4404)):
        ws = await _mux(session, proc, project, key)
        assert await closed(ws) == []
        assert ws.close_code == code
    ws = await _mux(session, proc, pid, None, token=proc.api_key)
    await _subscribe(ws, "x")
    assert of_type(await receive_until(ws, lambda ms: bool(ms)), "error")
    await ws.close()


async def test_unsubscribe_stops_a_run(shared_collector: CollectorProcess,
                                       session: aiohttp.ClientSession) -> None:
    """After ``unsubscribe`` nothing live of the run comes; subscribing it again with its
    last cursor replays what was missed (a no-op unsubscribe would deliver it live and ignore
    the second subscribe)."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "loss", range(2), [])
    _, barrier = await start_run(session, proc)
    ws = await _mux(session, proc, pid)
    await _subscribe(ws, rid)
    cursor = [m for m in await receive_until(ws, _replayed(rid))
              if m["type"] == "replay_done"][0]["cursor"]
    await ws.send_str(json.dumps({"type": "unsubscribe", "runId": rid}))
    await _subscribe(ws, barrier, "tail")  # frames are handled in order: a barrier
    await receive_until(ws, _replayed(barrier))
    await post_points(session, proc, pid, rid, "loss", range(2, 4))
    await _subscribe(ws, rid, cursor)
    again = _of_run(await receive_until(ws, _replayed(rid)), rid)
    assert [(m["type"], m.get("replay")) for m in again if m["type"] == "metrics"] == [
        ("metrics", True)]
    assert steps_of(again, "loss") == [2, 3]
    await ws.close()
