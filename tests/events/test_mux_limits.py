"""The multiplexed event stream's bounds and browser auth (docs/protocol.md §6.6): one byte
budget for all of a socket's runs, keepalives, and the session cookie's same-origin rule."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from rundial_collector.web.auth import CACHE_TTL_SECONDS
from tests.events.rawws import SlowSocket
from tests.events.streaming import (V1, call, closed, finish, messages_of, of_type, post_lines,
                                    post_points, receive_until, start_run, steps_of)
from tests.helpers.collector_proc import CollectorProcess

LINE_CHARS = 60 * 1024
LINES_PER_REQUEST = 16  # ~1 MiB per request
SOCKET_BUFFER_BYTES = 4 * 1024 * 1024 + 256 * 1024  # tcp_wmem's max plus the transport's


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client:
        yield client


def _subscribe(slow: SlowSocket, rid: str) -> None:
    slow.send_text(json.dumps({"type": "subscribe", "runId": rid, "cursor": "tail"}))


async def _post_mib(session: aiohttp.ClientSession, proc: CollectorProcess, pid: str,
                    rid: str, mebibytes: int, first: int = 0) -> None:
    """Log about ``mebibytes`` MiB of lines to the run, 1 MiB per request."""
    for request in range(mebibytes):
        sequence = first + request * LINES_PER_REQUEST
        await post_lines(session, proc, pid, rid, [
            f"{sequence + i:05d}" + "x" * LINE_CHARS for i in range(LINES_PER_REQUEST)],
            ts=2_000 + sequence, first_sequence=sequence + 1)


@pytest.mark.both_stores
async def test_a_slow_socket_is_closed_4408(collector: CollectorProcess,
                                            session: aiohttp.ClientSession) -> None:
    """A multiplexed socket that never reads is closed with 4408 "slow consumer" once its
    run's inbox fills (bounded memory); a reading socket on the same run gets every line."""
    proc = collector
    pid, rid = await start_run(session, proc)
    slow = SlowSocket(proc.port, f"/api/v1/projects/{pid}/events/ws", proc.api_key)
    _subscribe(slow, rid)
    fast = await session.ws_connect(f"{proc.url}{V1}/projects/{pid}/events/ws",
                                    headers={"Authorization": f"Bearer {proc.api_key}"})
    await fast.send_str(json.dumps({"type": "subscribe", "runId": rid, "cursor": "tail"}))
    await receive_until(fast, lambda ms: bool(of_type(ms, "replay_done")))
    reader = asyncio.create_task(receive_until(
        fast, lambda ms: len(messages_of(ms)) >= 16 * LINES_PER_REQUEST, 120))
    await _post_mib(session, proc, pid, rid, 16)
    assert len(messages_of(await reader)) == 16 * LINES_PER_REQUEST
    closing = await asyncio.to_thread(slow.read_to_close)
    slow.close()
    assert (closing.code, closing.reason) == (4408, "slow consumer"), closing
    await fast.close()


async def test_the_runs_of_a_socket_share_one_budget(shared_collector: CollectorProcess,
                                                     session: aiohttp.ClientSession) -> None:
    """Three runs with 6 MiB each: every inbox stays under its own 8 MiB bound, together
    they pass the socket's 8 MiB budget (plus what the socket buffers hold), so 4408."""
    proc = shared_collector
    runs = [await start_run(session, proc) for _ in range(3)]
    pid = runs[0][0]
    slow = SlowSocket(proc.port, f"/api/v1/projects/{pid}/events/ws", proc.api_key)
    for _, rid in runs:
        _subscribe(slow, rid)
    assert 3 * 6 * 2**20 - SOCKET_BUFFER_BYTES > 8 * 2**20
    for _, rid in runs:
        await _post_mib(session, proc, pid, rid, 6)
    closing = await asyncio.to_thread(slow.read_to_close)
    slow.close()
    assert (closing.code, closing.reason) == (4408, "slow consumer"), closing


