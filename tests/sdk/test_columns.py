"""Columnar metric bodies: the RDC1 layout, reading it back, and when the encoder uses it."""

from __future__ import annotations

import itertools
import struct
from decimal import Decimal
from fractions import Fraction
import warnings
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rundial._diagnostics import Counters
from rundial._wire import columns
from rundial._wire.batch import Batch, BatchEncoder, gunzip_bytes
from rundial._wire.body import as_rows_body, body_meta, points_in, split_body

HEADER = {"projectId": "p", "runId": "r", "rank": 0, "writerId": "w"}
Record = tuple[int, int, dict[str, Any]]


def make_encoder(counters: Counters, *, on: bool = True, **limits: Any) -> BatchEncoder:
    seq = itertools.count(1)
    options = {"max_records": 5000, "max_bytes": 4 << 20, "chunk_records": 7, **limits}
    encoder = BatchEncoder(HEADER, counters, lambda: next(seq), **options)
    encoder.columns = on
    return encoder


def encode_both(records: list[Record], **limits: Any) -> tuple[list[Batch], list[Batch],
                                                               Counters, Counters]:
    """The same records through a columns-enabled encoder and a rows-only one."""
    on, off = Counters(), Counters()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (make_encoder(on, **limits).encode(records),
                make_encoder(off, on=False, **limits).encode(records), on, off)


def raw(batch: Batch) -> bytes:
    return gunzip_bytes(batch.body)


def doc_of(batch: Batch) -> dict[str, Any]:
    """The wide-rows document a batch means, whichever its format."""
    body = raw(batch)
    return columns.rows_doc(body) if columns.is_columns(body) else orjson.loads(body)


