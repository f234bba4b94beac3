"""PostgreSQL: logs, spans, diagnostics, run_known, and the live stream's reads (EventStore). (Skeleton: filled in by its own change.)"""

from __future__ import annotations

from rundial_collector.config import CollectorConfig
from rundial_collector.store.postgres.engine import PgEngine


class PgEvents:
    """Part of :class:`PostgresStore` (which sets ``engine`` and ``config``)."""

    engine: PgEngine
    config: CollectorConfig

    def __init__(self) -> None:
        pass

    async def start_events(self) -> None:
        """Start listening for other collectors' commits (LISTEN/NOTIFY); called by start."""

    async def stop_events(self) -> None:
        """Stop listening; called by close before the pool closes."""
