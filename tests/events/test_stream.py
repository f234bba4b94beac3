"""The live event stream: replay then live delivery, late joiners, cursors and refusals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.events.streaming import (call, closed, connect, finish, messages_of, of_type,
                                    post_lines, post_points, receive_until, seeded_run,
                                    start_run, steps_of)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _replayed(messages: list[dict[str, Any]]) -> bool:
    return any(m["type"] == "replay_done" for m in messages)


async def test_replay_then_live_then_close(shared_collector: CollectorProcess,
                                           session: aiohttp.ClientSession) -> None:
    """Stored rows are replayed, then new rows arrive live once each, then 1000 on finish."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "loss", range(5), ["stored one", "stored two"])
    ws = await connect(session, proc, rid)
    replay = await receive_until(ws, _replayed)
    assert steps_of(replay, "loss") == [0, 1, 2, 3, 4]
    assert messages_of(replay) == ["stored one", "stored two"]
    assert [m["status"] for m in of_type(replay, "state")] == ["running"]
    assert all(m["replay"] for m in replay if m["type"] != "replay_done")
    await post_points(session, proc, pid, rid, "loss", range(5, 8))
    await post_lines(session, proc, pid, rid, ["live one"], ts=3_000, first_sequence=10)
    live = await receive_until(ws, lambda ms: steps_of(ms, "loss")[-1:] == [7]
                               and "live one" in messages_of(ms))
    assert steps_of(live, "loss") == [5, 6, 7] and messages_of(live) == ["live one"]
    assert not any(m.get("replay") for m in live)
    await finish(session, proc, rid)
    tail = await closed(ws)
    assert [m["status"] for m in of_type(tail, "state")] == ["completed"]
    assert ws.close_code == 1000


async def test_late_joiner_gets_replay_then_close(shared_collector: CollectorProcess,
                                                  session: aiohttp.ClientSession) -> None:
    """A socket opened on a finished run gets the replay, the final state, then 1000."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "acc", range(3), ["before the end"])
    await finish(session, proc, rid, "failed")
    ws = await connect(session, proc, rid, projectId=pid)
    messages = await closed(ws)
    assert [m["type"] for m in messages][-2:] == ["state", "replay_done"]
    assert steps_of(messages, "acc") == [0, 1, 2]
    assert messages_of(messages) == ["before the end"]
    assert of_type(messages, "state")[0]["status"] == "failed"
    assert ws.close_code == 1000


async def test_cursor_resumes_after_what_was_seen(shared_collector: CollectorProcess,
                                                  session: aiohttp.ClientSession) -> None:
    """Reconnecting with the last cursor replays only what was stored after it."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "loss", range(3), [])
    ws = await connect(session, proc, rid)
    cursor = (await receive_until(ws, _replayed))[-1]["cursor"]
    await ws.close()
    await post_points(session, proc, pid, rid, "loss", range(3, 5))
    await post_lines(session, proc, pid, rid, ["after the cursor"])
    again = await connect(session, proc, rid, cursor=cursor)
    replay = await receive_until(again, _replayed)
    assert steps_of(replay, "loss") == [3, 4]
    assert messages_of(replay) == ["after the cursor"]
    await again.close()


