"""A deliberately slow WebSocket client on a plain socket with a tiny receive buffer.

It performs the upgrade, then reads nothing until told to, so the collector's send path backs
up after a few hundred KiB instead of the tens of MiB a kernel-autotuned socket would absorb.
:meth:`SlowSocket.read_to_close` later parses the server's (unmasked) frames up to its close
frame. Blocking calls; run them in a thread from async tests.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from dataclasses import dataclass

RECEIVE_BUFFER_BYTES = 4096
READ_BUFFER_BYTES = 4 * 1024 * 1024


@dataclass
class Closing:
    """What the slow client saw: text frames before the close, and the close code/reason."""

    text_frames: int
    code: int | None
    reason: str


class SlowSocket:
    """``GET path`` upgraded to a WebSocket on 127.0.0.1:``port``, authorised by ``api_key``."""

    def __init__(self, port: int, path: str, api_key: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", port))
        nonce = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Authorization: Bearer {api_key}\r\n\r\n").encode())
        self.buffer = bytearray()
        head = self._read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        head, _, rest = self.buffer.partition(marker)
        self.buffer = bytearray(rest)
        return bytes(head)

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def _frame(self) -> tuple[int, bytes]:
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8))[0]
        return first & 0x0F, self._take(length)

    def read_to_close(self, timeout: float = 60.0) -> Closing:
        """Read every frame until the close frame (or the connection ends)."""
        try:
            closing = self.read_to_text(None, timeout)
        except (ConnectionError, OSError):
            return Closing(0, None, "connection ended without a close frame")
        assert closing is not None
        return closing

    def read_to_text(self, marker: str | None, timeout: float = 60.0) -> Closing | None:
        """Read frames until a text frame containing ``marker`` (None; a None marker matches
        nothing) or a close frame (its :class:`Closing`). The receive buffer is widened first:
        the stall is over, and megabytes through a 4 KiB window would outlast the server's
        heartbeat."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, READ_BUFFER_BYTES)
        deadline = time.monotonic() + timeout
        texts = 0
        while time.monotonic() < deadline:
            opcode, payload = self._frame()
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return Closing(texts, code, payload[2:].decode(errors="replace"))
            if opcode == 0x1 and marker is not None and marker in payload.decode(
                    errors="replace"):
                return None
            texts += opcode == 0x1
        raise AssertionError(f"neither {marker!r} nor a close frame before the deadline")

    def read_texts_to_close(self, timeout: float = 60.0) -> tuple[list[str], Closing]:
        """Every text frame until the close frame, and the close (receive buffer widened as in
        :meth:`read_to_text`)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, READ_BUFFER_BYTES)
        deadline = time.monotonic() + timeout
        texts: list[str] = []
        while time.monotonic() < deadline:
            opcode, payload = self._frame()
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return texts, Closing(len(texts), code, payload[2:].decode(errors="replace"))
            if opcode == 0x1:
                texts.append(payload.decode())
        raise AssertionError("no close frame before the deadline")

    def send_close(self, code: int = 1000) -> None:
        """Send a masked close frame with ``code`` (and read nothing)."""
        payload = struct.pack("!H", code)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x88, 0x80 | len(payload)]) + mask + masked)

    def server_side(self) -> tuple[str, int] | None:
        """The collector's end of this connection from ``/proc/net/tcp`` (Linux): its TCP
        state (``"01"`` established) and the bytes queued to send; None once it is gone."""
        me = self.sock.getsockname()[1]
        peer = self.sock.getpeername()[1]
        with open("/proc/net/tcp", encoding="ascii") as table:
            for row in table.read().splitlines()[1:]:
                fields = row.split()
                if (int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
                        ) == (peer, me):
                    return fields[3], int(fields[4].split(":")[0], 16)
        return None

    def send_text(self, text: str) -> None:
        """Send one masked text frame (client frames must be masked; payload < 126 bytes)."""
        payload = text.encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        self.sock.close()
