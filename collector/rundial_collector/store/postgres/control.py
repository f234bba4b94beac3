"""PostgreSQL: workspaces, projects, API keys, runs, run edits, UI sessions, runs_by_id. (Skeleton: filled in by its own change.)"""

from __future__ import annotations

from rundial_collector.config import CollectorConfig
from rundial_collector.store.postgres.engine import PgEngine


class PgControl:
    """Part of :class:`PostgresStore` (which sets ``engine`` and ``config``)."""

    engine: PgEngine
    config: CollectorConfig

    def __init__(self) -> None:
        pass