def as_floats(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with every row value as a float (a columns body carries float64 only)."""
    return {**doc, "rows": [[s, t, {k: float(v) for k, v in row.items()}]
                            for s, t, row in doc["rows"]]}


def uniform(rows: int, keys: int = 10) -> list[Record]:
    return [(i, 1_700_000_000_000 + i, {f"k{j}": i * 0.25 + j for j in range(keys)})
            for i in range(rows)]


def test_body_layout_matches_the_spec() -> None:
    """Magic, uint32 LE header length (multiple of 8, space-padded JSON), then int64 steps,
    int64 timestamps and float64 values key by key, all little-endian."""
    records = [(3, 100, {"a": 1.5, "b": 2}), (4, 101, {"a": -0.5, "b": True})]
    (batch,) = make_encoder(Counters()).encode(records)
    body = raw(batch)
    assert body[:4] == b"RDC1"
    (size,) = struct.unpack_from("<I", body, 4)
    assert size % 8 == 0
    header = orjson.loads(body[8:8 + size])
    assert body[8:8 + size].rstrip(b" ") == orjson.dumps(header)
    assert header == {**HEADER, "seq": 1, "keys": ["a", "b"], "rows": 2}
    arrays = body[8 + size:]
    assert struct.unpack("<2q2q4d", arrays) == (3, 4, 100, 101, 1.5, -0.5, 2.0, 1.0)
    assert (batch.records, batch.points, batch.first_step, batch.last_step) == (2, 4, 3, 4)


finite = st.floats(allow_nan=False, allow_infinity=False)
values = st.one_of(finite, st.integers(min_value=-(2**53), max_value=2**53), st.booleans())


@st.composite
def uniform_records(draw: st.DrawFn) -> list[Record]:
    key = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                  min_size=1, max_size=8)  # valid keys: no NUL, no lone surrogate
    keys = draw(st.lists(key, min_size=1, max_size=6, unique=True))
    count = draw(st.integers(min_value=1, max_value=30))
    steps = draw(st.lists(st.integers(min_value=0, max_value=2**63 - 1), min_size=count,
                          max_size=count))
    stamps = draw(st.lists(st.integers(min_value=0, max_value=2**63 - 1), min_size=count,
                           max_size=count))
    return [(step, ts, {k: draw(values) for k in draw(st.permutations(keys))})
            for step, ts in zip(steps, stamps)]


@given(uniform_records())
def test_columns_mean_exactly_what_the_rows_body_says(records: list[Record]) -> None:
    """Uniform clean records: the columns body read back as rows equals the rows encoder's body
    (values compared as floats), with the same Batch fields and counters."""
    on_batches, off_batches, on, off = encode_both(records)
    assert [columns.is_columns(raw(b)) for b in on_batches] == [True] * len(on_batches)
    got = [as_floats(columns.rows_doc(raw(b))) for b in on_batches]
    expected = [as_floats(orjson.loads(raw(b))) for b in off_batches]
    assert got == expected
    fields = [(b.seq, b.records, b.points, b.first_step, b.last_step) for b in on_batches]
    assert fields == [(b.seq, b.records, b.points, b.first_step, b.last_step) for b in off_batches]
    assert on.out_of_order_step_writes == off.out_of_order_step_writes
    assert on.columns_batches == len(on_batches) and off.columns_batches == 0


@pytest.mark.parametrize("odd", [
    {"k1": 1.0},  # a ragged row: fewer keys
    {"k0": 1.0, "k1": 2.0, "k2": 3.0},  # more keys
    {"k0": 1.0, "zz": 2.0},  # same count, another key
    {"k0": float("nan"), "k1": 1.0},
    {"k0": float("inf"), "k1": 1.0},
    {"k0": "text", "k1": 1.0},
    {"k0": None, "k1": 1.0},
    {"k0": [1.0], "k1": 1.0},
    {"k0": 2**1100, "k1": 1.0},  # an int beyond float64
    {"k0": Decimal("0.5"), "k1": 1.0},  # a number that does not add to a Python float
])
def test_a_group_that_is_not_uniform_and_clean_goes_as_rows_unchanged(odd: dict[str, Any]) -> None:
    """One odd row anywhere sends the whole group down today's rows path, with today's drops."""
    records = [(i, 0, {"k0": float(i), "k1": 0.5}) for i in range(20)]
    records[11] = (11, 0, odd)
    on_batches, off_batches, on, off = encode_both(records)
    assert [raw(b) [:1] for b in on_batches] == [b"{"]
    assert orjson.loads(raw(on_batches[0]))["rows"] == orjson.loads(raw(off_batches[0]))["rows"]
    assert on.dropped == off.dropped and on.non_finite == off.non_finite
    assert on.columns_batches == 0


def test_a_number_that_adds_to_a_python_float_travels_as_its_float_value_either_way() -> None:
    """A ``Fraction`` among floats sums to a float, so its group may go as columns: the value
    sent is ``float(value)``, as the wide-rows path sends it."""
    records: list[Record] = [(s, 0, {"a": 0.5 * s, "b": Fraction(s, 3) if s % 2 else s / 3})
                             for s in range(10)]  # with floats, Fractions sum to a float
    on_batches, off_batches, _on, _off = encode_both(records)
    assert [as_floats(doc_of(b)) for b in on_batches] == [as_floats(doc_of(b)) for b in off_batches]
    assert any(columns.is_columns(raw(b)) for b in on_batches)


@pytest.mark.parametrize("records", [
    [(0, 0, {"": 1.0})],  # a key the collector refuses
    [(0, 0, {"k" * 513: 1.0})],
    [(0, 0, {"a\x00b": 1.0})],  # a wide row loses that key's points; a columns body all
    [(-1, 0, {"a": 1.0})],  # steps must be 0..2**63-1
    [(2**63, 0, {"a": 1.0})],
    [(0, 2**63, {"a": 1.0})],  # timestamps must fit int64
])
def test_refused_keys_and_out_of_range_steps_use_the_rows_path(records: list[Record]) -> None:
    on_batches, off_batches, on, off = encode_both(records)
    assert [raw(b) for b in on_batches] == [raw(b) for b in off_batches]
    assert on.dropped == off.dropped and on.columns_batches == 0


@pytest.mark.parametrize("position", [0, 5, 9])
@pytest.mark.parametrize("kind", ["float32", "float64", "int64", "bool_"])
def test_numpy_scalars_use_rows_so_the_stored_value_does_not_depend_on_the_format(
        kind: str, position: int) -> None:
    """Wide rows write a numpy.float32 in its short float32 form (0.1, where float64 says
    0.10000000149011612): a group holding any NumPy scalar, anywhere, stays on wide rows."""
    np = pytest.importorskip("numpy")
    records: list[Record] = [(s, 0, {"a": 0.1 * s, "b": 1.0}) for s in range(10)]
    records[position][2]["a"] = getattr(np, kind)(0.1 if kind.startswith("float") else 1)
    on_batches, off_batches, on, _off = encode_both(records)
    assert [raw(b) for b in on_batches] == [raw(b) for b in off_batches]
    assert on.columns_batches == 0


def test_byte_and_record_limits_halve_columns_bodies_in_order() -> None:
    records = uniform(100, keys=10)
    batches = make_encoder(Counters(), max_bytes=8 * 30 * 12, max_records=64).encode(records)
    assert all(columns.is_columns(raw(b)) for b in batches)
    assert all(len(raw(b)) - 8 - struct.unpack_from("<I", raw(b), 4)[0] <= 8 * 30 * 12
               for b in batches)
    steps = [row[0] for b in batches for row in columns.rows_doc(raw(b))["rows"]]
    assert steps == list(range(100))
    assert [b.seq for b in batches] == list(range(1, len(batches) + 1))


def test_last_values_are_reported_as_on_the_rows_path() -> None:
    last: dict[str, Any] = {}
    seq = itertools.count(1)
    encoder = BatchEncoder(HEADER, Counters(), lambda: next(seq), max_records=5000,
                           max_bytes=4 << 20, chunk_records=3, on_row=last.update)
    encoder.columns = True
    encoder.encode([(i, 0, {"a": float(i), "b": True}) for i in range(10)])
    assert last == {"a": 9.0, "b": True}


def test_meta_split_and_rows_conversion_of_a_gzipped_columns_body() -> None:
    (batch,) = make_encoder(Counters()).encode([(s, 0, {"a": s, "b": -s}) for s in (5, 2, 9, 7, 1)])
    assert body_meta(batch.body) == ("r", 10, 1, 9)
    assert points_in(batch.body) == 10
    halves = split_body(batch.body)
    assert halves is not None
    assert [body_meta(h) for h in halves] == [("r", 4, 2, 5), ("r", 6, 1, 9)]
    assert all(columns.is_columns_body(h) for h in halves)
    rows = orjson.loads(gunzip_bytes(as_rows_body(batch.body)))
    assert rows == {**HEADER, "seq": 1, "rows": [[s, 0, {"a": float(s), "b": float(-s)}]
                                                 for s in (5, 2, 9, 7, 1)]}
    (single,) = make_encoder(Counters()).encode([(0, 0, {"a": 1.0})])
    assert split_body(single.body) is None
    with pytest.raises(ValueError, match="not a columns body"):
        as_rows_body(make_encoder(Counters(), on=False).encode([(0, 0, {"a": 1.0})])[0].body)


def test_header_fields_are_replaced_or_added_first_keeping_the_arrays() -> None:
    (batch,) = make_encoder(Counters()).encode(uniform(5, keys=3))
    body = raw(batch)
    changed = columns.with_fields(body, {"runId": "other", "clientDiagnostics": {"queueDepth": 3}})
    layout = columns.read_layout(changed)
    assert list(layout.header) == ["clientDiagnostics", *HEADER, "seq"]
    assert layout.header["runId"] == "other"
    assert columns.unpack(changed).values == columns.unpack(body).values
    with pytest.raises(ValueError, match="over 65536"):
        columns.with_fields(body, {"clientDiagnostics": {"x" * 70_000: 1}})


def _body(header: bytes, arrays: bytes = b"", size: int | None = None) -> bytes:
    padded = header.ljust(-(-len(header) // 8) * 8, b" ")
    return b"RDC1" + struct.pack("<I", len(padded) if size is None else size) + padded + arrays


@pytest.mark.parametrize("body, problem", [
    (b"{\"rows\": []}", "bad magic"),
    (b"RDC1", "bad magic"),
    (_body(b'{"keys":["a"],"rows":1}', size=12), "header length"),
    (_body(b'{"keys":["a"],"rows":1}', size=65_544), "header length"),
    (_body(b"[1, 2]", struct.pack("<3q", 0, 0, 0)), "not a JSON object"),
    (_body(b"{nope", struct.pack("<3q", 0, 0, 0)), "not JSON"),
    (_body(b'{"keys":[],"rows":1}'), "keys must be"),
    (_body(b'{"keys":["a","a"],"rows":1}', struct.pack("<4q", 0, 0, 0, 0)), "keys must be"),
    (_body(b'{"keys":[1],"rows":1}', struct.pack("<3q", 0, 0, 0)), "keys must be"),
    (_body(b'{"keys":["a"],"rows":0}'), "rows must be"),
    (_body(b'{"keys":["a"],"rows":true}', struct.pack("<3q", 0, 0, 0)), "rows must be"),
    (_body(b'{"keys":["a"],"rows":2}', struct.pack("<3q", 0, 0, 0)), "does not match"),
    (_body(b'{"keys":["a"],"rows":1}', struct.pack("<4q", 0, 0, 0, 0)), "does not match"),
])
def test_malformed_bodies_raise_value_error(body: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        columns.unpack(body)
    with pytest.raises(ValueError, match=problem):
        columns.meta(body)


def test_sniffing_a_gzipped_body_reads_only_its_start() -> None:
    (cols,) = make_encoder(Counters()).encode(uniform(3))
    (rows,) = make_encoder(Counters(), on=False).encode(uniform(3))
    assert columns.is_columns_body(cols.body) and not columns.is_columns_body(rows.body)
    assert not columns.is_columns_body(b"not gzip at all")
    assert not columns.is_columns_body(cols.body[:5])


def test_the_sdk_encodes_byte_for_byte_what_the_collector_tests_encoder_builds() -> None:
    """An independent encoder (tests/helpers/columns_body.py, written from the format's text
    for the collector's tests) produces the same bytes for the same rows."""
    pytest.importorskip("numpy")
    from tests.helpers.columns_body import rows_as_columns

    records = [(s, 1_700_000_000_000 + s, {"loss": 1.0 / (s + 1), "acc": s / 7, "lr": 3e-4})
               for s in range(7)]
    (batch,) = make_encoder(Counters()).encode(records)
    assert raw(batch) == rows_as_columns({**HEADER, "seq": 1}, records)
