"""Placeholder: the data-plane store interface (being implemented)."""

from __future__ import annotations

from typing import Protocol


class DataStore(Protocol):
    """Metric points, logs, spans and idempotency keys."""
