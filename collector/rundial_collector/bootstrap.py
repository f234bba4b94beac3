"""Placeholder: first-start provisioning (being implemented)."""

from __future__ import annotations

from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store


async def ensure_bootstrap(store: Store, config: CollectorConfig) -> None:
    """Create the bootstrap workspace, project and admin key on first start."""
