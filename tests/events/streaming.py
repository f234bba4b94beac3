"""Async helpers for the live-event tests: runs, ingest and the WebSocket stream over real HTTP.

Everything talks to a real collector subprocess through ``aiohttp`` (no mocks). Waiting is
always on a condition with a deadline (:func:`receive_until`), never a bare sleep.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.helpers.collector_proc import CollectorProcess

V1 = "/api/v1"
TERMINAL_WS = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
               aiohttp.WSMsgType.ERROR)


async def call(session: aiohttp.ClientSession, proc: CollectorProcess, method: str, path: str,
               body: Any = None, key: str | None = "admin") -> tuple[int, Any]:
    """One JSON request (``key="admin"``: the bootstrap key); returns (status, JSON body)."""
    headers = {} if key is None else {
        "Authorization": f"Bearer {proc.api_key if key == 'admin' else key}"}
    async with session.request(method, proc.url + V1 + path, json=body,
                               headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def start_run(session: aiohttp.ClientSession, proc: CollectorProcess,
                    project: str | None = None) -> tuple[str, str]:
    """Start a fresh agent run; returns (project id, run id)."""
    status, run = await call(session, proc, "POST", "/runs/start", {
        "projectId": project or proc.project, "runName": "events", "kind": "agent",
        "resume": "never", "client": {"name": "t", "version": "0"}})
    assert status == 201, run
    return run["projectId"], run["runId"]


async def seeded_run(session: aiohttp.ClientSession, proc: CollectorProcess, key: str,
                     steps: range, lines: list[str]) -> tuple[str, str]:
    """A fresh run with ``key`` logged at ``steps`` and one log line per entry of ``lines``."""
    pid, rid = await start_run(session, proc)
    if steps:
        await post_points(session, proc, pid, rid, key, steps)
    if lines:
        await post_lines(session, proc, pid, rid, lines)
    return pid, rid


async def post_points(session: aiohttp.ClientSession, proc: CollectorProcess, pid: str,
                      rid: str, key: str, steps: range, ts: int = 1_000) -> None:
    """Ingest ``value = step / 2`` for every step (202 expected)."""
    points = [{"projectId": pid, "runId": rid, "metricKey": key, "step": step,
               "timestampMs": ts + step, "value": step / 2} for step in steps]
    status, reply = await call(session, proc, "POST", "/ingest/metrics", {"points": points})
    assert status == 202 and reply["accepted"] == len(points), reply


async def post_lines(session: aiohttp.ClientSession, proc: CollectorProcess, pid: str,
                     rid: str, messages: list[str], ts: int = 2_000, level: str = "info",
                     first_sequence: int = 1) -> None:
    """Ingest one log line per message, timestamps and sequences counting up."""
    lines = [{"projectId": pid, "runId": rid, "timestampMs": ts + i,
              "sequence": first_sequence + i, "level": level, "message": message,
              "truncated": False} for i, message in enumerate(messages)]
    status, reply = await call(session, proc, "POST", "/ingest/logs", {"lines": lines})
    assert status == 202 and reply["accepted"] == len(lines), reply


async def finish(session: aiohttp.ClientSession, proc: CollectorProcess, rid: str,
                 status: str = "completed") -> None:
    code, reply = await call(session, proc, "POST", f"/runs/{rid}/status", {"status": status})
    assert code == 200, reply


async def connect(session: aiohttp.ClientSession, proc: CollectorProcess, rid: str,
                  header_key: str | None = "admin", **params: str
                  ) -> aiohttp.ClientWebSocketResponse:
    """Open the run's event stream (``header_key`` None: no Authorization header)."""
    headers = {} if header_key is None else {
        "Authorization": f"Bearer {proc.api_key if header_key == 'admin' else header_key}"}
    return await session.ws_connect(f"{proc.url}{V1}/runs/{rid}/events/ws", params=params,
                                    headers=headers, autoping=True)


async def receive_until(ws: aiohttp.ClientWebSocketResponse,
                        done: Callable[[list[dict[str, Any]]], bool],
                        timeout: float = 10.0) -> list[dict[str, Any]]:
    """Collect JSON messages until ``done(messages)`` holds or the socket closes."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(messages):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out; got {[m['type'] for m in messages]}")
        msg = await ws.receive(timeout=remaining)
        if msg.type in TERMINAL_WS:
            break
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        messages.append(json.loads(msg.data))
    return messages


async def closed(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10.0
                 ) -> list[dict[str, Any]]:
    """Every message until the server closes the socket (then ``ws.close_code`` is set)."""
    return await receive_until(ws, lambda _: False, timeout)


def replayed(messages: list[dict[str, Any]]) -> bool:
    """True once ``replay_done`` is among ``messages`` (for :func:`receive_until`)."""
    return any(m["type"] == "replay_done" for m in messages)


def of_type(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == kind]


def steps_of(messages: list[dict[str, Any]], key: str) -> list[int]:
    """Every step delivered for ``key``, in delivery order."""
    return [step for m in of_type(messages, "metrics") for s in m["series"]
            if s["metricKey"] == key for step in s["steps"]]


def messages_of(messages: list[dict[str, Any]]) -> list[str]:
    """Every log message delivered, in delivery order."""
    return [line["message"] for m in of_type(messages, "logs") for line in m["lines"]]
