"""Encode queued records into gzip'd wide-row ingest bodies (docs/protocol.md §4.2).

A record is ``(step, timestamp_ms, {key: value})``, one per ``run.log`` call. Records are encoded
with orjson in chunks of at most ``chunk_records`` rows per C call (each GIL hold stays near 1 ms)
and joined; a body holds at most ``max_records`` rows and ``max_bytes`` uncompressed bytes, and is
gzip'd at level 1 (the compressor releases the GIL).

Validation adds no pass over the Python objects in the common case (the objects were built on
the training thread, so the first pass over them pays for cache misses): a chunk is encoded by
orjson first, and the JSON it produced is searched with one compiled regex for a value that is
not a number. orjson writes NaN and inf as ``null``, bools as ``true``/``false``, and strings,
lists and objects with their own opening byte, each right after a key's ``":``, where a number
starts with ``-`` or a digit. Only a chunk with such a value (a key containing ``":`` is a
harmless false positive), or one orjson refuses (non-string keys, ints beyond 64 bits, objects
with no ``__float__``), is re-encoded row by row through :func:`clean_row`, which drops
non-finite values (counted per key, one ``RuntimeWarning`` per key per process), converts bools
and numeric types, and drops anything else as ``invalid`` (one warning per key). Keys are checked
once per distinct key (``_wire.keys``): a body holding a key the collector refuses (empty, over 512
characters) is cleaned the same way, dropping those keys as ``invalid``.
"""

from __future__ import annotations

import collections
import math
import operator
import re
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from rundial._diagnostics import REASON_INVALID, Counters
from rundial._media import is_media
from rundial._warn import warn_user
from rundial._wire.column_group import column_group
from rundial._wire.columns import HEADER_MAX_BYTES, pack
from rundial._wire.keys import KeyCheck, key_problem


Record = tuple[int, int, dict[str, Any]]
MediaSink = Callable[[str, int, Any, int], None]  # (key, step, value, timestamp_ms)

GZIP_LEVEL = 1  # 165 MB/s at a 4.6x ratio; level 9 is 11x slower for 11% smaller bodies
_GZIP_WBITS = 31  # gzip container, as Content-Encoding: gzip expects
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
_NON_NUMBER_VALUE = re.compile(rb'":[^-0-9]')  # null, true, false, a string, list or object
_step_of = operator.itemgetter(0)
_row_of = operator.itemgetter(2)
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1
_HEADER_TAIL_BYTES = 64  # a columns header's seq, "keys"/"rows" members and padding, at most
_warned: set[tuple[str, str]] = set()  # (reason, key): one warning per key per process


def _default(obj: Any) -> Any:
    """orjson fallback: anything with ``__float__`` (numpy, torch scalars, Decimal) becomes a float."""
    if hasattr(obj, "__float__") and not isinstance(obj, (str, bytes)):
        return float(obj)
    raise TypeError(f"unsupported metric value type {type(obj).__name__}")


def gzip_bytes(data: bytes) -> bytes:
    """Gzip at level 1 with a gzip header and trailer (CRC32 + size)."""
    return zlib.compress(data, GZIP_LEVEL, wbits=_GZIP_WBITS)


def gunzip_bytes(data: bytes) -> bytes:
    """Inverse of :func:`gzip_bytes`; raises ``zlib.error`` on a bad CRC or truncation."""
    return zlib.decompress(data, wbits=_GZIP_WBITS)


def _warn_once(reason: str, key: str, message: str) -> None:
    if (reason, key) not in _warned:
        _warned.add((reason, key))
        warn_user(message)


def clean_value(key: str, value: Any, counters: Counters) -> int | float | None:
    """A finite JSON number for ``value``, or None after counting and warning about the drop."""
    kind = type(value)
    if kind is bool:
        return int(value)
    if kind is int and _INT64_MIN <= value <= _UINT64_MAX:
        return int(value)
    if kind is not float:
        if isinstance(value, (str, bytes, bytearray, Mapping, list, tuple, set)) or value is None:
            number = None
        else:
            try:
                number = float(value)
            except (TypeError, ValueError, OverflowError):
                number = None
        if number is None:
            counters.drop(REASON_INVALID, 1)
            _warn_once("invalid", key, f"rundial: dropping non-numeric value for metric {key!r} "
                       f"({kind.__name__}); further drops of this key are only counted")
            return None
        value = number
    if not math.isfinite(value):
        counters.non_finite_key(key)
        _warn_once("non_finite", key, f"rundial: dropping non-finite value {value!r} for metric "
                   f"{key!r}; further drops of this key are only counted")
        return None
    return float(value)


