"""The ingest benchmarks' columns bodies (benchmarks/collector_ingest.py, ingest_writers.py) carry
exactly the points of their wide-rows twins, so the formats' figures compare like with like."""

from __future__ import annotations

import zlib
from typing import Any

from benchmarks.collector_ingest import columns_batch, wide_batch
from benchmarks.ingest_writers import WriterPlan, _writer_body
from rundial_collector.ingest.columns import COLUMNS, chunks_from_columns
from rundial_collector.ingest.items import ItemErrors
from rundial_collector.ingest.rows import chunks_from_rows
from rundial_collector.ingest.schemas import METRICS
from tests.helpers.columns_body import CONTENT_TYPE


def _chunks(gz: bytes, columns: bool) -> list[Any]:
    raw = zlib.decompress(gz, wbits=31)
    errs = ItemErrors()
    if columns:
        chunks, _ = chunks_from_columns(COLUMNS.decode(raw), "p", "r", None, errs)
    else:
        chunks, _ = chunks_from_rows(METRICS.decode(raw).rows, "p", "r", None, errs)
    assert errs.rejected == 0
    return [(c.metric_key, c.points.steps.tolist(), c.points.values.tolist(),
             c.points.timestamps.tolist()) for c in chunks]


def test_the_throughput_batches_hold_the_same_points() -> None:
    rows = _chunks(wide_batch("p", "r", 1_000), columns=False)
    assert len(rows) == 10 and len(rows[0][1]) == 500
    assert _chunks(columns_batch("p", "r", 1_000), columns=True) == rows


def test_the_writers_bodies_hold_the_same_points() -> None:
    plans = [WriterPlan(1, "k", "p", 0.0, 1.0, 0.0, 50, fmt) for fmt in ("rows", "columns")]
    (rows, json_type), (columns, columns_type) = (_writer_body(p, "r", 100) for p in plans)
    assert (json_type, columns_type) == ("application/json", CONTENT_TYPE)
    assert _chunks(columns, columns=True) == _chunks(rows, columns=False)
