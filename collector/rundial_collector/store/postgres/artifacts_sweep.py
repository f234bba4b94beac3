"""One artifact garbage-collection sweeper at a time across the collectors of one database.

Several collectors share the database and the blob directory; two sweeps at once would race
each other deleting the same blobs. :func:`sweep_lock` takes a session-level advisory lock
(``pg_try_advisory_lock``, never waiting) on a connection of its own, opened for the sweep and
closed after it: the pool keeps all its connections for the sweep's own store calls (a pool of
one would otherwise starve), and if the collector dies mid-sweep the server ends the session
and the lock with it, so the next round elsewhere can sweep.

Failure behaviour: a database that cannot be reached raises
:class:`~rundial_collector.store.errors.StoreUnavailable` (the sweep is skipped; the caller
retries next round). If the lock's connection is lost mid-sweep the lock is gone too; the sweep
goes on, since every deletion re-checks the store just before it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from rundial_collector.store.errors import StoreUnavailable
from rundial_collector.store.postgres.engine import PgEngine, _ssl_arg, redacted_url

SWEEP_LOCK_KEY = 0x72756E6469616C + 1  # next to migrate.LOCK_KEY: "rundial" + 1
_LOST = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@contextlib.asynccontextmanager
async def sweep_lock(engine: PgEngine) -> AsyncIterator[bool]:
    """Yield True when this caller holds the sweep lock (released on exit), False when another
    session holds it (this round should be skipped)."""
    s = engine.settings
    try:
        conn = await asyncpg.connect(s.url, timeout=s.connect_timeout_seconds,
                                     ssl=_ssl_arg(s.ssl),
                                     server_settings={"application_name": "rundial-sweep"})
    except _LOST as exc:
        raise StoreUnavailable(f"cannot connect to {redacted_url(s.url)}: "
                               f"{type(exc).__name__}") from None
    try:
        try:
            held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", SWEEP_LOCK_KEY))
        except _LOST as exc:
            raise StoreUnavailable(f"sweep lock: {type(exc).__name__}") from None
        try:
            yield held
        finally:
            if held:  # released now, not whenever the server notices the session ended
                with contextlib.suppress(*_LOST):
                    await conn.execute("SELECT pg_advisory_unlock($1)", SWEEP_LOCK_KEY)
    finally:
        with contextlib.suppress(*_LOST):
            await conn.close(timeout=s.connect_timeout_seconds)