async def test_concurrent_ingest_is_delivered_exactly_once(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    """Subscribers joining while ingest runs see every step once (no gap, no duplicate)."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    total, batch = 60, 3
    posted = [asyncio.Event() for _ in range(total // batch)]

    async def writer() -> None:
        for i, first in enumerate(range(0, total, batch)):
            await post_points(session, proc, pid, rid, "x", range(first, first + batch))
            posted[i].set()

    async def subscriber(after_batch: int) -> list[int]:
        await posted[after_batch].wait()
        ws = await connect(session, proc, rid)
        messages = await receive_until(ws, lambda ms: len(steps_of(ms, "x")) >= total, 30)
        await ws.close()
        return steps_of(messages, "x")

    results = await asyncio.gather(writer(), *(subscriber(k) for k in (0, 3, 7, 12, 16)))
    for steps in results[1:]:
        assert sorted(steps) == list(range(total)), steps


@pytest.mark.parametrize("how", ["no key", "bad header", "bad token"])
async def test_unauthenticated_socket_closes_4401(shared_collector: CollectorProcess,
                                                  session: aiohttp.ClientSession,
                                                  how: str) -> None:
    """Without a valid key (header or query token) the upgrade is closed with 4401."""
    _, rid = await start_run(session, shared_collector)
    header = {"no key": None, "bad header": "rdk_wrong", "bad token": None}[how]
    params = {"token": "rdk_wrong"} if how == "bad token" else {}
    ws = await connect(session, shared_collector, rid, header_key=header, **params)
    assert await closed(ws) == []
    assert ws.close_code == 4401


async def test_query_token_authenticates_browsers(shared_collector: CollectorProcess,
                                                  session: aiohttp.ClientSession) -> None:
    """``?token=`` works where a browser cannot send an Authorization header."""
    proc = shared_collector
    _, rid = await start_run(session, proc)
    ws = await connect(session, proc, rid, header_key=None, token=proc.api_key)
    assert (await receive_until(ws, _replayed))[-1]["type"] == "replay_done"
    await ws.close()


async def _key(session: aiohttp.ClientSession, proc: CollectorProcess, scopes: list[str]
               ) -> str:
    status, reply = await call(session, proc, "POST", f"/workspaces/{proc.workspace}/projects/"
                               f"{proc.project}/api-keys", {"scopes": scopes})
    assert status == 201, reply
    return str(reply["apiKey"])


@pytest.mark.parametrize(("scopes", "code"), [(["metrics:write"], 4403),
                                              (["stream:read"], None),
                                              (["project:read"], None)])
async def test_stream_needs_a_read_scope(shared_collector: CollectorProcess,
                                         session: aiohttp.ClientSession, scopes: list[str],
                                         code: int | None) -> None:
    """``stream:read`` or ``project:read`` may watch; a write-only key gets 4403."""
    proc = shared_collector
    _, rid = await start_run(session, proc)
    ws = await connect(session, proc, rid, header_key=await _key(session, proc, scopes))
    if code is None:
        assert (await receive_until(ws, _replayed))[-1]["type"] == "replay_done"
        await ws.close()
    else:
        await closed(ws)
        assert ws.close_code == code


@pytest.mark.parametrize(("rid", "params", "code"), [
    ("run-that-does-not-exist", {}, 4404),
    (None, {"projectId": "no-such-project"}, 4404),
    (None, {"cursor": "not-a-cursor"}, 4400)])
async def test_refusals_close_with_4000_plus_status(shared_collector: CollectorProcess,
                                                    session: aiohttp.ClientSession,
                                                    rid: str | None, params: dict[str, str],
                                                    code: int) -> None:
    """Unknown runs and projects close with 4404, a bad cursor with 4400."""
    if rid is None:
        _, rid = await start_run(session, shared_collector)
    ws = await connect(session, shared_collector, rid, **params)
    await closed(ws)
    assert ws.close_code == code


async def test_plain_get_is_a_400_envelope(shared_collector: CollectorProcess,
                                           session: aiohttp.ClientSession) -> None:
    """A GET without the upgrade gets the v1 error envelope, not a socket."""
    _, rid = await start_run(session, shared_collector)
    status, reply = await call(session, shared_collector, "GET", f"/runs/{rid}/events/ws")
    assert status == 400 and reply["error"]["code"] == "INVALID_REQUEST"


async def test_big_chunks_are_split_into_bounded_messages(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    """One 50,000-point request reaches a watcher whole, in several bounded messages."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    ws = await connect(session, proc, rid)
    await receive_until(ws, _replayed)
    await post_points(session, proc, pid, rid, "big", range(50_000))
    live = await receive_until(ws, lambda ms: len(steps_of(ms, "big")) >= 50_000)
    assert steps_of(live, "big") == list(range(50_000))
    assert len(of_type(live, "metrics")) >= 3
    await ws.close()


@pytest.mark.serial
async def test_shutdown_closes_sockets_with_1001(collector: CollectorProcess) -> None:
    """SIGTERM ends open streams with 1001 at once instead of waiting for them."""
    async with aiohttp.ClientSession() as session:
        _, rid = await start_run(session, collector)
        ws = await connect(session, collector, rid)
        await receive_until(ws, _replayed)
        started = time.monotonic()
        stopping = asyncio.create_task(asyncio.to_thread(collector.stop))
        await closed(ws)
        await stopping
        assert ws.close_code == 1001
        assert time.monotonic() - started < 5.0
