"""Where the ingest and query benchmarks send their load, for ``--database-url``.

* ``sqlite``: one collector on SQLite (the embedded default);
* ``postgres``: one collector on the PostgreSQL database;
* ``nginx``: two collectors on that database (one shared data directory) behind a real nginx
  (``tests/helpers/cluster.py``), the issue-16 topology.

``--database-url auto`` starts a throwaway PostgreSQL 15 cluster for the run (fsync ON: the
figures include durable commits, like a real deployment; the deployment's server settings of
``rundial_collector/store/postgres/server_settings.py``) and deletes it afterwards; any other
value is used as given (each benchmark round writes its own run ids, so an existing database
is fine).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rundial_collector.store.postgres.server_settings import server_options
from tests.helpers.cluster import CollectorPair
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.postgres import PgCluster

TARGETS = ("sqlite", "postgres", "nginx")
QUIET = {"RUNDIAL_COLLECTOR_ACCESS_LOG": "0"}


def database_url_of(arg: str, stack: ExitStack) -> str:
    """The database URL for ``--database-url`` (``auto``: a throwaway cluster, stopped and
    deleted when ``stack`` closes)."""
    if arg != "auto":
        return arg
    cluster = PgCluster(fsync=True, extra_options=server_options())
    stack.callback(cluster.destroy)
    cluster.start()
    return cluster.new_database("bench")


def targets_of(arg: str | None, database_url: str) -> list[str]:
    """``--targets`` (comma separated), default ``sqlite`` and, with a database, ``nginx``."""
    chosen = arg.split(",") if arg else (["sqlite", "nginx"] if database_url else ["sqlite"])
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown:
        raise SystemExit(f"unknown target(s) {unknown}; choose from {', '.join(TARGETS)}")
    if not database_url and any(t != "sqlite" for t in chosen):
        raise SystemExit("the postgres and nginx targets need --database-url (or auto)")
    return chosen


@contextmanager
def deployment(target: str, directory: Path, database_url: str
               ) -> Iterator[tuple[CollectorProcess, list[CollectorProcess]]]:
    """Start ``target`` under ``directory``; yields (where clients send, the collectors)."""
    if target == "nginx":
        with CollectorPair(directory / "pair", database_url, QUIET) as pair:
            yield pair.front, [pair.a, pair.b]
        return
    url = database_url if target == "postgres" else ""
    proc = CollectorProcess(directory / f"{target}-collector", QUIET, url)
    proc.start()
    try:
        yield proc, [proc]
    finally:
        proc.stop()
