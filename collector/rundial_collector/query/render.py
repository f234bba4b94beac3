"""Render metric points and log rows as JSON or CSV bytes, without a Python object per point.

Numbers are formatted by orjson straight from the numpy arrays (shortest round-trip floats,
exactly what ``orjson.dumps(float)`` gives), split once, and interleaved with constant field
labels by list-slice assignment; one ``str.join`` builds the result. The JSON pieces are
embedded into replies with :class:`orjson.Fragment`.

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

import numpy as np
import orjson

from rundial_collector.store.data_base import LogRow
from rundial_collector.store.series_math import Points

METRICS_CSV_HEADER = "metricKey,step,timestampMs,value\n"
LOGS_CSV_HEADER = ("timestampMs", "sequence", "level", "message")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INLINE_RENDER_POINTS = 20_000  # ~15 ms of rendering: above this, pages render off the event loop
T = TypeVar("T")


def _numbers(array: np.ndarray) -> list[str]:
    """Each element's JSON text (``str`` pieces: ``str.join`` is ~3x faster than bytes')."""
    text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].decode("ascii").split(",")


def _interleave(points: Points, labels: tuple[str, str, str], row_end: str) -> str:
    """``labels[0] step labels[1] ts labels[2] value row_end`` for every point, joined."""
    n = len(points)
    if n == 0:
        return ""
    parts: list[str] = [""] * (7 * n)
    parts[0::7] = [labels[0]] * n
    parts[1::7] = _numbers(points.steps)
    parts[2::7] = [labels[1]] * n
    parts[3::7] = _numbers(points.timestamps)
    parts[4::7] = [labels[2]] * n
    parts[5::7] = _numbers(points.values)
    parts[6::7] = [row_end] * n
    return "".join(parts)


def _rows_text(points: Points, metric_key: str | None) -> str:
    """JSON objects of ``points`` separated by commas (no brackets, no trailing comma)."""
    head = '{"step":' if metric_key is None else (
        '{"metricKey":' + orjson.dumps(metric_key).decode() + ',"step":')
    return _interleave(points, (head, ',"timestampMs":', ',"value":'), "},")[:-1]


def points_json(points: Points) -> orjson.Fragment:
    """``[{"step","timestampMs","value"}, …]`` as a fragment for an orjson reply."""
    return orjson.Fragment(("[" + _rows_text(points, None) + "]").encode("utf-8"))


def export_rows_json(series: Sequence[tuple[str, Points]]) -> orjson.Fragment:
    """One flat JSON array of export rows ``{"metricKey", "step", "timestampMs", "value"}``."""
    bodies = [_rows_text(points, key) for key, points in series if len(points)]
    return orjson.Fragment(("[" + ",".join(bodies) + "]").encode("utf-8"))


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
    out = [METRICS_CSV_HEADER] if header else []
    for key, points in series:
        out.append(_interleave(points, (_quoted(key) + ",", ",", ","), "\n"))
    return "".join(out).encode("utf-8")


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
