"""Encoding: wide rows, chunk and size limits, gzip level 1, value validation in the worker."""

from __future__ import annotations

import gzip
import itertools
import json
import warnings
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rundial._diagnostics import Counters
from rundial._wire import batch
from rundial._wire.batch import BatchEncoder
from rundial._wire.body import body_meta, split_body


def make_encoder(counters: Counters, **limits: Any) -> BatchEncoder:
    seq = itertools.count(1)
    options = {"max_records": 5000, "max_bytes": 4 << 20, "chunk_records": 2000, **limits}
    return BatchEncoder({"projectId": "p", "runId": "r", "writerId": "w"}, counters,
                        lambda: next(seq), **options)


def encode_quietly(counters: Counters, records: list[Any]) -> list[Any]:
    """Encode with a fresh encoder, silencing the drop warnings (tests assert the counters)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_encoder(counters).encode(records)


def decode(body: bytes) -> dict[str, Any]:
    return json.loads(gzip.decompress(body))


def test_body_is_gzip_wide_rows_with_header_and_seq() -> None:
    """One body: the header fields, ``seq`` and one ``[step, ts, {..}]`` row per log call."""
    counters = Counters()
    batches = make_encoder(counters).encode([(0, 10, {"a": 1.5, "b": 2}), (1, 11, {"a": 2.5})])
    assert len(batches) == 1
    doc = decode(batches[0].body)
    assert doc == {"projectId": "p", "runId": "r", "writerId": "w", "seq": 1,
                   "rows": [[0, 10, {"a": 1.5, "b": 2}], [1, 11, {"a": 2.5}]]}
    assert (batches[0].points, batches[0].first_step, batches[0].last_step) == (3, 0, 1)
    assert batches[0].body[:2] == b"\x1f\x8b"


def test_gzip_is_level_one() -> None:
    """Bodies are ``zlib.compress(data, 1, wbits=31)``."""
    data = b'{"x": 1}' * 1000
    assert batch.gzip_bytes(data) == zlib.compress(data, 1, wbits=31)


def test_record_and_byte_limits_split_bodies() -> None:
    """At most ``max_records`` rows and ``max_bytes`` uncompressed bytes per body, order kept."""
    counters = Counters()
    records = [(i, i, {"k": float(i)}) for i in range(23)]
    batches = make_encoder(counters, max_records=10, chunk_records=3).encode(records)
    assert [b.records for b in batches] == [10, 10, 3]
    rows = [r for b in batches for r in decode(b.body)["rows"]]
    assert [r[0] for r in rows] == list(range(23))
    small = make_encoder(counters, max_bytes=1024).encode([(i, i, {"k" * 50: 1.0}) for i in range(40)])
    assert len(small) > 1
    assert all(len(gzip.decompress(b.body)) <= 1024 + 200 for b in small)
    assert sum(b.records for b in small) == 40


def test_non_finite_values_are_dropped_counted_per_key_and_warned_once() -> None:
    """NaN/inf go, counted per key; one RuntimeWarning per key; the rest of the row stays."""
    counters = Counters()
    encoder = make_encoder(counters)
    with pytest.warns(RuntimeWarning) as caught:
        batches = encoder.encode([(0, 0, {"a": float("nan"), "b": 1.0}),
                                  (1, 0, {"a": float("inf")}), (2, 0, {"c": -float("inf")})])
    assert len([w for w in caught if "'a'" in str(w.message)]) == 1
    assert counters.non_finite == {"a": 2, "c": 1}
    assert counters.dropped["non_finite"] == 3
    assert decode(batches[0].body)["rows"] == [[0, 0, {"b": 1.0}]]


def test_bools_become_ints_and_non_numbers_are_dropped_as_invalid() -> None:
    """Bools are sent as 0/1; strings, None, lists and non-str keys are dropped and counted."""
    counters = Counters()
    batches = encode_quietly(
        counters, [(0, 0, {"ok": True, "s": "x", "n": None, "l": [1], 3: 1.0, "big": 2**70})])
    row = decode(batches[0].body)["rows"][0][2]
    assert row == {"ok": 1, "big": float(2**70)}
    assert counters.dropped["invalid"] == 4


def test_keys_the_collector_refuses_are_dropped_counted_and_warned_once_per_key() -> None:
    """#13.6: the empty key and keys over 512 characters go (counted as invalid, one warning per
    key, also in later bodies); a 512-character key and the rest of the row stay."""
    counters = Counters()
    encoder = make_encoder(counters)
    longest, too_long = "k" * 512, "k" * 513
    records = [(0, 0, {"": 1.0, too_long: 2.0, longest: 3.0, "ok": 4.0})]
    with pytest.warns(RuntimeWarning) as caught:
        first = encoder.encode(records)
    assert len(caught) == 2 and all("collector" in str(w.message) for w in caught)
    assert decode(first[0].body)["rows"] == [[0, 0, {longest: 3.0, "ok": 4.0}]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = encoder.encode([(1, 0, {"": 1.0, too_long: 2.0, "ok": 5.0})])
    assert decode(second[0].body)["rows"] == [[1, 0, {"ok": 5.0}]]
    assert counters.dropped["invalid"] == 4


@pytest.mark.parametrize("columns", [False, True])
def test_a_key_with_a_lone_surrogate_is_dropped_counted_and_warned(columns: bool) -> None:
    """A key that has no UTF-8 form cannot travel in any body: it is dropped as invalid (one
    warning), the rest of its rows are sent, on the rows path and after columns were announced;
    the encoder never raises."""
    counters = Counters()
    encoder = make_encoder(counters)
    if columns:
        encoder.columns = True
    records = [(step, 0, {"ok": float(step), "bad\ud800": 1.0}) for step in range(3)]
    with pytest.warns(RuntimeWarning, match="lone surrogate") as caught:
        batches = encoder.encode(records)
    assert len(caught) == 1
    assert [row[2] for row in decode(batches[0].body)["rows"]] == [{"ok": 0.0}, {"ok": 1.0},
                                                                  {"ok": 2.0}]
    assert counters.dropped["invalid"] == 3 and counters.columns_batches == 0


def test_numpy_scalars_encode_on_the_fast_path() -> None:
    """numpy floats and ints are JSON numbers; a numpy NaN is dropped like a float NaN."""
    np = pytest.importorskip("numpy")
    counters = Counters()
    batches = encode_quietly(
        counters, [(0, 0, {"a": np.float64(0.5), "b": np.float32(0.25), "c": np.int64(3)}),
                   (1, 0, {"a": np.float64("nan")})])
    assert decode(batches[0].body)["rows"] == [[0, 0, {"a": 0.5, "b": 0.25, "c": 3}]]
    assert counters.non_finite == {"a": 1}


@pytest.mark.parametrize("value, expected", [
    ("text", None), (None, None), ([1.0], None), ({"x": 1.0}, None), (True, 1), (False, 0),
    (float("nan"), None), (-float("inf"), None), (2**64, float(2**64)), (7, 7), (-0.5, -0.5),
])
def test_each_kind_of_value_alone_takes_the_right_path(value: Any, expected: Any) -> None:
    """A chunk whose only odd value is ``value`` is cleaned exactly like the row-by-row path."""
    counters = Counters()
    batches = encode_quietly(counters, [(0, 0, {"v": value, "keep": 1.0})])
    row = decode(batches[0].body)["rows"][0][2]
    assert row == ({"keep": 1.0} if expected is None else {"v": expected, "keep": 1.0})


def test_numpy_arrays_and_bools_leave_the_fast_path() -> None:
    """orjson writes numpy arrays as lists and numpy bools as true/false: both are cleaned."""
    np = pytest.importorskip("numpy")
    counters = Counters()
    batches = encode_quietly(counters,
                             [(0, 0, {"arr": np.arange(3.0), "flag": np.bool_(True)})])
    assert decode(batches[0].body)["rows"] == [[0, 0, {"flag": 1.0}]]
    assert counters.dropped["invalid"] == 1


def test_keys_that_look_like_json_markers_are_kept() -> None:
    """A key containing ``":n`` etc. only sends its chunk down the slow path; nothing is lost."""
    counters = Counters()
    keys = ['a":n', 'b":true', 'c":"', 'd":[', 'e":{']
    batches = make_encoder(counters).encode([(0, 0, {k: 1.0 for k in keys})])
    assert decode(batches[0].body)["rows"] == [[0, 0, {k: 1.0 for k in keys}]]
    assert not counters.dropped


