"""The metric renderers as they were before the numpy row assembly (#16 export figure): the
reference the product's renderers must match byte for byte (tests only, never the product).

Numbers come from orjson, split into one ``str`` per element and interleaved with the field
labels by list-slice assignment; one ``str.join`` builds the text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson

from rundial_collector.query.render import csv_cell
from rundial_collector.store.series_math import Points


def _numbers(array: np.ndarray) -> list[str]:
    text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[1:-1].decode("ascii").split(",")


def _interleave(points: Points, labels: tuple[str, str, str], row_end: str) -> str:
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
    head = '{"step":' if metric_key is None else (
        '{"metricKey":' + orjson.dumps(metric_key).decode() + ',"step":')
    return _interleave(points, (head, ',"timestampMs":', ',"value":'), "},")[:-1]


def points_json(points: Points) -> bytes:
    """``[{"step","timestampMs","value"}, …]``."""
    return ("[" + _rows_text(points, None) + "]").encode("utf-8")


def export_rows_json(series: Sequence[tuple[str, Points]]) -> bytes:
    """One flat JSON array of export rows."""
    bodies = [_rows_text(points, key) for key, points in series if len(points)]
    return ("[" + ",".join(bodies) + "]").encode("utf-8")


def _quoted(text: str) -> str:
    cell = csv_cell(text)
    if any(c in cell for c in ',"\n\r'):
        cell = '"' + cell.replace('"', '""') + '"'
    return cell


def metrics_csv(series: Sequence[tuple[str, Points]], header: bool) -> bytes:
    """``metricKey,step,timestampMs,value`` lines (with the header line when asked)."""
    out = ["metricKey,step,timestampMs,value\n"] if header else []
    for key, points in series:
        out.append(_interleave(points, (_quoted(key) + ",", ",", ","), "\n"))
    return "".join(out).encode("utf-8")
