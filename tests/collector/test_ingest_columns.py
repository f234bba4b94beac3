"""Columnar metric bodies (ingest/columns.py), in process: any body gives the chunks, counts and
errors of the equivalent wide rows, and every malformed body is a 400 naming its field."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.ingest.columns import COLUMNS, chunks_from_columns
from rundial_collector.ingest.items import ItemErrors
from rundial_collector.ingest.rows import chunks_from_rows
from rundial_collector.ingest.schemas import METRICS, FloatRowsBody
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.web.errors import ApiError
from tests.helpers.columns_body import (columns_body, frame, padded_header, rows_as_columns,
                                        rows_as_json)

TARGET = {"projectId": "p", "runId": "r"}
STEPS = st.integers(-2, 6) | st.sampled_from([2**63 - 1, -(2**63)])
VALUES = st.floats(-1e6, 1e6) | st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308])


@st.composite
def uniform_rows(draw: st.DrawFn) -> list[tuple[int, int, dict[str, float]]]:
    keys = draw(st.lists(st.sampled_from(["a", "b", "c/d", "é"]), min_size=1, max_size=3,
                         unique=True))
    return [(draw(STEPS), draw(STEPS), {k: draw(VALUES) for k in keys})
            for _ in range(draw(st.integers(1, 30)))]


def json_rows(rows: list[tuple[int, int, dict[str, float]]]) -> bytes:
    return rows_as_json(TARGET, rows)


def _flat(chunks: list[SeriesChunk], accepted: int, errs: ItemErrors) -> tuple[Any, ...]:
    return ([(c.metric_key, c.rank, c.points.steps.tolist(),
              [repr(v) for v in c.points.values.tolist()], c.points.timestamps.tolist())
             for c in chunks], accepted, errs)


def _as_rows(raw: bytes) -> tuple[Any, ...]:
    body = METRICS.decode(raw)
    errs = ItemErrors()
    chunks, accepted = chunks_from_rows(body.rows, "p", "r", 3, errs,
                                        isinstance(body, FloatRowsBody))
    return _flat(chunks, accepted, errs)


def _as_columns(raw: bytes) -> tuple[Any, ...]:
    body = COLUMNS.decode(raw)
    errs = ItemErrors()
    chunks, accepted = chunks_from_columns(body, "p", "r", 3, errs)
    return _flat(chunks, accepted, errs)


@given(uniform_rows())
@settings(max_examples=250)
def test_columns_give_the_chunks_counts_and_errors_of_wide_rows(rows: Any) -> None:
    assert _as_columns(rows_as_columns(TARGET, rows)) == _as_rows(json_rows(rows))


def test_more_bad_rows_than_listed_errors_are_all_counted() -> None:
    rows = [(-1 if i % 2 else i, i, {"a": 1.0, "b": math.nan}) for i in range(60)]
    columns = _as_columns(rows_as_columns(TARGET, rows))
    assert columns == _as_rows(json_rows(rows))
    assert columns[1] == 30 and columns[2].rejected == 90 and len(columns[2].details) == 20


def test_chunks_share_one_steps_and_timestamps_array() -> None:
    """So the store computes the shared parts of their rows once (store/chunk_rows.py)."""
    body = COLUMNS.decode(columns_body(TARGET, ["a", "b"], [0, 1], [5, 6], [[1, 2], [3, 4]]))
    a, b = chunks_from_columns(body, "p", "r", None, ItemErrors())[0]
    assert a.points.steps is b.points.steps and a.points.timestamps is b.points.timestamps
    assert b.points.values.tolist() == [3.0, 4.0]


def test_header_fields_are_decoded() -> None:
    raw = columns_body({"workspace": "w", "project": "p", "runId": "r", "rank": 2,
                        "writerId": "x", "seq": 9, "clientDiagnostics": {"q": [1, 2.5]}},
                       ["k"], [1], [2], [[3.0]])
    header = COLUMNS.decode(raw).header
    assert (header.workspace, header.project, header.runId, header.rank, header.writerId,
            header.seq, header.clientDiagnostics) == ("w", "p", "r", 2, "x", 9, {"q": [1, 2.5]})


def _header(**fields: Any) -> bytes:
    return padded_header({"runId": "r", "keys": ["a"], "rows": 1, **fields})


ONE_ROW = bytes(24)
DEEP: Any = []
for _ in range(70):
    DEEP = [DEEP]
BAD_BODIES = {
    "empty": (b"", "body"),
    "short prefix": (b"RDC1\x08\x00", "body"),
    "bad magic": (frame(_header(), ONE_ROW, magic=b"RDC2"), "body"),
    "json inside": (b'{"runId":"r","rows":[[0,1,{"a":1}]]}', "body"),
    "gzip magic": (b"\x1f\x8b\x08\x00" + bytes(40), "body"),
    "H not multiple of 8": (frame(_header() + b"   ", ONE_ROW), "body"),
    "H over 64 KiB": (frame(_header(), ONE_ROW, header_length=65_544), "body"),
    "H past the end": (frame(_header(), b"", header_length=len(_header()) + 8), "body"),
    "H uint32 max": (frame(b"", b"", header_length=2**32 - 8), "body"),
    "truncated": (frame(_header(), ONE_ROW[:-1]), "body"),
    "extra bytes": (frame(_header(), ONE_ROW + bytes(8)), "body"),
    "header not JSON": (frame(b"{runId:  ", ONE_ROW), "body"),
    "header not UTF-8": (frame(b'{"runId":"\xff\xfe"}    ', ONE_ROW), "body"),
    "header NUL padded": (frame(b'{"runId":"r","keys":["a"],"rows":1}\x00\x00\x00\x00', ONE_ROW),
                          "body"),
    "header an array": (frame(b"[1,2,3] ", ONE_ROW), "body"),
    "header too deep": (frame(_header(clientDiagnostics=DEEP), ONE_ROW), "body"),
    "unknown field": (frame(_header(extra=1), ONE_ROW), "extra"),
    "keys missing": (frame(padded_header({"runId": "r", "rows": 1}), bytes(16)), "keys"),
    "keys empty": (frame(_header(keys=[]), bytes(16)), "keys"),
    "keys not strings": (frame(_header(keys=[1]), ONE_ROW), "keys[0]"),
    "keys a string": (frame(_header(keys="a"), ONE_ROW), "keys"),
    "keys duplicate": (frame(_header(keys=["a", "a"]), bytes(32)), "keys"),
    "key empty": (frame(_header(keys=["a", ""]), bytes(32)), "keys[1]"),
    "key with NUL": (frame(_header(keys=["a\x00"]), ONE_ROW), "keys[0]"),
    "key too long": (frame(_header(keys=["k" * 513]), ONE_ROW), "keys[0]"),
    "rows missing": (frame(padded_header({"runId": "r", "keys": ["a"]}), b""), "rows"),
    "rows zero": (frame(_header(rows=0), b""), "rows"),
    "rows negative": (frame(_header(rows=-1), b""), "rows"),
    "rows a float": (frame(_header(rows=1.0), ONE_ROW), "rows"),
    "rows huge": (frame(_header(rows=2**62), ONE_ROW), "body"),
    "rows beyond int64": (frame(_header(rows=2**64), ONE_ROW), "rows"),
    "rank negative": (frame(_header(rank=-1), ONE_ROW), "rank"),
    "runId not a string": (frame(_header(runId=5), ONE_ROW), "runId"),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_malformed_body_is_a_400_naming_its_field(name: str) -> None:
    raw, field = BAD_BODIES[name]
    with pytest.raises(ApiError) as caught:
        COLUMNS.decode(raw)
    assert (caught.value.status, caught.value.field) == (400, field), caught.value.message


def test_the_prefix_is_little_endian() -> None:
    header = _header()
    assert frame(header, ONE_ROW)[4:8] == struct.pack("<I", len(header))
    assert COLUMNS.decode(frame(header, ONE_ROW)).header.rows == 1
