"""Paged exports of a run's metrics or logs to CSV, JSON or Parquet.

Contract: rows are written to a temp file next to ``--out`` (``.<name>.tmp.<pid>``) and renamed
over ``--out`` only after the last page, so ``--out`` is either the complete export or untouched;
on any failure the temp file is removed and the error propagates. Parquet needs ``pyarrow``; its
absence is reported (exit 1) before any request is made.

Files: CSV has the published headers (``metricKey,step,timestampMs,value`` and
``timestampMs,sequence,level,message``); text cells that a spreadsheet would run as a formula
(leading ``= + - @``, tab or CR) get a leading apostrophe, numbers never do. JSON is the
published layout ``{"endMs","type","version":1,"projectId","runId","startMs","rows":[…],
"export":{"pageCount","truncatedByPageLimit":false}}`` with sorted row keys.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
from pathlib import Path
from typing import Any, Protocol, TextIO

from rundial.cli._errors import CliError

__all__ = ["COLUMNS", "Exporter", "open_writer", "require_format"]

COLUMNS = {"metrics": ["metricKey", "step", "timestampMs", "value"],
           "logs": ["timestampMs", "sequence", "level", "message"]}
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def require_format(fmt: str) -> None:
    """Fail early (exit 1) when ``parquet`` is asked for and pyarrow is not installed."""
    if fmt == "parquet":
        try:
            importlib.import_module("pyarrow.parquet")
        except ImportError:
            raise CliError("--format parquet needs pyarrow, which is not installed: "
                           "`pip install pyarrow`, or use --format csv or json") from None


class Exporter(Protocol):
    """Writes pages of rows, then closes the file."""

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Append rows."""

    def finish(self, page_count: int) -> None:
        """Write any trailer and close."""


def safe_cell(value: object) -> object:
    """A CSV cell: numbers as they are, formula-like text prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


class CsvExporter:
    """CSV with the published header for ``kind``."""

    def __init__(self, fh: TextIO, kind: str) -> None:
        self._fh = fh
        self._columns = COLUMNS[kind]
        self._writer = csv.writer(fh, lineterminator="\n")
        self._writer.writerow(self._columns)

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._writer.writerows([safe_cell(row.get(c)) for c in self._columns] for row in rows)

    def finish(self, page_count: int) -> None:
        self._fh.close()


class JsonExporter:
    """The published JSON export document, streamed row by row."""

    def __init__(self, fh: TextIO, header: dict[str, Any]) -> None:
        self._fh = fh
        self._first = True
        fh.write('{"endMs":%s,"type":%s,"version":1,"projectId":%s,"runId":%s,"startMs":%s,'
                 '"rows":[' % tuple(json.dumps(header[k]) for k in
                                    ("endMs", "type", "projectId", "runId", "startMs")))

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._fh.write(("" if self._first else ",") + json.dumps(row, sort_keys=True))
            self._first = False

    def finish(self, page_count: int) -> None:
        self._fh.write('],"export":{"pageCount":%d,"truncatedByPageLimit":false}}\n' % page_count)
        self._fh.close()


class ParquetExporter:
    """One Parquet row group per page, columns typed from the published CSV columns."""

    def __init__(self, path: Path, kind: str) -> None:
        self._pa = importlib.import_module("pyarrow")
        self._pq = importlib.import_module("pyarrow.parquet")
        pa = self._pa
        types = {"metricKey": pa.string(), "step": pa.int64(), "timestampMs": pa.int64(),
                 "value": pa.float64(), "sequence": pa.int64(), "level": pa.string(),
                 "message": pa.string()}
        self._schema = pa.schema([(c, types[c]) for c in COLUMNS[kind]])
        self._writer = self._pq.ParquetWriter(str(path), self._schema)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            columns = {c: [row.get(c) for row in rows] for c in self._schema.names}
            self._writer.write_table(self._pa.Table.from_pydict(columns, schema=self._schema))

    def finish(self, page_count: int) -> None:
        self._writer.close()


def temp_path(out: Path) -> Path:
    """The temp file an export is written to before the final rename."""
    return out.with_name(f".{out.name}.tmp.{os.getpid()}")


def open_writer(fmt: str, tmp: Path, header: dict[str, Any]) -> Exporter:
    """An exporter writing ``fmt`` to ``tmp``; ``header`` has type, ids and the window."""
    if fmt == "parquet":
        return ParquetExporter(tmp, header["type"])
    fh = open(tmp, "w", encoding="utf-8", newline="")
    return CsvExporter(fh, header["type"]) if fmt == "csv" else JsonExporter(fh, header)
