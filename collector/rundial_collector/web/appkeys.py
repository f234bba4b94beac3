"""Typed application keys shared by every handler module."""

from __future__ import annotations

from aiohttp import web

from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store

CONFIG = web.AppKey("rundial_config", CollectorConfig)
STORE = web.AppKey("rundial_store", Store)