def test_a_step_beyond_int64_is_dropped_not_sent() -> None:
    """orjson would write a u64 step; the collector stores int64, so the row is dropped."""
    counters = Counters()
    batches = encode_quietly(counters, [(2**63, 0, {"a": 1.0}), (1, 0, {"a": 2.0})])
    assert decode(batches[0].body)["rows"] == [[1, 0, {"a": 2.0}]]
    assert counters.dropped["invalid"] == 1


@given(st.lists(st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70), st.booleans(),
              st.none(), st.text(max_size=3), st.lists(st.floats(), max_size=2)), min_size=1),
    min_size=1, max_size=8))
def test_fast_path_matches_row_by_row_cleaning(rows: list[dict[str, Any]]) -> None:
    """Whatever the values, the body holds exactly what :func:`clean_row` keeps of each row."""
    counters = Counters()
    records = [(i, 0, row) for i, row in enumerate(rows)]
    batches = encode_quietly(counters, records)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [[i, 0, clean] for i, row in enumerate(rows)
                    if (clean := batch.clean_row(row, Counters()))]
    got = [r for b in batches for r in decode(b.body)["rows"]]
    assert got == json.loads(json.dumps(expected))


def test_out_of_order_steps_are_counted_across_batches() -> None:
    """A step lower than the one before is allowed and counted."""
    counters = Counters()
    encoder = make_encoder(counters)
    encoder.encode([(5, 0, {"a": 1}), (3, 0, {"a": 1})])
    encoder.encode([(2, 0, {"a": 1})])
    assert counters.out_of_order_step_writes == 2


