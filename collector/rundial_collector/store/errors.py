"""Backend-neutral store errors: every backend raises these, and handlers map them to HTTP.

``WriteQueueFull`` means the backend's bounded write queue (or connection pool) is saturated:
the handler answers 429 with ``Retry-After`` and nothing was written. ``EngineClosed`` means the
store is shutting down: the handler answers 503 and nothing was written.
``StoreUnavailable`` means the database cannot be reached (PostgreSQL down, restarting, or a
statement timed out): the handler answers 503 with ``Retry-After``; a write that raised it was
rolled back, so the client's retry (same idempotency key) stores it exactly once.
``StoreInvalidText`` means the database cannot hold or compare a text value of the request
(PostgreSQL text never contains NUL, U+0000): the handler answers 400 and nothing was written.
A PostgreSQL read naming a text that holds NUL (:func:`has_nul`) finds nothing without asking
the database: no stored id, key or name holds one, so it answers as SQLite does (not found,
empty).
"""

from __future__ import annotations


class WriteQueueFull(Exception):
    """The bounded write queue is full; the caller should answer 429/503 with Retry-After."""


class EngineClosed(Exception):
    """The store is closing or closed and accepts no more writes."""


class StoreUnavailable(Exception):
    """The database is unreachable or timed out; nothing of this call was committed."""


class StoreInvalidText(ValueError):
    """A text value the database cannot hold (a NUL character on PostgreSQL); nothing of this
    call was committed."""


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer collector than this one (the collector does not
    start rather than run old code against a schema it does not know)."""


def has_nul(*texts: str | None) -> bool:
    """Whether any of ``texts`` holds NUL: such a text names nothing stored (PostgreSQL text
    cannot hold NUL and no write accepts one), so a read naming it finds nothing."""
    return any(text is not None and "\x00" in text for text in texts)
