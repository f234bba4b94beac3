"""HttpTransport against a real local HTTP server: keep-alive, reconnects, errors."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from rundial import HttpTransport, Request, TransportError


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: set[int] = set()  # client ports: one per TCP connection
    close_next = False

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        Handler.connections.add(self.client_address[1])
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        if Handler.close_next:
            Handler.close_next = False
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Handler.connections = set()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_requests_share_one_keep_alive_connection(server: str) -> None:
    """Several sends reuse one TCP connection; the body round-trips."""
    transport = HttpTransport(server, timeout=5)
    for i in range(5):
        resp = transport.send(Request("POST", "/echo", f"b{i}".encode(), {}))
        assert resp.status == 200 and resp.body == f"b{i}".encode()
    assert len(Handler.connections) == 1
    transport.close()


def test_reconnects_after_the_server_closes(server: str) -> None:
    """A ``connection: close`` answer is followed by a fresh connection, transparently."""
    transport = HttpTransport(server, timeout=5)
    Handler.close_next = True
    transport.send(Request("POST", "/a", b"1", {}))
    assert transport.send(Request("POST", "/b", b"2", {})).body == b"2"
    assert len(Handler.connections) == 2


def test_refused_connection_raises_transport_error() -> None:
    """Nothing listening: TransportError, never another exception type."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(TransportError):
        HttpTransport(f"http://127.0.0.1:{port}", timeout=1).send(Request("POST", "/x", b"", {}))


def test_endpoint_must_be_http() -> None:
    """A non-http endpoint is a ValueError at construction."""
    with pytest.raises(ValueError):
        HttpTransport("ftp://x")
