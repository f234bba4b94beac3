"""Log lines: levels, the 8 KiB message cap, and queued records turned into wire lines.

A queued log record is a **list** ``[timestamp_ms, level, message, truncated]`` (metric records
are tuples, so the worker tells them apart by type without touching ``run.log``'s hot path).
``run.log_text`` only checks the level (a dict look-up) and the message for NUL (the collector
rejects such a line) and lone surrogates (no UTF-8 form: no request could carry the line),
raising at the call (:func:`message_of`), and appends; the worker cuts messages over
:data:`MAX_MESSAGE_BYTES` UTF-8 bytes at a character boundary (``truncated: true``, counted in
``log_lines_truncated``). Text nobody can be told about is kept instead: captured console
output and the traceback ending a run have each NUL replaced by U+FFFD
(:func:`rundial._values.without_nul`) and each lone surrogate by ``?`` (by the worker:
:func:`cut_head`, :func:`cut_tail`, :func:`split_bytes`); the compat shims' text lines get
both replacements before ``log_text`` (:func:`rundial._values.kept_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rundial._diagnostics import Counters
from rundial._values import require_no_nul, require_utf8_text, with_utf8_form

MAX_MESSAGE_BYTES = 8 * 1024  # protocol §5.4
_SAFE_CHARS = MAX_MESSAGE_BYTES // 4  # a str this short can never exceed the cap (<= 4 B/char)
LEVEL_NAMES = ("trace", "debug", "info", "warn", "error", "fatal")
_ALIASES = {"warning": "warn", "critical": "fatal"}
LEVELS: dict[str, str] = {
    **{name: name for name in LEVEL_NAMES}, **_ALIASES,
    **{name.upper(): name for name in LEVEL_NAMES}, **{k.upper(): v for k, v in _ALIASES.items()},
}
LogRecord = list  # [timestamp_ms: int, level: str, message: str, truncated: bool]


def level_of(level: Any) -> str:
    """The wire level for ``level`` (``warning`` → ``warn``); ``ValueError`` for anything else."""
    try:
        found = LEVELS.get(level)
    except TypeError:  # unhashable
        found = None
    if found is None:
        raise ValueError(f"level must be one of {', '.join(LEVEL_NAMES)} (or 'warning'), "
                         f"not {level!r}")
    return found


def message_of(message: Any) -> str:
    """The text sent for ``run.log_text``'s ``message`` (``str()`` of a non-str).
    ``ValueError`` naming ``message`` when it holds NUL (the collector rejects the line), then
    when it holds a lone surrogate (no request can carry it; the text is not shown)."""
    text = message if type(message) is str else str(message)
    require_no_nul("message", text)
    require_utf8_text("message", text, show=False)
    return text


def cut_head(message: str, limit: int = MAX_MESSAGE_BYTES) -> tuple[str, bool]:
    """``(message, cut)``: the first ``limit`` UTF-8 bytes, cut at a character boundary.

    Lone surrogates (not representable in UTF-8 or JSON) become ``?``; that is not a cut.
    """
    if len(message) <= limit // 4:
        return with_utf8_form(message), False
    data = message.encode("utf-8", "replace")
    if len(data) <= limit:
        return data.decode("utf-8"), False
    return data[:limit].decode("utf-8", "ignore"), True


def cut_tail(message: str, limit: int = MAX_MESSAGE_BYTES) -> tuple[str, bool]:
    """``(message, cut)``: the last ``limit`` UTF-8 bytes (a traceback's useful end)."""
    data = message.encode("utf-8", "replace")
    if len(data) <= limit:
        return data.decode("utf-8"), False
    return data[-limit:].decode("utf-8", "ignore"), True


def split_bytes(text: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-8 bytes, split at character boundaries."""
    if len(text) <= limit // 4:
        return [text]
    data = text.encode("utf-8", "replace")
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(len(data), start + limit)
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a multi-byte char
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces


def wire_lines(records: Iterable[list[Any]], counters: Counters,
               next_sequence: Callable[[], int]) -> list[dict[str, Any]]:
    """Wire items (``timestampMs``, ``sequence``, ``level``, ``message``, ``truncated``)."""
    out: list[dict[str, Any]] = []
    for ts, level, message, truncated in records:
        message, cut = cut_head(message)
        if cut:
            counters.lines_truncated(1)
        out.append({"timestampMs": ts, "sequence": next_sequence(), "level": level,
                    "message": message, "truncated": bool(truncated or cut)})
    return out
