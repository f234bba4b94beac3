"""UI sessions and one-time login tokens in SQLite (table ``ui_sessions``, hashes only).

The table is created with ``IF NOT EXISTS``, so an existing database gains it at its next start.
Every statement is parameterised; the look-ups join ``api_keys`` so the caller sees the bound
key's revocation and expiry.
"""

from __future__ import annotations

import sqlite3

from rundial_collector.store.control_base import ApiKey
from rundial_collector.store.sessions_base import NewUiSession
from rundial_collector.store.sqlite.control import key_columns, key_from_row
from rundial_collector.store.sqlite.engine import SQLiteEngine

SESSION_SCHEMA: list[str] = ["""
CREATE TABLE IF NOT EXISTS ui_sessions (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES api_keys(key_id),
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ui_sessions_by_expiry ON ui_sessions(expires_ms);
"""]

_SELECT_KEY = (f"SELECT {key_columns('k.')} FROM ui_sessions s "
               "JOIN api_keys k ON k.key_id = s.key_id "
               "WHERE s.token_hash = ? AND s.kind = ? AND s.expires_ms > ?")


class SQLiteSessions:
    """The SQLite :class:`SessionStore`; shares ``self.engine`` with the store."""

    engine: SQLiteEngine

    async def create_ui_session(self, session: NewUiSession) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM ui_sessions WHERE expires_ms <= ?", (session.created_ms,))
            conn.execute("INSERT INTO ui_sessions (token_hash, kind, key_id, created_ms, "
                         "expires_ms) VALUES (?, ?, ?, ?, ?)",
                         (session.token_hash, session.kind, session.key_id, session.created_ms,
                          session.expires_ms))
        await self.engine.write(job)

    async def find_ui_session(self, token_hash: str, now_ms: int) -> ApiKey | None:
        row = await self.engine.read(lambda conn: conn.execute(
            _SELECT_KEY, (token_hash, "session", now_ms)).fetchone())
        return key_from_row(row) if row else None

    async def consume_login_token(self, token_hash: str, now_ms: int) -> ApiKey | None:
        def job(conn: sqlite3.Connection) -> ApiKey | None:
            row = conn.execute(_SELECT_KEY, (token_hash, "once", now_ms)).fetchone()
            conn.execute("DELETE FROM ui_sessions WHERE token_hash = ? AND kind = ?",
                         (token_hash, "once"))
            return key_from_row(row) if row else None
        return await self.engine.write(job)

    async def delete_ui_session(self, token_hash: str) -> None:
        await self.engine.write(lambda conn: conn.execute(
            "DELETE FROM ui_sessions WHERE token_hash = ?", (token_hash,)) and None)
