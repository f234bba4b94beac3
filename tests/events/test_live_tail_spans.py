"""Live stream extensions for the web UI: ``cursor=tail`` (no replay) and ``spans`` messages
with their own cursor component; two-part cursors of earlier collectors stay valid."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.events.streaming import (call, closed, connect, finish, messages_of, of_type,
                                    post_lines, post_points, receive_until, replayed,
                                    seeded_run, start_run, steps_of)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def _span(pid: str, rid: str, span: str, name: str, end: int | None) -> dict[str, Any]:
    return {"projectId": pid, "runId": rid, "traceId": "a" * 32, "spanId": span,
            "parentSpanId": None, "name": name, "kind": "internal", "startNs": "1000",
            "endNs": None if end is None else str(end), "status": "unset" if end is None
            else "ok", "attrsJson": '{"k": 1}', "events": []}


async def _post_spans(session: aiohttp.ClientSession, proc: CollectorProcess,
                      spans: list[dict[str, Any]]) -> None:
    status, reply = await call(session, proc, "POST", "/ingest/traces", {"spans": spans})
    assert status == 202 and reply["accepted"] == len(spans), reply


def _span_names(messages: list[dict[str, Any]]) -> list[str]:
    return [s["name"] for m in of_type(messages, "spans") for s in m["spans"]]


def _cursor_parts(cursor: str) -> list[int]:
    decoded: list[int] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return decoded


def _two_part(cursor: str) -> str:
    """The same position as an earlier collector (no span component) would have issued it."""
    parts = _cursor_parts(cursor)[:2]
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


async def test_tail_cursor_skips_the_replay(shared_collector: CollectorProcess,
                                            session: aiohttp.ClientSession) -> None:
    """``cursor=tail``: state and replay_done at once (no stored rows), then live rows once."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "loss", range(50), ["stored line"])
    await _post_spans(session, proc, [_span(pid, rid, "1" * 16, "stored span", 2000)])
    ws = await connect(session, proc, rid, cursor="tail")
    first = await receive_until(ws, replayed)
    assert [m["type"] for m in first] == ["state", "replay_done"]
    assert first[0]["status"] == "running"
    head = first[-1]["cursor"]
    assert len(_cursor_parts(head)) == 3 and all(p > 0 for p in _cursor_parts(head))
    await post_points(session, proc, pid, rid, "loss", range(50, 53))
    await post_lines(session, proc, pid, rid, ["live line"], ts=9_000, first_sequence=99)
    live = await receive_until(ws, lambda ms: steps_of(ms, "loss")[-1:] == [52]
                               and "live line" in messages_of(ms))
    assert steps_of(live, "loss") == [50, 51, 52]
    assert messages_of(live) == ["live line"]
    await ws.close()


async def test_spans_stream_live_and_replay(shared_collector: CollectorProcess,
                                            session: aiohttp.ClientSession) -> None:
    """Spans are replayed after the logs and then streamed live, open ones with endNs null;
    each message's cursor covers the spans it carried."""
    proc = shared_collector
    pid, rid = await start_run(session, proc)
    await _post_spans(session, proc, [_span(pid, rid, "1" * 16, "stored", 2000)])
    ws = await connect(session, proc, rid)
    replay = await receive_until(ws, replayed)
    assert _span_names(replay) == ["stored"]
    assert all(m["replay"] for m in of_type(replay, "spans"))
    await _post_spans(session, proc, [_span(pid, rid, "2" * 16, "open", None)])
    live = await receive_until(ws, lambda ms: _span_names(ms) == ["open"])
    message = of_type(live, "spans")[0]
    span = message["spans"][0]
    assert span["endNs"] is None and span["startNs"] == "1000" and span["spanId"] == "2" * 16
    assert "children" not in span and message["replay"] is False
    await ws.close()
    # Resuming from that message's cursor replays nothing already seen.
    again = await connect(session, proc, rid, cursor=message["cursor"])
    assert _span_names(await receive_until(again, replayed)) == []
    await again.close()