async def test_unsubscribing_gives_the_budget_back(shared_collector: CollectorProcess,
                                                   session: aiohttp.ClientSession) -> None:
    """What a run left queued when it was unsubscribed no longer counts: 7 MiB queued, the
    run unsubscribed and subscribed again, 7 MiB more, and the socket is still open."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    slow = SlowSocket(proc.port, f"/api/v1/projects/{pid}/events/ws", proc.api_key)
    _subscribe(slow, rid)
    assert 7 * 2**20 - SOCKET_BUFFER_BYTES + 7 * 2**20 > 8 * 2**20
    await _post_mib(session, proc, pid, rid, 7)
    slow.send_text(json.dumps({"type": "unsubscribe", "runId": rid}))
    _, marker = await start_run(session, proc)
    _subscribe(slow, marker)  # handled after the unsubscribe: its replay_done orders them
    _subscribe(slow, rid)
    await _post_mib(session, proc, pid, rid, 7, first=7 * LINES_PER_REQUEST)
    await finish(session, proc, rid)
    closing = await asyncio.to_thread(slow.read_to_text, '"type":"run_closed"')
    slow.close()
    assert closing is None, closing


async def test_a_quiet_socket_gets_keepalives(quick_poll: CollectorProcess,
                                              session: aiohttp.ClientSession) -> None:
    """One ``keepalive`` (no runId) per quiet interval for the whole socket, however many
    runs it follows; rows still come after."""
    proc = quick_poll
    pid, first = await start_run(session, proc)
    _, second = await start_run(session, proc)
    ws = await session.ws_connect(f"{proc.url}{V1}/projects/{pid}/events/ws",
                                  headers={"Authorization": f"Bearer {proc.api_key}"})
    for rid in (first, second):
        await ws.send_str(json.dumps({"type": "subscribe", "runId": rid, "cursor": "tail"}))
    await receive_until(ws, lambda ms: len(of_type(ms, "replay_done")) == 2)
    quiet = await receive_until(ws, lambda ms: len(of_type(ms, "keepalive")) >= 2)
    assert quiet == [{"type": "keepalive", "intervalMs": 1000}] * 2
    await post_points(session, proc, pid, second, "q", range(3))
    assert steps_of(await receive_until(ws, lambda ms: bool(steps_of(ms, "q"))),
                    "q") == [0, 1, 2]
    await ws.close()


async def _session_cookie(session: aiohttp.ClientSession, proc: CollectorProcess) -> str:
    async with session.post(f"{proc.url}{V1}/ui/session", json={"apiKey": proc.api_key},
                            headers={"Origin": proc.url}) as reply:
        assert reply.status == 201, await reply.text()
        return reply.cookies["rundial_session"].value


async def test_the_session_cookie_needs_our_origin(shared_collector: CollectorProcess,
                                                   session: aiohttp.ClientSession) -> None:
    """The UI's cookie opens the socket only with the collector's own ``Origin`` (4403 for
    another site's page or none), as the per-run socket."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    cookie = {"Cookie": f"rundial_session={await _session_cookie(session, proc)}"}
    url = f"{proc.url}{V1}/projects/{pid}/events/ws"
    for origin in ({"Origin": "http://evil.example"}, {}):
        refused = await session.ws_connect(url, headers={**cookie, **origin})
        assert await closed(refused) == []
        assert refused.close_code == 4403
    ws = await session.ws_connect(url, headers={**cookie, "Origin": proc.url})
    await ws.send_str(json.dumps({"type": "subscribe", "runId": rid, "cursor": ""}))
    assert of_type(await receive_until(ws, lambda ms: bool(of_type(ms, "replay_done"))),
                   "replay_done")[0]["runId"] == rid
    await ws.close()


async def test_revoking_the_key_closes_the_socket_4401(shared_collector: CollectorProcess,
                                                       session: aiohttp.ClientSession) -> None:
    """A revoked ``stream:read`` key closes the multiplexed socket with 4401 (as the per-run
    socket), and nothing ingested afterwards reaches it."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    keys = f"/workspaces/{proc.workspace}/projects/{proc.project}/api-keys"
    status, key = await call(session, proc, "POST", keys, {"scopes": ["stream:read"]})
    assert status == 201, key
    ws = await session.ws_connect(f"{proc.url}{V1}/projects/{pid}/events/ws",
                                  headers={"Authorization": f"Bearer {key['apiKey']}"})
    await ws.send_str(json.dumps({"type": "subscribe", "runId": rid, "cursor": "tail"}))
    await receive_until(ws, lambda ms: bool(of_type(ms, "replay_done")))
    status, _ = await call(session, proc, "POST", f"{keys}/{key['keyId']}/revoke", {})
    assert status == 200
    await post_points(session, proc, pid, rid, "loss", range(3))
    after = await closed(ws, timeout=CACHE_TTL_SECONDS + 5)
    assert ws.close_code == 4401, ws.close_code
    assert steps_of(after, "loss") == []
