"""HTTP for artifacts: JSON control calls and streaming transfers to server-issued URLs.

* :class:`ControlClient` posts JSON to ``/api/v1/artifacts/*`` and ``/api/v1/ingest/media``
  with :func:`rundial._http.calls.call` on an injectable
  :class:`~rundial._http.transport.Transport` (one per thread) and raises
  :class:`ArtifactHTTPError` for any non-2xx answer, classified retryable or not by protocol
  §1.5 (:func:`rundial._http.calls.retryable_by_protocol`).
* :class:`BlobHttp` PUTs byte ranges of a file to signed URLs with ``socket.sendfile`` (plain
  HTTP) or 1 MiB reads (HTTPS): the file is never read into memory or copied. GETs stream to
  a file object in 1 MiB chunks while hashing. Signed URLs carry no credentials, so no
  Rundial header or API key is ever sent to them. Connections are kept alive per thread.

Network failures raise :class:`~rundial._http.transport.TransportError` (retryable).
"""

from __future__ import annotations

import hashlib
import http.client
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import IO, Any, TypeVar

from rundial._http.calls import (call, parse_envelope, parse_retry_after,
                                 retryable_by_protocol, status_text)
from rundial._http.transport import HttpTransport, Transport, TransportError

CHUNK_BYTES = 1024 * 1024
T = TypeVar("T")
TransportFactory = Callable[[str, float], Transport]


class ArtifactHTTPError(RuntimeError):
    """A non-2xx answer: ``status``, ``code`` (v1 envelope), ``field`` and ``retryable``."""

    def __init__(self, operation: str, status: int, body: bytes, headers: Mapping[str, str]
                 ) -> None:
        envelope = parse_envelope(body)
        self.status = status
        self.code = envelope.code
        self.field = envelope.field
        self.retryable = retryable_by_protocol(status, envelope)
        self.retry_after = parse_retry_after(headers.get("retry-after")) if self.retryable \
            else None
        super().__init__(f"{operation} failed with {status_text(status, envelope)}")


def default_transport(endpoint: str, timeout_s: float) -> Transport:
    return HttpTransport(endpoint, timeout=timeout_s)


class ControlClient:
    """JSON POSTs to the collector; one transport per calling thread. Thread-safe."""

    def __init__(self, endpoint: str, api_key: str | None, timeout_s: float,
                 transport_factory: TransportFactory | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._factory = transport_factory or default_transport
        self._local = threading.local()
        self._all: list[Transport] = []
        self._lock = threading.Lock()

    def post(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``payload``; the JSON object answered. Raises :class:`ArtifactHTTPError` for a
        non-2xx answer or a 2xx that is not a JSON object (as a retryable 502), and
        :class:`~rundial._http.transport.TransportError` when no answer came."""
        result = call(self._transport(), self._api_key, "POST", path, payload, self._timeout_s,
                      f"POST {path}")
        if result.failure is not None:
            raise result.failure
        if result.response is not None and not result.ok:
            answer = result.response
            raise ArtifactHTTPError(f"POST {path}", answer.status, answer.body, answer.headers)
        if not result.json_object:
            raise ArtifactHTTPError(f"POST {path} (invalid JSON answer)", 502, b"", {})
        return result.doc

    def _transport(self) -> Transport:
        transport = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = self._factory(self.endpoint, self._timeout_s)
            with self._lock:
                self._all.append(transport)
        return transport

    def close(self) -> None:
        with self._lock:
            transports, self._all = self._all, []
        for transport in transports:
            transport.close()


class BlobHttp:
    """Streaming PUT/GET against absolute signed URLs (see the module docstring)."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def put_file(self, url: str, fh: IO[bytes], offset: int, size: int,
                 headers: Mapping[str, str]) -> dict[str, str]:
        """PUT bytes [offset, offset + size) of ``fh``; the response headers (lower-case)."""
        return self._with_retry(url, lambda conn, target: self._put(conn, target, fh, offset,
                                                                     size, headers))

    def get_to(self, url: str, out: IO[bytes]) -> tuple[int, str]:
        """GET ``url`` into ``out``; (bytes written, sha256 hex)."""
        return self._with_retry(url, lambda conn, target: self._get(conn, target, out))

    def _put(self, conn: http.client.HTTPConnection, target: str, fh: IO[bytes], offset: int,
             size: int, headers: Mapping[str, str]) -> dict[str, str]:
        conn.putrequest("PUT", target, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Length": str(size)}.items():
            conn.putheader(name, value)
        conn.endheaders()
        _send_range(conn, fh, offset, size)
        response = conn.getresponse()
        body = response.read()
        answer = {k.lower(): v for k, v in response.getheaders()}
        if not 200 <= response.status < 300:
            raise ArtifactHTTPError("upload PUT", response.status, body, answer)
        return answer

    def _get(self, conn: http.client.HTTPConnection, target: str,
             out: IO[bytes]) -> tuple[int, str]:
        out.seek(0)
        out.truncate()
        conn.request("GET", target)
        response = conn.getresponse()
        if not 200 <= response.status < 300:
            raise ArtifactHTTPError("download GET", response.status, response.read(),
                                    {k.lower(): v for k, v in response.getheaders()})
        hasher, total = hashlib.sha256(), 0
        while chunk := response.read(CHUNK_BYTES):
            out.write(chunk)
            hasher.update(chunk)
            total += len(chunk)
        return total, hasher.hexdigest()

    def _with_retry(self, url: str, call: Callable[[http.client.HTTPConnection, str], T]
                    ) -> T:
        """Run ``call`` on a kept-alive connection; once more on a fresh one if it went stale."""
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            conn, reused = self._connection(parts)
            try:
                return call(conn, target)
            except (OSError, http.client.HTTPException) as exc:
                self._drop(parts)
                stale = reused and isinstance(exc, (http.client.RemoteDisconnected,
                                                    BrokenPipeError, ConnectionResetError))
                if attempt == 2 or not stale:
                    raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _connection(self, parts: urllib.parse.SplitResult
                    ) -> tuple[http.client.HTTPConnection, bool]:
        conns: dict[tuple[str, str], http.client.HTTPConnection] = self._conns()
        key = (parts.scheme, parts.netloc)
        conn = conns.get(key)
        if conn is not None:
            return conn, True
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"not an http(s) URL: {parts.scheme}://{parts.netloc}")
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conns[key] = cls(parts.hostname, parts.port, timeout=self._timeout_s,
                                blocksize=CHUNK_BYTES)
        with self._lock:
            self._all.append(conn)
        return conn, False

    def _conns(self) -> dict[tuple[str, str], http.client.HTTPConnection]:
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def _drop(self, parts: urllib.parse.SplitResult) -> None:
        conn = self._conns().pop((parts.scheme, parts.netloc), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close every connection this object opened (any thread's)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()


def _send_range(conn: http.client.HTTPConnection, fh: IO[bytes], offset: int,
                size: int) -> None:
    """Send [offset, offset + size) of ``fh``: zero-copy sendfile on plain sockets."""
    sock = conn.sock
    if sock is None:
        raise TransportError("connection closed before the body was sent")
    if size and not isinstance(conn, http.client.HTTPSConnection):
        sent = sock.sendfile(fh, offset, size)
        if sent != size:
            raise TransportError(f"the file shrank while uploading ({sent} of {size} bytes)")
        return
    fh.seek(offset)
    left = size
    while left > 0:
        chunk = fh.read(min(CHUNK_BYTES, left))
        if not chunk:
            raise TransportError("the file shrank while uploading")
        sock.sendall(chunk)
        left -= len(chunk)
