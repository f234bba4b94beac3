"""Placeholder: routes are being implemented."""

from __future__ import annotations

from aiohttp import web


def setup_routes(app: web.Application) -> None:
    """Register this module's routes on app."""
