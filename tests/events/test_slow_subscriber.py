"""Fan-out is bounded per subscriber: a reader that stalls is dropped, ingest is not slowed."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.events.rawws import SlowSocket
from tests.events.streaming import (call, closed, connect, finish, messages_of, post_lines,
                                    receive_until, start_run)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores

LINE_CHARS = 60 * 1024
LINES_PER_REQUEST = 16  # ~1 MiB per request
REQUESTS = 32  # ~32 MiB in total: far beyond the 8 MiB inbox plus socket buffers
MAX_REQUEST_SECONDS = 5.0  # generous: a 1 MiB ingest takes tens of ms on an idle machine
FAST_SUBSCRIBERS = 3


@pytest.mark.serial
async def test_slow_subscriber_is_dropped_without_slowing_ingest(
        collector: CollectorProcess) -> None:
    """A socket that never reads is closed with 4408 while every ingest stays fast and the
    subscribers that do read receive every line."""
    async with aiohttp.ClientSession() as session:
        pid, rid = await start_run(session, collector)
        slow = SlowSocket(collector.port, f"/api/v1/runs/{rid}/events/ws", collector.api_key)
        fast = [await connect(session, collector, rid) for _ in range(FAST_SUBSCRIBERS)]
        expected = [f"{i:04d}" + "x" * LINE_CHARS for i in range(REQUESTS * LINES_PER_REQUEST)]
        readers = [asyncio.create_task(receive_until(
            ws, lambda ms: len(messages_of(ms)) >= len(expected), 120)) for ws in fast]
        slowest = 0.0
        for first in range(0, len(expected), LINES_PER_REQUEST):
            started = time.monotonic()
            await post_lines(session, collector, pid, rid,
                             expected[first:first + LINES_PER_REQUEST], first_sequence=first)
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < MAX_REQUEST_SECONDS, f"an ingest took {slowest:.2f}s"
        for reader in readers:
            assert messages_of(await reader) == expected
        closing = await asyncio.to_thread(slow.read_to_close)
        slow.close()
        assert (closing.code, closing.reason) == (4408, "slow consumer"), closing
        await finish(session, collector, rid)
        for ws in fast:
            await closed(ws)
            assert ws.close_code == 1000


async def test_dropped_subscriber_can_resume_from_its_cursor(
        shared_collector: CollectorProcess) -> None:
    """After any disconnect the last cursor seen gives the rest, and nothing before it."""
    proc = shared_collector
    async with aiohttp.ClientSession() as session:
        pid, rid = await start_run(session, proc)
        await post_lines(session, proc, pid, rid, ["a", "b"])
        ws = await connect(session, proc, rid)
        await receive_until(ws, lambda ms: any(m["type"] == "replay_done" for m in ms))
        await post_lines(session, proc, pid, rid, ["c"], ts=5_000, first_sequence=3)
        live = await receive_until(ws, lambda ms: messages_of(ms) == ["c"])
        await ws.close()
        await post_lines(session, proc, pid, rid, ["d"], ts=6_000, first_sequence=4)
        status, _ = await call(session, proc, "POST", f"/runs/{rid}/heartbeat", {})
        assert status == 200
        again = await connect(session, proc, rid, cursor=live[-1]["cursor"])
        replay = await receive_until(again, lambda ms: ms[-1:] != []
                                     and ms[-1]["type"] == "replay_done")
        assert messages_of(replay) == ["d"]
        await again.close()