def clean_row(row: Mapping[Any, Any], counters: Counters) -> dict[str, int | float]:
    """The row with unusable keys and values dropped (and counted)."""
    out: dict[str, int | float] = {}
    for key, value in row.items():
        problem = key_problem(key)
        if problem is not None:
            counters.drop(REASON_INVALID, 1)
            _warn_once("invalid_key", repr(key)[:80], f"rundial: dropping metric {repr(key)[:80]}: "
                       f"{problem}; further drops of this key are only counted")
            continue
        number = clean_value(key, value, counters)
        if number is not None:
            out[key] = number
    return out


def encode_rows(records: list[Record], counters: Counters, media_sink: MediaSink | None = None,
                *, slow: bool = False) -> tuple[memoryview, list[Record]]:
    """Encode ``records`` as comma-joined JSON arrays (no brackets, a view: no copy until the
    body is joined); returns the JSON and the clean records.

    Media values (``rd.Image``/``rd.Table``) only ever reach the slow path (they are not numbers);
    there they leave the row through ``media_sink(key, step, value, timestamp_ms)``.
    ``slow=True`` (a key the collector refuses is known to be present) skips the fast path.
    """
    try:
        data = orjson.dumps(records, default=_default, option=_OPTIONS)
    except TypeError:  # a non-str key, an int beyond 64 bits, an object with no __float__
        data = b""
    if (data and not slow and _NON_NUMBER_VALUE.search(data) is None
            and max(map(_step_of, records)) <= _INT64_MAX):
        return memoryview(data)[1:-1], records
    cleaned: list[Record] = []
    for step, ts, row in records:
        if not 0 <= step <= _INT64_MAX:  # only a huge int gets past log()'s cheap check
            counters.drop(REASON_INVALID, len(row))
            _warn_once("invalid_step", "", f"rundial: dropping a row with step {step} (beyond int64)")
            continue
        if media_sink is not None:
            row = _route_media(row, step, ts, media_sink)
        clean = clean_row(row, counters)
        if clean:
            cleaned.append((step, ts, clean))
    return memoryview(orjson.dumps(cleaned, option=_OPTIONS))[1:-1], cleaned


def _route_media(row: dict[str, Any], step: int, ts: int, sink: MediaSink) -> dict[str, Any]:
    """The row without its media values, each of which is handed to ``sink``. One under a key
    the collector refuses (``key_problem``: a lone surrogate, say) stays in the row, so that
    :func:`clean_row` drops it as ``invalid``, like a number under that key."""
    media = [key for key, value in row.items() if is_media(value) and key_problem(key) is None]
    if not media:
        return row
    rest = dict(row)
    for key in media:
        sink(key, step, rest.pop(key), ts)
    return rest


@dataclass(slots=True)
class Batch:
    """One encoded ingest body: ``body`` is the exact gzip'd HTTP body; ids name it everywhere."""

    batch_id: str
    seq: int
    body: bytes
    records: int
    points: int
    first_step: int | None  # None for log and span batches (they have no steps)
    last_step: int | None


def new_batch_id(prefix: str = "") -> str:
    """A fresh Idempotency-Key: ``prefix`` (the batch kind, see ``_wire.records``) + uuid4 hex."""
    return prefix + uuid.uuid4().hex


