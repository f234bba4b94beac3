"""Disabling a user ends the event streams it opened with its ``rd_session`` cookie (close code
4401), whether it is disabled through this collector's route or by another process
(``rundial-collector users disable`` on the same store; the socket's periodic re-check finds
the session gone). Deadlines are generous: these tests show that the streams end, not how
fast (tests/collector/test_users_routes.py shows that no cache delays a refusal)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from rundial_collector.routes.live import KEY_RECHECK_SECONDS
from tests.collector.control import unique
from tests.events.streaming import V1, call, closed, receive_until, replayed, start_run
from tests.helpers.collector_proc import CollectorProcess

PASSWORD = "a stream watcher's password"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _user_stream(session: aiohttp.ClientSession, proc: CollectorProcess
                       ) -> tuple[str, str, aiohttp.ClientWebSocketResponse]:
    """(user id, email, a replayed event stream opened with the user's rd_session)."""
    _, rid = await start_run(session, proc)
    email = unique("watcher") + "@example.com"
    status, user = await call(session, proc, "POST", "/users",
                              {"email": email, "password": PASSWORD})
    assert status == 201, user
    async with session.post(f"{proc.url}{V1}/auth/login/credentials",
                            json={"email": email, "password": PASSWORD}) as resp:
        assert resp.status == 200, await resp.text()
        token = resp.cookies["rd_session"].value
    ws = await session.ws_connect(f"{proc.url}{V1}/runs/{rid}/events/ws",
                                  headers={"Cookie": f"rd_session={token}"})
    await receive_until(ws, replayed)
    return user["userId"], email, ws


@pytest.mark.serial
async def test_disabling_through_the_route_closes_the_users_stream(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    user_id, _, ws = await _user_stream(session, shared_collector)
    status, _ = await call(session, shared_collector, "POST", f"/users/{user_id}/disable", {})
    assert status == 200
    await closed(ws, timeout=10)
    assert ws.close_code == 4401, ws.close_code


@pytest.mark.serial
async def test_disabling_with_the_collector_cli_closes_the_users_stream(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    _, email, ws = await _user_stream(session, shared_collector)
    done = subprocess.run([sys.executable, "-m", "rundial_collector", "users", "disable", email,
                           "--data-dir", str(shared_collector.data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    await closed(ws, timeout=KEY_RECHECK_SECONDS + 10)
    assert ws.close_code == 4401, ws.close_code
