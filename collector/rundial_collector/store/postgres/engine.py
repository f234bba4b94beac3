"""PostgreSQL engine: an asyncpg pool, transactions, bounded waiting, errors mapped to the store's.

Contract:

* :meth:`PgEngine.write` runs ``fn(conn)`` inside one transaction (READ COMMITTED) and resumes
  after its COMMIT: a 2xx built on the result is durable. A serialization failure or deadlock
  is retried (at most :data:`CONFLICT_RETRIES` times, the whole ``fn`` again), so ``fn`` must
  only touch the database.
* At most ``max_waiting_jobs`` calls wait for a connection at once; one more raises
  :class:`WriteQueueFull` at once (the HTTP layer answers 429 with ``Retry-After``): a pool that
  is saturated never queues without bound.
* A database that cannot be reached, restarts, refuses connections or times a statement out
  raises :class:`StoreUnavailable` (503 with ``Retry-After``); the transaction was rolled back,
  so nothing of the call was committed. The pool reconnects by itself when the server is back.
* A text parameter PostgreSQL cannot hold (a NUL character) raises :class:`StoreInvalidText`
  (400); the transaction was rolled back.
* :meth:`write_statement` runs ``fn(conn)`` on a pooled connection outside any explicit
  transaction: ``fn`` must run exactly one statement, which PostgreSQL then commits on its own
  (atomic: all of it or nothing), saving the ``BEGIN`` and ``COMMIT`` round trips. Retries and
  errors as for :meth:`write`.
* :meth:`read` runs ``fn(conn)`` on a pooled connection in a read-only REPEATABLE READ
  transaction: every statement of ``fn`` sees one snapshot, as SQLite's reader transaction
  gives (READ COMMITTED would let a read of several statements mix two commits).
* :meth:`close` stops accepting calls, waits for the ones running, then closes the pool.
* A connection goes back to the pool without asyncpg's default session reset (``RESET ALL``,
  ``UNLISTEN *``, ``pg_advisory_unlock_all()``..., one more round trip per call): the store
  keeps no session state on pooled connections (``SET LOCAL`` and transaction-level advisory
  locks end with the transaction; LISTEN and the GC's session lock use connections of their
  own; migrate unlocks its session lock itself). An open transaction is still rolled back.

Statement timeout, pool size, TLS and connect timeout come from :class:`CollectorConfig`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from rundial_collector.store.errors import (EngineClosed, StoreInvalidText, StoreUnavailable,
                                            WriteQueueFull)

__all__ = ["Conn", "PgEngine", "PgSettings", "redacted_url"]

T = TypeVar("T")
# What store functions receive: a pooled connection (or a plain one in tools and tests).
Conn: TypeAlias = "PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record]"
log = logging.getLogger("rundial.collector")

_Isolation: TypeAlias = Literal["repeatable_read", "read_committed"]
CONFLICT_RETRIES = 5
_SECRET_PARAMS = frozenset({"password", "sslpassword"})
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

# What "the database went away" looks like through asyncpg: a closed or refused socket, the
# server shutting down or starting (class 57P), connection errors (class 08), too many clients,
# a statement timeout (57014) and a pool whose connection died mid-call.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.QueryCanceledError,
    asyncpg.TooManyConnectionsError, asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError)
_CONFLICT: tuple[type[BaseException], ...] = (asyncpg.SerializationError,
                                              asyncpg.DeadlockDetectedError)
# A parameter PostgreSQL text cannot represent (a NUL character): bad input, not a 500.
_BAD_TEXT: tuple[type[BaseException], ...] = (asyncpg.CharacterNotInRepertoireError,
                                              asyncpg.UntranslatableCharacterError)


@dataclass(frozen=True)
class PgSettings:
    """How to reach the database. ``ssl``: "" keeps the URL's ``sslmode``, else one of
    :data:`SSL_MODES`."""

    url: str
    pool_min_size: int = 1
    pool_max_size: int = 10
    statement_timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 10.0
    ssl: str = ""
    max_waiting_jobs: int = 256

    def __post_init__(self) -> None:
        if not self.url.startswith(("postgresql://", "postgres://")):
            raise ValueError("the database URL must start with postgresql:// "
                             f"(got {redacted_url(self.url)!r})")
        if self.ssl and self.ssl not in SSL_MODES:
            raise ValueError(f"database_ssl must be one of {', '.join(SSL_MODES)}, "
                             f"got {self.ssl!r}")
        if not 1 <= self.pool_min_size <= self.pool_max_size:
            raise ValueError("need 1 <= database_pool_min_size <= database_pool_max_size")


def redacted_url(url: str) -> str:
    """``url`` with every password replaced by ``***``, for logs and error messages: the one
    in the user info and the ``password``/``sslpassword`` query parameters (libpq and asyncpg
    read both). A URL that cannot be parsed shows only its scheme. Never raises."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{scheme}://***"
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    query = "&".join(_redacted_param(p) for p in parts.query.split("&")) if parts.query else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{hosts}", query=query))


