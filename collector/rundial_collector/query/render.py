"""Render metric points and log rows as JSON or CSV bytes, without a Python object per point.

Numbers are formatted by orjson straight from the numpy arrays (shortest round-trip floats,
exactly what ``orjson.dumps(float)`` gives; NaN and ±inf as ``null``) and interleaved with the
constant field labels in numpy (:mod:`rundial_collector.query.row_bytes`); one ``bytes.join``
builds the result. The JSON pieces are embedded into replies with :class:`orjson.Fragment`.

CSV follows RFC 4180 (CRLF-free ``\\n`` lines, quotes doubled). Text cells that a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) get a leading
apostrophe; numeric cells are never altered.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from rundial_collector.query.row_bytes import rows_bytes
from rundial_collector.store.data_base import LogRow
from rundial_collector.store.series_math import Points

METRICS_CSV_HEADER = b"metricKey,step,timestampMs,value\n"
LOGS_CSV_HEADER = ("timestampMs", "sequence", "level", "message")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INLINE_RENDER_POINTS = 20_000  # a few ms of rendering: above this, pages render off the event loop
T = TypeVar("T")


def _rows(points: Points, labels: tuple[bytes, bytes, bytes], row_end: bytes) -> memoryview:
    """``labels[0] step labels[1] ts labels[2] value row_end`` for every point, as bytes."""
    return rows_bytes((labels[0], points.steps, labels[1], points.timestamps, labels[2],
                       points.values, row_end), len(points)).data


def _json_rows(points: Points, metric_key: str | None) -> memoryview:
    """JSON objects of ``points``, each followed by a comma (the caller drops the last one)."""
    head = b'{"step":' if metric_key is None else (
        b'{"metricKey":' + orjson.dumps(metric_key) + b',"step":')
    return _rows(points, (head, b',"timestampMs":', b',"value":'), b"},")


def _json_array(bodies: list[memoryview]) -> list[bytes | memoryview]:
    """``[`` the bodies, the final comma dropped ``]`` (``[]`` without rows), as pieces."""
    bodies = [body for body in bodies if len(body)]
    if bodies:
        bodies[-1] = bodies[-1][:-1]
    return [b"[", *bodies, b"]"]


def points_json(points: Points) -> orjson.Fragment:
    """``[{"step","timestampMs","value"}, …]`` as a fragment for an orjson reply."""
    return orjson.Fragment(b"".join(_json_array([_json_rows(points, None)])))


def export_rows_json(series: Sequence[tuple[str, Points]]) -> orjson.Fragment:
    """One flat JSON array of export rows ``{"metricKey", "step", "timestampMs", "value"}``."""
    return orjson.Fragment(b"".join(export_rows_text(series)))


def export_rows_text(series: Sequence[tuple[str, Points]]) -> list[bytes | memoryview]:
    """:func:`export_rows_json`'s text in pieces (for :func:`json_response_spliced`)."""
    return _json_array([_json_rows(points, key) for key, points in series if len(points)])


async def off_loop(points: int, render: Callable[..., T], *args: Any) -> T:
    """``render(*args)``, on a worker thread when the page holds more than
    :data:`INLINE_RENDER_POINTS` points, so a large export never stalls the event loop (the GIL's
    switch interval lets ingest requests interleave with the C-heavy rendering)."""
    if points <= INLINE_RENDER_POINTS:
        return render(*args)
    return await asyncio.get_running_loop().run_in_executor(None, render, *args)


def series_points(series: Sequence[tuple[str, Points]]) -> int:
    """How many points a page of series holds."""
    return sum(len(points) for _, points in series)


def csv_cell(text: str) -> str:
    """A text cell guarded against formula injection (quoting is the csv module's job)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _quoted(text: str) -> str:
    cell = csv_cell(text)
    if any(c in cell for c in ',"\n\r'):
        cell = '"' + cell.replace('"', '""') + '"'
    return cell


def metrics_csv(series: Sequence[tuple[str, Points]], header: bool) -> bytes:
    """``metricKey,step,timestampMs,value`` lines (with the header line when asked)."""
    out: list[bytes | memoryview] = [METRICS_CSV_HEADER] if header else []
    for key, points in series:
        out.append(_rows(points, ((_quoted(key) + ",").encode("utf-8"), b",", b","), b"\n"))
    return b"".join(out)


def log_row_dict(row: LogRow) -> dict[str, object]:
    return {"timestampMs": row.timestamp_ms, "sequence": row.sequence, "level": row.level,
            "message": row.message, "truncated": row.truncated}


def logs_csv(rows: Sequence[LogRow], header: bool) -> bytes:
    """``timestampMs,sequence,level,message`` lines (with the header line when asked)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(LOGS_CSV_HEADER)
    writer.writerows((r.timestamp_ms, r.sequence, r.level, csv_cell(r.message)) for r in rows)
    return buffer.getvalue().encode("utf-8")
