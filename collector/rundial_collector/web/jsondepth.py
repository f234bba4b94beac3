"""A bound on JSON nesting, checked on the raw bytes before any decoder runs.

Every JSON request body (and every JSON value the collector decodes from a request) may nest
arrays and objects at most :data:`MAX_JSON_DEPTH` levels deep; deeper is a 400. Checking the
bytes first means no decoder ever recurses deeper than that, whatever the thread's stack size
(msgspec and orjson recurse once per level), and that free-form values (``config``,
``metadata``, ``client``, ``clientDiagnostics``) always stay encodable (orjson stops at 255).

The scan is linear and runs at C/numpy speed: escaped backslashes and quotes are removed, then
everything but brackets and quotes, then adjacent quote pairs, and the running depth outside
strings is computed a chunk at a time (bounded memory). Bodies with at most
:data:`MAX_JSON_DEPTH` brackets skip the scan.
"""

from __future__ import annotations

import numpy as np

MAX_JSON_DEPTH = 64
_CHUNK_BYTES = 1 << 20
_QUOTE = ord('"')
_NOT_STRUCTURAL = bytes(c for c in range(256) if c not in b'[]{}"')
_DELTA = np.zeros(256, np.int8)
_DELTA[[ord("["), ord("{")]] = 1
_DELTA[[ord("]"), ord("}")]] = -1


def too_deep(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when ``raw``, read as JSON, nests arrays/objects deeper than ``max_depth``.

    Exact for valid JSON; for invalid JSON it may say True for a body a decoder would reject
    anyway (never False for a prefix that a decoder would read deeper than ``max_depth``).
    """
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    if b"\\" in raw:  # escapes only occur in strings: drop \\ pairs, then escaped quotes
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Two adjacent quotes (a string with no bracket in it, or one string's end and the next's
    # start) toggle the in-string state twice with nothing between: dropping them leaves every
    # other token's state, and so the result, unchanged. Typical bodies lose all their quotes.
    tokens = raw.translate(None, _NOT_STRUCTURAL).replace(b'""', b"")
    depth, in_string = 0, False
    for start in range(0, len(tokens), _CHUNK_BYTES):
        chunk = np.frombuffer(tokens, np.uint8, min(_CHUNK_BYTES, len(tokens) - start), start)
        delta = _DELTA[chunk]
        quotes = chunk == _QUOTE
        if in_string or quotes.any():
            inside = np.logical_xor.accumulate(quotes) ^ in_string
            delta[inside] = 0
            in_string = bool(inside[-1])
        levels = np.cumsum(delta, dtype=np.int32)
        if depth + int(levels.max()) > max_depth:
            return True
        depth += int(levels[-1])
    return False