def _redacted_param(param: str) -> str:
    name, eq, _ = param.partition("=")
    return f"{name}=***" if eq and unquote(name).lower() in _SECRET_PARAMS else param


class PgEngine:
    """Owns the asyncpg pool. Create, then ``await start()`` (connects and migrates)."""

    def __init__(self, settings: PgSettings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self._slots = asyncio.Semaphore(settings.pool_max_size + settings.max_waiting_jobs)
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the pool. Raises :class:`StoreUnavailable` when the server cannot be reached
        within the connect timeout."""
        s = self.settings
        timeout_ms = str(int(s.statement_timeout_seconds * 1000))
        try:
            self._pool = await asyncpg.create_pool(
                s.url, min_size=s.pool_min_size, max_size=s.pool_max_size,
                timeout=s.connect_timeout_seconds, command_timeout=None, ssl=_ssl_arg(s.ssl),
                reset=_keep_session,
                server_settings={"statement_timeout": timeout_ms,
                                 # a transaction left open (a stuck collector) would hold back
                                 # every run's live stream (positions wait for the oldest
                                 # writing transaction): the server ends it instead
                                 "idle_in_transaction_session_timeout": timeout_ms,
                                 "application_name": "rundial-collector"})
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"cannot connect to {redacted_url(s.url)}: {exc}") from None

    async def close(self) -> None:
        """Refuse new calls, let running ones finish, close every connection."""
        if self._closing:
            return
        self._closing = True
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), timeout=10.0)
            except _UNAVAILABLE:
                self._pool.terminate()

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "engine not started"
        return self._pool

    # -- calls -----------------------------------------------------------------------------
    async def write(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """Run ``fn`` in one transaction; resume after COMMIT (see the module contract)."""
        return await self._call(fn, readonly=False)

    async def write_statement(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """Run ``fn``, one statement, in its own implicit transaction (see the contract)."""
        return await self._call(fn, readonly=False, transaction=False)

    async def read(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """Run ``fn`` in a read-only transaction (one snapshot)."""
        return await self._call(fn, readonly=True)

    async def _call(self, fn: Callable[[Conn], Awaitable[T]], *, readonly: bool,
                    transaction: bool = True) -> T:
        if self._closing:
            raise EngineClosed("the collector is shutting down")
        if self._slots.locked():
            raise WriteQueueFull()
        async with self._slots:
            for attempt in range(CONFLICT_RETRIES + 1):
                try:
                    return await self._once(fn, readonly, transaction)
                except _CONFLICT:
                    if attempt == CONFLICT_RETRIES:
                        raise
                    await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _once(self, fn: Callable[[Conn], Awaitable[T]], readonly: bool,
                    transaction: bool) -> T:
        try:
            async with self.pool.acquire(timeout=self.settings.connect_timeout_seconds) as conn:
                if not transaction:
                    return await fn(conn)
                isolation: _Isolation = "repeatable_read" if readonly else "read_committed"
                async with conn.transaction(isolation=isolation, readonly=readonly):
                    return await fn(conn)
        except _CONFLICT:
            raise
        except _BAD_TEXT:
            raise StoreInvalidText("text values must not contain NUL (U+0000) characters"
                                   ) from None
        except asyncpg.InterfaceError as exc:
            if "pool is closing" in str(exc) or "pool is closed" in str(exc):
                raise EngineClosed("the collector is shutting down") from None
            raise StoreUnavailable(str(exc)) from None
        except _UNAVAILABLE as exc:
            log.warning("database unavailable: %s", type(exc).__name__)
            raise StoreUnavailable(type(exc).__name__) from None


async def _keep_session(_conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """The pool's reset hook: nothing beyond asyncpg's rollback (see the module contract)."""


def _ssl_arg(mode: str) -> Any:
    """asyncpg's ``ssl`` argument: None leaves the URL's ``sslmode`` in charge."""
    if not mode:
        return None
    if mode == "disable":
        return False
    if mode == "verify-full":
        return ssl_module.create_default_context()
    return mode
