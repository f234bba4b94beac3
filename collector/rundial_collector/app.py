"""The aiohttp application factory.

``create_app(config)`` wires the store, the middleware and every route module. The store is
started in the app's cleanup context and closed (write queue drained) on shutdown, so a SIGTERM
never loses a request that was already answered 2xx. Before the store starts, the data
directory is created or tightened to private modes (:mod:`rundial_collector.datadir`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from rundial_collector.bootstrap import ensure_bootstrap
from rundial_collector.config import CollectorConfig
from rundial_collector.datadir import prepare_data_dir
from rundial_collector.routes import (admin, artifacts, blobs, chart, heartbeat, ingest, live,
                                      media, query, run_assets, run_diagnostics, run_media,
                                      runs, spans, ui)
from rundial_collector.routes import evals
from rundial_collector.store.base import Store
from rundial_collector.store.factory import open_store
from rundial_collector.web.appkeys import CONFIG, STORE
from rundial_collector.web.middleware import make_middlewares

_ROUTE_MODULES = (admin, runs, ingest, query, chart, artifacts, blobs, media, run_assets,
                  run_media, live, heartbeat, spans, run_diagnostics, evals, ui)


def create_app(config: CollectorConfig, store: Store | None = None) -> web.Application:
    """Build the collector app. ``store`` defaults to :func:`open_store` (PostgreSQL when
    ``config.database_url`` is set, else SQLite under ``config.data_dir``)."""
    # auto_decompress off: body.read_body is the only gzip decoder, so the decompressed-size
    # bound (413) holds and a gzip bomb never inflates in aiohttp's parser.
    streaming = (live.events_ws, blobs.put_blob, blobs.put_part, blobs.get_blob,
                 run_assets.artifact_file)
    middlewares = make_middlewares(config.access_log, config.request_timeout_seconds, streaming)
    app = web.Application(middlewares=middlewares,
                          client_max_size=config.max_body_bytes,
                          handler_args={"auto_decompress": False})
    app[CONFIG] = config
    app[STORE] = store if store is not None else open_store(config)
    app.cleanup_ctx.append(_store_lifecycle)
    for module in _ROUTE_MODULES:
        module.setup_routes(app)
    return app


async def _store_lifecycle(app: web.Application) -> AsyncIterator[None]:
    store, config = app[STORE], app[CONFIG]
    await asyncio.get_running_loop().run_in_executor(None, prepare_data_dir, config.data_dir,
                                                     config.db_path)
    await store.start()
    await ensure_bootstrap(store, app[CONFIG])
    yield
    await store.close()
