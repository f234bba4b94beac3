"""``rundial-collector``: run the collector as a service, and manage its users.

``rundial-collector serve --host 127.0.0.1 --port 8787 --data-dir ./data`` (each flag has a
``RUNDIAL_COLLECTOR_*`` environment equivalent). ``rundial-collector users …`` works on the
same store (:mod:`rundial_collector.users_cli`). SIGTERM and SIGINT stop it gracefully: the
listener closes, in-flight requests finish and the write queue drains before exit.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from rundial_collector import users_cli
from rundial_collector._version import __version__
from rundial_collector.gc_pauses import freeze_startup_objects
from rundial_collector.app import create_app
from rundial_collector.config import CollectorConfig
from rundial_collector.eventloop import CHOICES, LoopFactory, loop_factory, loop_name
from rundial_collector.store.errors import SchemaTooNew, StoreUnavailable
from rundial_collector.store.factory import check_store_config

log = logging.getLogger("rundial.collector")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rundial-collector", description="rundial collector")
    parser.add_argument("--version", action="version", version=f"rundial-collector {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP collector")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default 8787; 0 picks a free one)")
    _store_options(serve)
    serve.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    serve.add_argument("--public-url", help="externally reachable base URL (for artifact URLs)")
    serve.add_argument("--no-access-log", action="store_true", help="disable rundial.access lines")
    serve.add_argument("--event-loop", choices=CHOICES,
                       help="auto (default: uvloop where installed), uvloop or asyncio; env "
                            "RUNDIAL_COLLECTOR_EVENT_LOOP")
    serve.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    users_cli.add_parser(sub, _store_options)
    return parser


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="SQLite database and blobs (default ./data)")
    parser.add_argument("--database-url",
                        help="postgresql://user@host:port/db selects PostgreSQL (default: "
                             "SQLite under --data-dir); env RUNDIAL_COLLECTOR_DATABASE_URL")


def _config_from(args: argparse.Namespace) -> CollectorConfig:
    config = CollectorConfig.from_env()
    updates: dict[str, object] = {}
    for name in ("host", "port", "data_dir", "public_url", "database_url", "event_loop"):
        value = getattr(args, name, None)  # ``users`` commands have only the store options
        if value is not None:
            updates[name] = value
    if getattr(args, "no_access_log", False):
        updates["access_log"] = False
    return replace(config, **updates)  # type: ignore[arg-type]


def _storage_of(config: CollectorConfig) -> str:
    """Where the data lives, for the start-up line (a database password is never logged)."""
    if not config.database_url:
        return str(config.data_dir.resolve())
    from rundial_collector.store.postgres.engine import redacted_url
    return f"{redacted_url(config.database_url)}, blobs under {config.data_dir.resolve()}"


class ListenError(Exception):
    """The collector's address cannot be bound (busy port, unknown host, no permission)."""


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, bound before anything else starts (so a busy
    port is reported before the first start generates an admin key). Raises ListenError with
    a one-line reason."""
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ListenError(f"cannot listen on {where}: unknown host ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(f"cannot listen on {where}: the port is already in use (stop the "
                              "other process, or pick another port with --port / "
                              "RUNDIAL_COLLECTOR_PORT)") from None
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


async def serve(config: CollectorConfig, port_file: Path | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully. Raises ListenError (before any
    bootstrap) when the address cannot be bound.

    The service creates every file private: umask 077 (the data directory is the owner's
    alone, see :mod:`rundial_collector.datadir`).
    """
    os.umask(0o077)
    sock = listen_socket(config.host, config.port)
    runner = web.AppRunner(create_app(config), access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    freeze_startup_objects()  # full GC pauses: gc_pauses.py
    site = web.SockSite(runner, sock)
    await site.start()
    port = _bound_port(runner)
    if port_file is not None:
        _write_atomically(port_file, f"{port}\n")
    loop = asyncio.get_running_loop()
    log.info("rundial collector %s listening on http://%s:%d (data: %s; event loop: %s)",
             __version__, config.host, port, _storage_of(config), loop_name(loop))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: draining the write queue")
    await runner.cleanup()
    log.info("stopped")


def _bound_port(runner: web.AppRunner) -> int:
    address = runner.addresses[0]
    return int(address[1])


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _run(main: Coroutine[Any, Any, None], factory: LoopFactory | None) -> None:
    """Run ``main`` to completion on a new loop from ``factory`` (None: asyncio's)."""
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rundial-collector`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "WARNING").upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = _config_from(args)
    if args.command == "users":
        return users_cli.run(args, config)
    if args.command == "serve":
        port_dir = args.port_file.parent if args.port_file is not None else None
        if port_dir is not None and not port_dir.is_dir():
            print(f"rundial-collector: --port-file {args.port_file}: the folder {port_dir} "
                  "does not exist", file=sys.stderr)
            return 1
        try:
            check_store_config(config)
            factory = loop_factory(config.event_loop)
        except ValueError as exc:
            print(f"rundial-collector: {exc}", file=sys.stderr)
            return 2
        try:
            _run(serve(config, args.port_file), factory)
        except ListenError as exc:
            print(f"rundial-collector: {exc}", file=sys.stderr)
            return 1
        except StoreUnavailable as exc:  # the message names the URL without its password
            print(f"rundial-collector: the database is unavailable: {exc}", file=sys.stderr)
            return 1
        except SchemaTooNew as exc:
            print(f"rundial-collector: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