def test_split_body_halves_the_rows_and_keeps_the_header() -> None:
    """A 413 split gives two bodies with the same header and half the rows each."""
    body = make_encoder(Counters()).encode([(i, 0, {"a": i}) for i in range(5)])[0].body
    halves = split_body(body)
    assert halves is not None
    left, right = decode(halves[0]), decode(halves[1])
    assert [r[0] for r in left["rows"]] == [0, 1] and [r[0] for r in right["rows"]] == [2, 3, 4]
    assert left["runId"] == right["runId"] == "r"
    single = make_encoder(Counters()).encode([(0, 0, {"a": 1})])[0].body
    assert split_body(single) is None
    assert body_meta(body) == ("r", 5, 0, 4)


def test_last_values_are_tracked_whether_or_not_rows_share_their_keys() -> None:
    """``on_row`` sees enough rows that a dict updated with them holds each key's last value."""
    seq = itertools.count(1)
    for records in ([(i, 0, {"a": float(i), "b": -float(i)}) for i in range(50)],
                    [(0, 0, {"a": 1.0, "only_first": 9.0}), (1, 0, {"a": 2.0}),
                     (2, 0, {"b": 3.0}), (3, 0, {"a": 4.0, "b": 5.0})]):
        last: dict[str, Any] = {}
        BatchEncoder({"runId": "r"}, Counters(), lambda: next(seq), max_records=5000,
                     max_bytes=4 << 20, chunk_records=7, on_row=last.update).encode(records)
        expected: dict[str, Any] = {}
        for _, _, row in records:
            expected.update(row)
        assert last == expected
