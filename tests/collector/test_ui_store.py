"""The SQLite session store: expiry, single use, and the migration of an existing database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rundial_collector.config import CollectorConfig
from rundial_collector.store.control_base import NewApiKey
from rundial_collector.store.sessions_base import NewUiSession
from rundial_collector.store.sqlite.store import SQLiteStore


async def _store_with_key(data_dir: Path) -> SQLiteStore:
    store = SQLiteStore(CollectorConfig(data_dir=data_dir))
    await store.start()
    await store.create_api_key(NewApiKey("key_1", "h" * 64, None, None, ("admin",)),
                               exist_ok=True)
    return store


async def test_expired_session_is_not_found(tmp_path: Path) -> None:
    store = await _store_with_key(tmp_path)
    try:
        await store.create_ui_session(NewUiSession("s" * 64, "session", "key_1", 1000, 2000))
        found = await store.find_ui_session("s" * 64, 1999)
        assert found is not None and found.key_id == "key_1"
        assert await store.find_ui_session("s" * 64, 2000) is None
        assert await store.consume_login_token("s" * 64, 1500) is None  # not a login token
    finally:
        await store.close()


async def test_login_token_is_single_use_and_expires(tmp_path: Path) -> None:
    store = await _store_with_key(tmp_path)
    try:
        await store.create_ui_session(NewUiSession("o" * 64, "once", "key_1", 1000, 2000))
        await store.create_ui_session(NewUiSession("x" * 64, "once", "key_1", 1000, 2000))
        assert await store.find_ui_session("o" * 64, 1500) is None  # not a session
        first = await store.consume_login_token("o" * 64, 1500)
        assert first is not None and first.key_id == "key_1"
        assert await store.consume_login_token("o" * 64, 1500) is None
        assert await store.consume_login_token("x" * 64, 2000) is None  # expired
    finally:
        await store.close()


async def test_existing_database_gains_the_sessions_table(tmp_path: Path) -> None:
    """A database made before the UI (no ``ui_sessions`` table) is migrated at start."""
    store = await _store_with_key(tmp_path)
    await store.close()
    db = sqlite3.connect(tmp_path / "rundial.sqlite3")
    db.execute("DROP TABLE ui_sessions")
    db.commit()
    db.close()
    store = await _store_with_key(tmp_path)
    try:
        await store.create_ui_session(NewUiSession("m" * 64, "session", "key_1", 1, 10**15))
        assert await store.find_ui_session("m" * 64, 2) is not None
    finally:
        await store.close()
