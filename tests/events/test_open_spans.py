"""Open spans (``endNs`` null) superseded by their closed copy (docs/protocol.md §6.5): in the
store, in ``query/spans`` and on the live stream, which re-delivers the closed copy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.events.streaming import call, connect, of_type, receive_until, replayed, start_run
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores

SPAN_ID = "5" * 16


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _span(pid: str, rid: str, end: int | None, name: str = "long",
          span_id: str = SPAN_ID) -> dict[str, Any]:
    return {"projectId": pid, "runId": rid, "traceId": "c" * 32, "spanId": span_id,
            "parentSpanId": None, "name": name, "kind": "internal", "startNs": "1000",
            "endNs": None if end is None else str(end),
            "status": "unset" if end is None else "ok", "attrsJson": "{}", "events": []}


async def _post(session: aiohttp.ClientSession, proc: CollectorProcess,
                spans: list[dict[str, Any]]) -> None:
    status, reply = await call(session, proc, "POST", "/ingest/traces", {"spans": spans})
    assert status == 202 and reply["accepted"] == len(spans), reply


async def _stored(session: aiohttp.ClientSession, proc: CollectorProcess, pid: str,
                  rid: str) -> list[tuple[str, Any, str]]:
    """(name, endNs, status) of every stored span of the run (roots; these have no children)."""
    status, reply = await call(session, proc, "POST", "/query/spans",
                               {"projectId": pid, "runId": rid})
    assert status == 200, reply
    assert reply["spanCount"] == len(reply["spans"])
    return [(s["name"], s["endNs"], s["status"]) for s in reply["spans"]]


async def test_a_closed_copy_replaces_a_stored_open_copy(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    await _post(session, proc, [_span(pid, rid, None)])
    assert await _stored(session, proc, pid, rid) == [("long", None, "unset")]
    await _post(session, proc, [_span(pid, rid, 5000, name="long done")])
    assert await _stored(session, proc, pid, rid) == [("long done", "5000", "ok")]


async def test_a_late_open_copy_never_replaces_a_closed_one(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    await _post(session, proc, [_span(pid, rid, 5000)])
    await _post(session, proc, [_span(pid, rid, None, name="late open")])
    assert await _stored(session, proc, pid, rid) == [("long", "5000", "ok")]
    # the same within one body: closed wins whatever the order
    pid, rid = await start_run(session, proc)
    await _post(session, proc, [_span(pid, rid, None, name="open"), _span(pid, rid, 7000)])
    assert await _stored(session, proc, pid, rid) == [("long", "7000", "ok")]


async def test_identical_resends_change_nothing(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    """Re-sending the open copy, then the closed copy twice: one span, and the stream's
    position does not move on the repeat of the closed copy."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    for span in (_span(pid, rid, None), _span(pid, rid, None)):
        await _post(session, proc, [span])
    assert await _stored(session, proc, pid, rid) == [("long", None, "unset")]
    await _post(session, proc, [_span(pid, rid, 5000)])
    ws = await connect(session, proc, rid, cursor="tail")
    head = (await receive_until(ws, replayed))[-1]["cursor"]
    await ws.close()
    await _post(session, proc, [_span(pid, rid, 5000, name="changed resend")])
    ws = await connect(session, proc, rid, cursor="tail")
    assert (await receive_until(ws, replayed))[-1]["cursor"] == head
    await ws.close()
    assert await _stored(session, proc, pid, rid) == [("long", "5000", "ok")]


async def test_the_stream_delivers_the_open_then_the_closed_copy(
        shared_collector: CollectorProcess, session: aiohttp.ClientSession) -> None:
    """Live: the open copy, then the closed copy (a new row); a later replay sends one copy."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    ws = await connect(session, proc, rid, cursor="tail")
    await receive_until(ws, replayed)
    await _post(session, proc, [_span(pid, rid, None)])

    def ends(messages: list[dict[str, Any]]) -> list[Any]:
        return [s["endNs"] for m in of_type(messages, "spans") for s in m["spans"]]

    assert ends(await receive_until(ws, lambda ms: bool(ends(ms)))) == [None]
    await _post(session, proc, [_span(pid, rid, 5000)])
    assert ends(await receive_until(ws, lambda ms: bool(ends(ms)))) == ["5000"]
    await ws.close()
    ws = await connect(session, proc, rid)
    assert ends(await receive_until(ws, replayed)) == ["5000"]
    await ws.close()
