"""Revoking an API key ends its open event streams (issue 14.7), end to end.

Before the fix REST calls got 401 at once after a revocation, but a socket opened with the key
kept receiving metrics for as long as it stayed open.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import closing

import aiohttp
import pytest

from rundial_collector.routes.live import KEY_RECHECK_SECONDS
from rundial_collector.web.auth import CACHE_TTL_SECONDS
from tests.events.streaming import (call, closed, connect, post_points, receive_until,
                                    start_run, steps_of)
from tests.helpers.collector_proc import CollectorProcess


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _stream_key(session: aiohttp.ClientSession, proc: CollectorProcess
                      ) -> tuple[str, str]:
    """(key id, secret) of a new ``stream:read`` key on the bootstrap project."""
    path = f"/workspaces/{proc.workspace}/projects/{proc.project}/api-keys"
    status, key = await call(session, proc, "POST", path, {"scopes": ["stream:read"]})
    assert status == 201, key
    return key["keyId"], key["apiKey"]


@pytest.mark.serial
@pytest.mark.parametrize("via", ["header", "token"])
async def test_revoking_a_key_closes_its_streams_with_4401(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession, via: str) -> None:
    """After ``revoke`` the socket is closed with 4401 within the auth cache TTL, and metrics
    ingested afterwards never reach it."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    key_id, secret = await _stream_key(session, proc)
    ws = await (connect(session, proc, rid, secret) if via == "header"
                else connect(session, proc, rid, None, token=secret))
    await receive_until(ws, lambda ms: any(m["type"] == "replay_done" for m in ms))
    await post_points(session, proc, pid, rid, "loss", range(0, 3))
    live = await receive_until(ws, lambda ms: steps_of(ms, "loss")[-1:] == [2])
    assert steps_of(live, "loss") == [0, 1, 2]

    path = f"/workspaces/{proc.workspace}/projects/{proc.project}/api-keys/{key_id}/revoke"
    status, _ = await call(session, proc, "POST", path, {})
    assert status == 200
    revoked_at = time.monotonic()
    status, _ = await call(session, proc, "GET", "/auth/whoami", key=secret)
    assert status == 401
    await post_points(session, proc, pid, rid, "loss", range(3, 6))
    after = await closed(ws, timeout=CACHE_TTL_SECONDS + 5)
    assert ws.close_code == 4401, ws.close_code
    assert time.monotonic() - revoked_at <= CACHE_TTL_SECONDS
    assert not set(steps_of(after, "loss")) & {3, 4, 5}


@pytest.mark.serial
async def test_revocation_by_another_process_closes_within_the_cache_ttl(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    """A key revoked by another process sharing the database (here: a direct UPDATE of the
    SQLite file) closes its open socket with 4401 once the auth cache entry expires."""
    proc = shared_collector
    _, rid = await start_run(session, proc)
    key_id, secret = await _stream_key(session, proc)
    ws = await connect(session, proc, rid, secret)
    await receive_until(ws, lambda ms: any(m["type"] == "replay_done" for m in ms))
    with closing(sqlite3.connect(proc.data_dir / "rundial.sqlite3", timeout=10)) as conn:
        conn.execute("UPDATE api_keys SET revoked_ms = ? WHERE key_id = ?",
                     (int(time.time() * 1000), key_id))
        conn.commit()
    revoked_at = time.monotonic()
    await closed(ws, timeout=CACHE_TTL_SECONDS + 10)
    assert ws.close_code == 4401, ws.close_code
    assert time.monotonic() - revoked_at <= CACHE_TTL_SECONDS + KEY_RECHECK_SECONDS + 1.0


async def test_an_expiring_key_closes_its_stream(shared_collector: CollectorProcess,
                                                 session: aiohttp.ClientSession) -> None:
    """A key that expires while its socket is open closes it with 4401."""
    proc = shared_collector
    _, rid = await start_run(session, proc)
    path = f"/workspaces/{proc.workspace}/projects/{proc.project}/api-keys"
    expires_ms = int(time.time() * 1000) + 1500
    status, key = await call(session, proc, "POST", path, {"scopes": ["stream:read"],
                                                            "expiresAtMs": expires_ms})
    assert status == 201, key
    ws = await connect(session, proc, rid, key["apiKey"])
    await closed(ws, timeout=10)
    assert ws.close_code == 4401, ws.close_code
    assert time.time() * 1000 >= expires_ms