async def test_two_part_cursor_still_accepted(shared_collector: CollectorProcess,
                                              session: aiohttp.ClientSession) -> None:
    """A cursor of an earlier collector ([chunk, log]) resumes metrics and logs after it and
    replays the spans (none was delivered under it)."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "acc", range(3), ["old line"])
    await _post_spans(session, proc, [_span(pid, rid, "3" * 16, "old span", 2000)])
    ws = await connect(session, proc, rid)
    cursor = (await receive_until(ws, replayed))[-1]["cursor"]
    await ws.close()
    await post_points(session, proc, pid, rid, "acc", range(3, 5))
    again = await connect(session, proc, rid, cursor=_two_part(cursor))
    replay = await receive_until(again, replayed)
    assert steps_of(replay, "acc") == [3, 4]
    assert messages_of(replay) == []
    assert _span_names(replay) == ["old span"]
    await again.close()


async def test_rc1_message_shapes_unchanged(shared_collector: CollectorProcess,
                                            session: aiohttp.ClientSession) -> None:
    """metrics, logs, state and replay_done keep exactly the fields rc1 clients read."""
    proc = shared_collector
    pid, rid = await seeded_run(session, proc, "m", range(2), ["a line"])
    ws = await connect(session, proc, rid)
    replay = await receive_until(ws, replayed)
    await finish(session, proc, rid)
    replay += await closed(ws)
    base = {"type", "runId", "cursor"}
    shapes = {m["type"]: set(m) for m in replay}
    assert shapes["metrics"] == base | {"replay", "series"}
    assert set(of_type(replay, "metrics")[0]["series"][0]) == {
        "metricKey", "rank", "steps", "timestampsMs", "values"}
    assert shapes["logs"] == base | {"replay", "lines"}
    assert set(of_type(replay, "logs")[0]["lines"][0]) == {
        "timestampMs", "sequence", "level", "message", "truncated"}
    assert shapes["state"] == base | {"replay", "status", "reason", "finishedAtMs",
                                      "updatedAtMs", "lastHeartbeatMs"}
    assert shapes["replay_done"] == base
    assert [m["status"] for m in of_type(replay, "state")] == ["running", "completed"]
    assert ws.close_code == 1000


@pytest.mark.parametrize("cursor", ["tails", "W10", "WzEsMiwzLDRd", "WzEsLTEsMl0"])
async def test_bad_cursors_still_refused(shared_collector: CollectorProcess,
                                         session: aiohttp.ClientSession, cursor: str) -> None:
    """Anything but ``tail`` or a 2/3-part cursor of non-negative ids closes with 4400."""
    proc = shared_collector
    _pid, rid = await start_run(session, proc)
    ws = await connect(session, proc, rid, cursor=cursor)
    await closed(ws)
    assert ws.close_code == 4400


async def test_quiet_socket_gets_keepalives(quick_poll: CollectorProcess,
                                            session: aiohttp.ClientSession) -> None:
    """A live socket with nothing to send gets ``keepalive`` frames (no cursor, the interval)
    and still delivers the next rows once, with the cursor moving on."""
    proc = quick_poll
    pid, rid = await start_run(session, proc)
    ws = await connect(session, proc, rid, cursor="tail")
    await receive_until(ws, replayed)
    quiet = await receive_until(ws, lambda ms: len(of_type(ms, "keepalive")) >= 2)
    assert [m["type"] for m in quiet] == ["keepalive", "keepalive"]
    assert quiet[0] == {"type": "keepalive", "runId": rid, "intervalMs": 1000}
    await post_points(session, proc, pid, rid, "q", range(3))
    live = await receive_until(ws, lambda ms: steps_of(ms, "q") == [0, 1, 2])
    assert len(of_type(live, "metrics")) == 1
    await ws.close()
