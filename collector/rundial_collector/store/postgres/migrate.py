"""Versioned schema migrations for PostgreSQL, applied at start under an advisory lock.

Migrations are the files ``migrations/NNNN_name.sql`` of this package, applied in version
order, each in its own transaction together with its row in ``rundial_schema_migrations``. A
collector takes a session-level advisory lock first, so when several collectors start at once
exactly one applies each migration and the others wait, then find nothing left to do.

A migration file never changes once released: a change to the schema is a new file with the
next version. (Before the first release of the PostgreSQL store, 0001-0005 are still edited.)

Failure behaviour: a migration that fails rolls back alone (the versions before it stay
applied) and :func:`migrate` raises; the collector does not start. A database whose recorded
version is newer than any file here (a newer collector migrated it) raises
:class:`SchemaTooNew` rather than running old code against a schema it does not know.

We wrote this runner (about 100 lines) instead of taking a tool: Alembic needs SQLAlchemy and
a synchronous driver, yoyo and sqitch bring their own drivers or runtimes, and what we need is
small: plain SQL files, ordered, one transaction each, one lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from rundial_collector.store.errors import SchemaTooNew
from rundial_collector.store.postgres.engine import Conn

__all__ = ["LOCK_KEY", "Migration", "SchemaTooNew", "applied_versions", "available",
           "migrate"]

LOCK_KEY = 0x72756E6469616C  # "rundial" as a bigint: the advisory lock every collector takes
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_TABLE = """CREATE TABLE IF NOT EXISTS rundial_schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """Every migration shipped with this package, by version. Duplicate versions are
    rejected; a gap is allowed (a version may be reserved by a change merged separately), and
    :func:`migrate` applies a missing lower version even after higher ones."""
    found: list[Migration] = []
    for entry in resources.files(__package__).joinpath("migrations").iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions) or (versions and versions[0] != 1):
        raise RuntimeError(f"migration versions must be unique, from 1: {versions}")
    return found


async def applied_versions(conn: Conn) -> list[int]:
    """Versions recorded in the database (empty for a fresh one)."""
    await conn.execute(_TABLE)
    rows = await conn.fetch("SELECT version FROM rundial_schema_migrations ORDER BY version")
    return [int(row[0]) for row in rows]


async def migrate(conn: Conn, migrations: list[Migration] | None = None,
                  up_to: int | None = None) -> list[int]:
    """Apply what is missing (up to version ``up_to``, default all); return what was applied.

    Holds the advisory lock :data:`LOCK_KEY` for the whole run, so concurrent callers
    serialise."""
    todo = available() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        done = set(await applied_versions(conn))
        newest = max((m.version for m in todo), default=0)
        if done and max(done) > newest:
            raise SchemaTooNew(f"the database is at schema version {max(done)}; this "
                               f"collector knows versions up to {newest}: upgrade it")
        applied: list[int] = []
        for m in todo:
            if m.version in done or (up_to is not None and m.version > up_to):
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute("INSERT INTO rundial_schema_migrations (version, name) "
                                   "VALUES ($1, $2)", m.version, m.name)
            applied.append(m.version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
