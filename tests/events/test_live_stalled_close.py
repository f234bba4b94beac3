"""The per-run live socket while its sends wait on a client that reads slowly or not at all.

Before the fix, ending the inbox (a revoked key, a slow consumer, shutdown) cancelled the
delivery inside aiohttp's drain, which cancelled the waiter the connection's later writes
share: the close frame's drain then failed at once, the close grace never ran and a client that
never reads kept its connection (and the megabytes queued for it) for ever. A client that sent
its close frame but never read was kept for ever too. A run that ends while frames wait to be
sent must still get them, and its end, to a client that reads late.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.events.rawws import SlowSocket
from tests.events.streaming import call, finish, post_lines, start_run
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until

GRACE_SECONDS = 1.0
LINE_CHARS = 60 * 1024
LINES_PER_REQUEST = 16  # ~1 MiB per request
REQUESTS = 7  # ~7 MiB: more than the socket buffers take, less than the 8 MiB inbox
STALLED_BYTES = 1024 * 1024  # the collector's end holds this much unsent: its sends wait
ESTABLISHED = "01"


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    """A collector giving a stuck client :data:`GRACE_SECONDS` to take a close frame."""
    proc = CollectorProcess(tmp_path / "data", extra_env={
        "RUNDIAL_COLLECTOR_EVENTS_CLOSE_GRACE_SECONDS": str(GRACE_SECONDS)})
    proc.start()
    yield proc
    proc.stop()


async def _stall(session: aiohttp.ClientSession, proc: CollectorProcess, key: str
                 ) -> tuple[str, str, SlowSocket, list[str]]:
    """A run whose stream goes to a client that reads nothing, with ~7 MiB of lines logged:
    returns once the collector's end of the socket is backed up (its delivery waits to send)."""
    pid, rid = await start_run(session, proc)
    slow = SlowSocket(proc.port, f"/api/v1/runs/{rid}/events/ws", key)
    lines = [f"{i:04d}" + "x" * LINE_CHARS for i in range(REQUESTS * LINES_PER_REQUEST)]
    for first in range(0, len(lines), LINES_PER_REQUEST):
        await post_lines(session, proc, pid, rid, lines[first:first + LINES_PER_REQUEST],
                         first_sequence=first + 1)
    await asyncio.to_thread(wait_until, _backed_up(slow), 30.0, 0.2, "the socket to back up")
    return pid, rid, slow, lines


def _backed_up(slow: SlowSocket) -> Callable[[], bool]:
    """A probe: True once the collector's end holds over :data:`STALLED_BYTES` unsent and that
    stopped growing between two calls (the kernel takes no more: aiohttp's writes wait)."""
    seen = [-1]

    def probe() -> bool:
        queued = (slow.server_side() or ("", 0))[1]
        steady, seen[0] = queued == seen[0], queued
        return steady and queued > STALLED_BYTES

    return probe


def _released(slow: SlowSocket) -> bool:
    side = slow.server_side()
    return side is None or side[0] != ESTABLISHED


@pytest.mark.serial
async def test_a_revoked_stream_that_is_never_read_is_released_after_the_grace(
        collector: CollectorProcess) -> None:
    """The key is revoked while the delivery waits to send: the collector lets go of the
    connection once the close grace has passed (before the fix: never)."""
    async with aiohttp.ClientSession() as session:
        path = f"/workspaces/{collector.workspace}/projects/{collector.project}/api-keys"
        status, key = await call(session, collector, "POST", path, {"scopes": ["stream:read"]})
        assert status == 201, key
        _, _, slow, _ = await _stall(session, collector, key["apiKey"])
        status, _ = await call(session, collector, "POST", f"{path}/{key['keyId']}/revoke", {})
        assert status == 200
        await asyncio.to_thread(wait_until, lambda: _released(slow), GRACE_SECONDS + 15, 0.05,
                                "the collector to release the connection")
        slow.close()


@pytest.mark.serial
async def test_a_client_that_closes_without_reading_is_released(
        collector: CollectorProcess) -> None:
    """A client sends its close frame but never reads what is queued for it: the collector
    drops the unsent frames and the connection at once (before the fix: never)."""
    async with aiohttp.ClientSession() as session:
        _, _, slow, _ = await _stall(session, collector, collector.api_key)
        slow.send_close()
        await asyncio.to_thread(wait_until, lambda: _released(slow), 15.0, 0.05,
                                "the collector to release the connection")
        slow.close()


@pytest.mark.serial
async def test_a_run_ending_while_frames_wait_to_send_still_delivers_them(
        collector: CollectorProcess) -> None:
    """The run finishes while its stream is backed up: a client that reads late still gets
    every line, the final state and the 1000 "run finished" close."""
    async with aiohttp.ClientSession() as session:
        _, rid, slow, lines = await _stall(session, collector, collector.api_key)
        await finish(session, collector, rid)
        texts, closing = await asyncio.to_thread(slow.read_texts_to_close)
        slow.close()
    frames = [json.loads(text) for text in texts]
    assert [line["message"] for f in frames if f["type"] == "logs" for line in f["lines"]
            ] == lines
    assert frames[-1]["type"] == "state" and frames[-1]["status"] == "completed"
    assert (closing.code, closing.reason) == (1000, "run finished")
