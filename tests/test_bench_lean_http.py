"""The benchmarks' lean HTTP client (benchmarks/lean_http.py): framing by Content-Length and by
chunks, keep-alive across requests, and a connection that fails mid-reply raising and
reconnecting. The server is a socket thread that answers scripted bytes and records what it
was sent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from benchmarks.lean_http import LeanConnection


@dataclass(frozen=True)
class Cut:
    sent: bytes


class ScriptedServer:
    """Accepts connections; answers each request (read whole, by Content-Length) with the
    next scripted reply: bytes sent whole, ``Cut(bytes)`` sent and the connection closed
    (a reply cut short), ``None`` the connection closed without an answer."""

    def __init__(self, replies: list[bytes | Cut | None]) -> None:
        self.replies = replies
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while self.replies:
            conn, _ = self._listener.accept()
            self.connections += 1
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        data = b""
        while self.replies:
            while b"\r\n\r\n" not in data:
                more = conn.recv(65536)
                if not more:
                    return
                data += more
            head, _, data = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(data) < length:
                data += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + data[:length])
            data = data[length:]
            reply = self.replies.pop(0)
            if reply is None:
                return
            conn.sendall(reply.sent if isinstance(reply, Cut) else reply)
            if isinstance(reply, Cut):
                return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[ScriptedServer]:
    scripted = ScriptedServer(list(request.param))
    yield scripted
    scripted.close()


FIXED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nX-Thing: a:b\r\n\r\nok"
CHUNKED = (b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 3\r\n"
           b"\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n")


@pytest.mark.parametrize("server", [[FIXED, CHUNKED, FIXED]], indirect=True)
def test_replies_framed_either_way_on_one_connection(server: ScriptedServer) -> None:
    conn = LeanConnection("127.0.0.1", server.port, timeout_seconds=10)
    first = conn.post("/p", b"x" * 70_000, {"Idempotency-Key": "k1"})
    second = conn.post("/p", b"", {})
    third = conn.post("/p", b"y", {})
    conn.close()
    assert (first.status, first.body, first.headers["x-thing"]) == (202, b"ok", "a:b")
    assert (second.status, second.body, second.headers["retry-after"]) == (
        429, b"hello world", "3")
    assert (third.status, third.body) == (202, b"ok")
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /p HTTP/1.1\r\n")
    assert b"\r\nContent-Length: 70000\r\n" in server.requests[0]
    assert b"\r\nIdempotency-Key: k1\r\n" in server.requests[0]
    assert server.requests[0].endswith(b"x" * 70_000)


@pytest.mark.parametrize("server", [[None, Cut(FIXED[:40]), FIXED]], indirect=True)
def test_a_connection_lost_mid_reply_raises_and_the_next_post_reconnects(
        server: ScriptedServer) -> None:
    """Closed before any reply, then closed after part of one: each raises ConnectionError;
    the next post opens a new connection and gets its reply."""
    conn = LeanConnection("127.0.0.1", server.port, timeout_seconds=10)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            conn.post("/p", b"body", {})
    assert conn.post("/p", b"body", {}).status == 202
    assert server.connections == 3
    assert len(server.requests) == 3


@pytest.mark.parametrize("server", [[b"HTTP/1.1 200 OK\r\n\r\nno length", FIXED]],
                         indirect=True)
def test_a_reply_without_framing_is_refused(server: ScriptedServer) -> None:
    conn = LeanConnection("127.0.0.1", server.port, timeout_seconds=10)
    with pytest.raises(ConnectionError, match="neither Content-Length nor chunks"):
        conn.post("/p", b"", {})
    assert conn.post("/p", b"", {}).status == 202
