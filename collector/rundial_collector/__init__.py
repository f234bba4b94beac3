"""rundial collector: an aiohttp server that stores every point and serves queries.

Public surface: :func:`create_app` (the aiohttp app factory) and :class:`CollectorConfig`.
"""

from __future__ import annotations

from rundial_collector._version import __version__
from rundial_collector.app import create_app
from rundial_collector.config import CollectorConfig

__all__ = ["CollectorConfig", "create_app"]
