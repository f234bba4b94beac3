"""UI sessions and one-time login tokens in SQLite (table ``ui_sessions``, hashes only).

The table is created with ``IF NOT EXISTS``, so an existing database gains it at its next start.
Every statement is parameterised; the look-ups join ``api_keys`` so the caller sees the bound
key's revocation and expiry.
"""

from __future__ import annotations

import sqlite3

from rundial_collector.store.control_base import ApiKey
from rundial_collector.store.control_rows import key_from_row
from rundial_collector.store.control_sql import (DELETE_EXPIRED_SESSIONS, DELETE_SESSION,
                                                 INSERT_SESSION, SESSION_KEY)
from rundial_collector.store.sessions_base import NewUiSession
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


class SQLiteSessions:
    """The SQLite :class:`SessionStore`; shares ``self.engine`` with the store."""

    engine: SQLiteEngine

    async def create_ui_session(self, session: NewUiSession) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(DELETE_EXPIRED_SESSIONS, (session.created_ms,))
            conn.execute(INSERT_SESSION,
                         (session.token_hash, session.kind, session.key_id, session.created_ms,
                          session.expires_ms))
        await self.engine.write(job)

    async def find_ui_session(self, token_hash: str, now_ms: int) -> ApiKey | None:
        row = await self.engine.read(lambda conn: conn.execute(
            SESSION_KEY, (token_hash, "session", now_ms)).fetchone())
        return key_from_row(row) if row else None

    async def consume_login_token(self, token_hash: str, now_ms: int) -> ApiKey | None:
        def job(conn: sqlite3.Connection) -> ApiKey | None:
            row = conn.execute(SESSION_KEY, (token_hash, "once", now_ms)).fetchone()
            conn.execute("DELETE FROM ui_sessions WHERE token_hash = ? AND kind = ?",
                         (token_hash, "once"))
            return key_from_row(row) if row else None
        return await self.engine.write(job)

    async def delete_ui_session(self, token_hash: str) -> None:
        await self.engine.write(lambda conn: conn.execute(DELETE_SESSION, (token_hash,)) and None)
