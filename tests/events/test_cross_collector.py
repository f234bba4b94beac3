"""Two collectors on one PostgreSQL: a subscriber on B sees what is ingested through A at once.

The event poll is set to 30 s on both, so only the commit notification (LISTEN/NOTIFY) can
deliver within the test's deadline; the poll fallback is far too slow to pass it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.events.streaming import (connect, finish, messages_of, post_lines, post_points,
                                    receive_until, replayed, start_run, steps_of)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.postgres import PgCluster

POLL = {"RUNDIAL_COLLECTOR_EVENTS_POLL_SECONDS": "30"}
DELIVERY_SECONDS = 5.0  # well within the 30 s poll


@pytest.fixture
def pair(tmp_path: Path, pg_cluster: PgCluster) -> Iterator[tuple[CollectorProcess,
                                                                  CollectorProcess]]:
    """Collectors A and B on one fresh database, with the same bootstrap key."""
    url = pg_cluster.new_database()
    a = CollectorProcess(tmp_path / "a", extra_env=POLL, database_url=url)
    b = CollectorProcess(tmp_path / "b", extra_env=POLL, database_url=url)
    b.api_key = a.api_key
    a.start()
    try:
        b.start()
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.mark.serial
async def test_subscriber_on_b_sees_rows_ingested_through_a(
        pair: tuple[CollectorProcess, CollectorProcess],
        session: aiohttp.ClientSession) -> None:
    a, b = pair
    pid, rid = await start_run(session, a)
    ws = await connect(session, b, rid)
    await receive_until(ws, replayed)
    for round_ in range(3):  # each round must arrive by notification, not by the poll
        started = time.monotonic()
        await post_points(session, a, pid, rid, "loss", range(round_ * 2, round_ * 2 + 2))
        await post_lines(session, a, pid, rid, [f"line {round_}"], first_sequence=round_ + 1)
        got = await receive_until(
            ws, lambda m: len(steps_of(m, "loss")) == 2 and len(messages_of(m)) == 1,
            timeout=DELIVERY_SECONDS)
        assert steps_of(got, "loss") == [round_ * 2, round_ * 2 + 1]
        assert messages_of(got) == [f"line {round_}"]
        assert time.monotonic() - started < DELIVERY_SECONDS
    await finish(session, a, rid)  # the state change through A ends B's stream too
    rest = await receive_until(ws, lambda m: False, timeout=DELIVERY_SECONDS + 2)
    assert [m["status"] for m in rest if m["type"] == "state"] == ["completed"]
    assert ws.close_code == 1000


async def test_mux_subscriber_on_b_sees_rows_ingested_through_a(
        pair: tuple[CollectorProcess, CollectorProcess],
        session: aiohttp.ClientSession) -> None:
    """The project's multiplexed socket (docs/protocol.md §6.6) on B is woken by A's commits
    as the per-run socket is, and ends the run with ``run_closed`` when A finishes it."""
    a, b = pair
    pid, rid = await start_run(session, a)
    ws = await session.ws_connect(f"{b.url}/api/v1/projects/{pid}/events/ws",
                                  headers={"Authorization": f"Bearer {b.api_key}"})
    await ws.send_str(json.dumps({"type": "subscribe", "runId": rid, "cursor": "tail"}))
    await receive_until(ws, replayed)
    started = time.monotonic()
    await post_points(session, a, pid, rid, "loss", range(2))
    got = await receive_until(ws, lambda m: len(steps_of(m, "loss")) == 2,
                              timeout=DELIVERY_SECONDS)
    assert steps_of(got, "loss") == [0, 1]
    assert time.monotonic() - started < DELIVERY_SECONDS
    await finish(session, a, rid)
    ended = await receive_until(ws, lambda m: any(x["type"] == "run_closed" for x in m),
                                timeout=DELIVERY_SECONDS)
    assert [m["status"] for m in ended if m["type"] == "state"] == ["completed"]
    await ws.close()
