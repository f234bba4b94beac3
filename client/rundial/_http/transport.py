"""HTTP transport: a two-method protocol, a keep-alive stdlib implementation and a test double.

Contract of :meth:`Transport.send`: send one request and return the :class:`Response` for any
HTTP status (errors included). Network failures (refused, reset, timeout, DNS) raise
:class:`TransportError`; nothing else may escape. A transport is used by one thread at a time,
except :meth:`HttpTransport.abort`, which any thread may call to cut an in-flight request short.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rundial._version import __version__

CLIENT_HEADER = f"rundial-python/{__version__}"
PROTOCOL_VERSION = "1"


class TransportError(OSError):
    """A request got no HTTP response: connection refused or reset, timeout, DNS failure.

    ``sent`` is False only when the request provably never left (the connection could not be
    opened); otherwise the server may have received and applied it.
    """

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class _NotConnected(Exception):
    """Opening the connection failed: nothing of the request was sent."""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request. ``path`` starts with ``/`` and is appended to the endpoint."""

    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response; header names are lower-case."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Transport(Protocol):
    """Sends requests to the collector. See the module docstring for the contract."""

    def send(self, request: Request) -> Response:
        """Send ``request``; return the response, or raise :class:`TransportError`."""
        ...

    def close(self) -> None:
        """Release connections. Idempotent. The transport may be reused afterwards (reconnects)."""
        ...


def base_headers(api_key: str | None) -> dict[str, str]:
    """Headers every ``/api/v1`` call carries."""
    headers = {"x-rundial-protocol": PROTOCOL_VERSION, "x-rundial-client": CLIENT_HEADER}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


class HttpTransport:
    """One keep-alive ``http.client`` connection to ``endpoint``; reconnects after any failure.

    A request on a reused connection that fails before any response byte (the server closed an
    idle keep-alive connection) is retried once on a fresh connection; ingest requests carry an
    Idempotency-Key, so a repeat is harmless.
    """

    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint must be an http(s) URL, not {endpoint!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def send(self, request: Request) -> Response:
        """Send ``request``; see :class:`Transport`."""
        reused = self._conn is not None
        try:
            return self._send_once(request)
        except _NotConnected as exc:
            self.close()
            cause = exc.__cause__
            raise TransportError(f"{type(cause).__name__}: {cause}", sent=False) from cause
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            if reused and isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError,
                                           ConnectionResetError)):
                try:
                    return self._send_once(request)
                except (OSError, http.client.HTTPException, _NotConnected) as again:
                    self.close()  # the first attempt may have reached the server: sent stays True
                    cause = again.__cause__ if isinstance(again, _NotConnected) else again
                    raise TransportError(f"{type(cause).__name__}: {cause}") from again
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    def _send_once(self, request: Request) -> Response:
        conn = self._connection(request.timeout)
        if conn.sock is None:
            try:
                conn.connect()
            except (OSError, http.client.HTTPException) as exc:
                raise _NotConnected() from exc
        conn.request(request.method, self._prefix + request.path, body=request.body,
                     headers=request.headers)
        resp = conn.getresponse()
        body = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(resp.status, body, headers)

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        timeout = self._timeout if timeout is None else timeout
        with self._lock:
            if self._conn is None:
                cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                self._conn = cls(self._host, self._port, timeout=timeout)
            conn = self._conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def abort(self) -> None:
        """Interrupt an in-flight request from another thread (it then raises TransportError)."""
        with self._lock:
            conn = self._conn
        sock = conn.sock if conn is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        """Close the connection; the next :meth:`send` reconnects."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


Handler = Callable[[Request], Response]


class MockTransport:
    """A test double: ``handler(request)`` returns the response or raises :class:`TransportError`.

    Every request is recorded in :attr:`requests` (thread-safe), so tests can inspect bodies.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def send(self, request: Request) -> Response:
        """Record ``request`` and answer with the handler."""
        with self._lock:
            self.requests.append(request)
        return self.handler(request)

    def close(self) -> None:
        """Nothing to release."""
