"""Stopping the PostgreSQL commit listener (store/postgres/events_listen.py) whatever its
connection does when cancelled: a fresh-clone ``make test`` once failed a store's teardown with
asyncpg's ``InternalClientError`` ("cannot switch to state 12; another operation (2) is in
progress"), raised by a LISTEN that the stop's cancel cut between its prepare and its execute.
The connection here is a stand-in that reacts to the cancel the way a driver can."""

from __future__ import annotations

import asyncio
import time
import types
from typing import Any

import asyncpg
import pytest

from rundial_collector.store.postgres import events_listen
from rundial_collector.store.postgres.events_listen import CommitListener


class CutConnection:
    """A connection whose LISTEN never completes; on cancel it raises ``raised`` (None: the
    cancel is absorbed ``absorb`` times, then honoured)."""

    def __init__(self, raised: BaseException | None = None, absorb: int = 0) -> None:
        self.raised, self.absorb = raised, absorb
        self.listening = asyncio.Event()
        self.closed = False

    def add_termination_listener(self, _callback: object) -> None:
        pass

    async def add_listener(self, _channel: str, _callback: object) -> None:
        self.listening.set()
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if self.raised is not None:
                    raise self.raised from None
                if self.absorb <= 0:
                    raise
                self.absorb -= 1

    def is_closed(self) -> bool:
        return self.closed

    async def close(self) -> None:
        self.closed = True

    def terminate(self) -> None:
        self.closed = True


async def listening_on(conn: CutConnection) -> CommitListener:
    settings: Any = types.SimpleNamespace(url="postgresql://h/db", connect_timeout_seconds=30.0,
                                          ssl=None)
    listener = CommitListener(settings)

    async def connect() -> Any:
        return conn

    listener._connect = connect  # type: ignore[method-assign]
    listener.start()
    await asyncio.wait_for(conn.listening.wait(), 5)
    return listener


async def test_stop_returns_when_the_cancelled_listen_raises_the_drivers_error() -> None:
    conn = CutConnection(raised=asyncpg.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"))
    listener = await listening_on(conn)
    await asyncio.wait_for(listener.stop(), 5)
    assert conn.closed


async def test_stop_returns_when_the_driver_absorbs_a_cancel(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first cancel is absorbed: stop cancels again (here after 0.05 s) rather than wait
    for ever. (A bound from outside would end it too, by cancelling stop itself, which the
    old stop swallowed: so the test bounds how long stop took, at 40 times the retry.)"""
    monkeypatch.setattr(events_listen, "STOP_RECANCEL_SECONDS", 0.05)
    conn = CutConnection(absorb=1)
    listener = await listening_on(conn)
    started = time.monotonic()
    await asyncio.wait_for(listener.stop(), 10)
    assert time.monotonic() - started < 2.0
    assert conn.closed
