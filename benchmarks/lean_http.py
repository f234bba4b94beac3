"""A lean keep-alive HTTP/1.1 client for the ingest benchmarks' load (issue 16).

The benchmarks' clients share the measured machine's two cores with the collectors, nginx and
PostgreSQL, while the SDK clients they stand for run on other machines. ``http.client`` spends
about 0.2 ms of CPU per request, most of it building and parsing headers in Python; this client
about 0.07 ms (2026-12-08: 200 sequential 5,000-point columns requests through nginx, three
rounds: 166-239 against 66-90 us; the collectors spend about 1.0 ms and PostgreSQL 0.9 ms per
such batch). It sends each request as one buffer and parses only what the benchmarks read:
the status, the headers (lower-cased), and a body framed by ``Content-Length`` or chunked
transfer encoding (what aiohttp and nginx send).

Failure behaviour: any error on the connection (refused, reset, closed by the server before
a whole reply, a reply it cannot frame) closes it and raises ``OSError``
(``ConnectionError`` for an early close or bad framing); the next request reconnects. Not
thread-safe: one connection per thread.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["LeanConnection", "Reply"]

_READ_BYTES = 65536


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


class LeanConnection:
    """One keep-alive connection to ``host:port`` (opened on the first request)."""

    def __init__(self, host: str, port: int, timeout_seconds: float = 60.0) -> None:
        self.host, self.port, self.timeout_seconds = host, port, timeout_seconds
        self._sock: socket.socket | None = None
        self._buffer = b""

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """POST ``body`` to ``path`` with ``headers`` (Host and Content-Length are added)."""
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        try:
            self._connected().sendall(request)
            return self._reply()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def _connected(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), self.timeout_seconds)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._sock

    def _reply(self) -> Reply:
        head = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ConnectionError(f"not an HTTP status line: {head[0][:80]!r}")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = self._exactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._chunked()
        else:
            raise ConnectionError("a reply framed by neither Content-Length nor chunks")
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Reply(int(parts[1]), headers, body)

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self._until(b"\r\n").split(b";")[0], 16)
            if size == 0:
                while self._until(b"\r\n"):  # trailer fields, then the empty line
                    pass
                return b"".join(parts)
            parts.append(self._exactly(size))
            if self._exactly(2) != b"\r\n":
                raise ConnectionError("a chunk not followed by CRLF")

    def _until(self, marker: bytes) -> bytes:
        """The bytes before ``marker`` (consumed with it)."""
        while (at := self._buffer.find(marker)) < 0:
            self._fill()
        found, self._buffer = self._buffer[:at], self._buffer[at + len(marker):]
        return found

    def _exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        found, self._buffer = self._buffer[:count], self._buffer[count:]
        return found

    def _fill(self) -> None:
        assert self._sock is not None
        data = self._sock.recv(_READ_BYTES)
        if not data:
            raise ConnectionError("the server closed the connection before a whole reply")
        self._buffer += data
