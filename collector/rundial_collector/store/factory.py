"""Pick the store a collector runs on: PostgreSQL when ``database_url`` is set, else SQLite.

The PostgreSQL package (and asyncpg) is imported only when selected, so the embedded default
never loads it.
"""

from __future__ import annotations

from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store


def open_store(config: CollectorConfig) -> Store:
    """A new, not yet started store for ``config`` (``await store.start()`` connects)."""
    if config.database_url:
        from rundial_collector.store.postgres.store import PostgresStore
        return PostgresStore(config)
    from rundial_collector.store.sqlite.store import SQLiteStore
    return SQLiteStore(config)


def check_store_config(config: CollectorConfig) -> None:
    """Raise ValueError (a one-line reason, no password) when the store settings are unusable:
    a database URL that is not ``postgresql://``, an unknown TLS mode, a bad pool size."""
    if config.database_url:
        from rundial_collector.store.postgres.store import settings_of
        settings_of(config)
