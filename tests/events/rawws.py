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
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        out, self.buffer = self.buffer[:n], self.buffer[n:]
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
        deadline = time.monotonic() + timeout
        texts = 0
        try:
            while time.monotonic() < deadline:
                opcode, payload = self._frame()
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    return Closing(texts, code, payload[2:].decode(errors="replace"))
                texts += opcode == 0x1
        except (ConnectionError, OSError):
            return Closing(texts, None, "connection ended without a close frame")
        raise AssertionError("no close frame before the deadline")

    def send_text(self, text: str) -> None:
        """Send one masked text frame (client frames must be masked; payload < 126 bytes)."""
        payload = text.encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        self.sock.close()