class BatchEncoder:
    """Turns drained records into :class:`Batch` objects for one (run, writer).

    ``header`` holds the target fields (``projectId`` or ``workspace`` + ``project``, ``runId``,
    ``rank``?, ``writerId``); ``next_seq`` hands out the writer's sequence numbers. ``on_row`` is
    called with clean rows for last-value (summary) tracking: with every row, or only the last one
    of a batch when it holds every key the batch has. With :attr:`columns` set (the collector
    announced the format), a uniform clean group becomes a columns body (``_wire.columns``,
    ``_wire.column_group``) with the same counters, ``on_row`` calls and Batch fields; any other
    group is encoded as wide rows. Not thread-safe: owned by the worker.
    """

    def __init__(self, header: Mapping[str, Any], counters: Counters, next_seq: Callable[[], int],
                 *, max_records: int, max_bytes: int, chunk_records: int,
                 on_row: Callable[[dict[str, Any]], None] | None = None,
                 media_sink: MediaSink | None = None) -> None:
        self._prefix = orjson.dumps(dict(header))[:-1] + b',"seq":'
        self._counters = counters
        self._next_seq = next_seq
        self._max_records = max_records
        self._max_bytes = max_bytes
        self._chunk_records = max(1, chunk_records)
        self._on_row = on_row
        self._media_sink = media_sink
        self._prev_step = -1
        self._keys = KeyCheck()
        self.columns = False  # set by the worker once a collector announced columns bodies

    def encode(self, records: list[Record]) -> list[Batch]:
        """Encode ``records`` (in order) into batches within the size limits."""
        out: list[Batch] = []
        for start in range(0, len(records), self._max_records):
            self._encode_group(records[start:start + self._max_records], out)
        return out

    def _encode_group(self, records: list[Record], out: list[Batch]) -> None:
        """One body's records; a refused key (``_wire.keys``) sends every chunk to the slow path."""
        if self.columns and self._encode_columns(records, out):
            return
        pieces: list[memoryview] = []
        clean: list[Record] = []
        keys = set().union(*map(_row_of, records))
        refused = bool(self._keys.bad(keys))
        for start in range(0, len(records), self._chunk_records):
            chunk = records[start:start + self._chunk_records]
            data, rows = encode_rows(chunk, self._counters, self._media_sink, slow=refused)
            refused = refused or rows is not chunk  # the key union no longer matches the rows
            if data:
                pieces.append(data)
                clean.extend(rows)
        size = sum(map(len, pieces)) + len(pieces) - 1
        if size > self._max_bytes and len(clean) > 1:
            half = len(clean) // 2
            self._encode_group(clean[:half], out)
            self._encode_group(clean[half:], out)
        elif clean:
            out.append(self._finish(pieces, clean, None if refused else len(keys)))

    def _encode_columns(self, records: list[Record], out: list[Batch]) -> bool:
        """Encode ``records`` as columns bodies (halved beyond ``max_bytes``); False, with no
        side effect, when the group does not qualify."""
        group = column_group(records, self._keys, self._chunk_records)
        if group is None:
            return False
        keys_json = orjson.dumps(group.keys)
        if len(self._prefix) + len(keys_json) + _HEADER_TAIL_BYTES > HEADER_MAX_BYTES:
            return False
        rows = len(records)
        if 8 * rows * (2 + len(group.keys)) > self._max_bytes and rows > 1:
            self._encode_group(records[:rows // 2], out)
            self._encode_group(records[rows // 2:], out)
            return True
        points, lo, hi = self._scan(records, len(group.keys))
        seq = self._next_seq()
        head = b"".join((self._prefix, str(seq).encode(), b',"keys":', keys_json, b',"rows":',
                         str(rows).encode(), b"}"))
        body = gzip_bytes(pack(head, group.steps, group.timestamps_ms, group.values))
        self._counters.columns_batches += 1
        out.append(Batch(new_batch_id(), seq, body, rows, points, lo, hi))
        return True

    def _finish(self, pieces: list[memoryview], rows: list[Record], key_count: int | None) -> Batch:
        """One body from the encoded chunks: a single join (one copy), one zlib call (one GIL
        release: every extra C call that releases the GIL is one more hand-off with the
        training thread)."""
        points, lo, hi = self._scan(rows, key_count)
        seq = self._next_seq()
        parts: list[bytes | memoryview] = [self._prefix, str(seq).encode(), b',"rows":[', pieces[0]]
        for piece in pieces[1:]:
            parts += (b",", piece)
        parts.append(b"]}")
        return Batch(new_batch_id(), seq, gzip_bytes(b"".join(parts)), len(rows), points, lo, hi)

    def _scan(self, records: list[Record], key_count: int | None) -> tuple[int, int, int]:
        """Points, lowest and highest step; counts steps lower than their predecessor (C loops).
        ``key_count``: the number of distinct keys of ``records`` when known."""
        rows = list(map(_row_of, records))
        steps = list(map(_step_of, records))
        previous = [self._prev_step, *steps[:-1]]
        self._counters.out_of_order_step_writes += sum(map(operator.lt, steps, previous))
        self._prev_step = steps[-1]
        if self._on_row is not None:
            report_rows(self._on_row, rows, key_count)
        return sum(map(len, rows)), min(steps), max(steps)


def report_rows(on_row: Callable[[dict[str, Any]], None], rows: list[dict[str, Any]],
                key_count: int | None = None) -> None:
    """Call ``on_row`` per row, or only with the last row when it holds every key of ``rows``
    (the usual case; ``key_count`` is their number of distinct keys when already known): for
    last-value tracking the result is the same."""
    if len(rows) > 1 and (key_count or len(set().union(*rows))) != len(rows[-1]):
        collections.deque(map(on_row, rows), maxlen=0)
    else:
        on_row(rows[-1])
