"""The numpy row renderers give byte for byte what the reference renderers (one ``str`` per
number, tests/helpers/render_reference.py) gave, for any points and keys (#16 export)."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rundial_collector.query import render
from rundial_collector.query.row_bytes import rows_bytes
from rundial_collector.store.series_math import Points
from rundial_collector.web.responses import spliced_json
from tests.helpers import render_reference as reference

INT64 = st.integers(-2**63, 2**63 - 1)
# small and huge magnitudes, so one page mixes number widths; NaN, ±inf, -0.0, subnormals
SPECIAL = st.sampled_from([0.0, -0.0, float("nan"), float("inf"), float("-inf"), 5e-324,
                           -1.7976931348623157e308, 1e16, 1e-7, 123456789012.5])
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), SPECIAL,
                   st.integers(-10**6, 10**6).map(float))
STEPS = st.one_of(INT64, st.integers(-9, 9), st.integers(0, 10**7))
KEYS = st.one_of(st.text(max_size=12), st.sampled_from(
    ["train/loss", "", "=SUM(A1)", "-x", "a,b", 'q"u"o', "line\nbreak", "nul\x00", "é/ü→",
     "\t"]))


@st.composite
def point_sets(draw: st.DrawFn) -> Points:
    """Points of 0-60 elements, sometimes as a reversed (non-contiguous) view."""
    n = draw(st.integers(0, 60))
    steps = draw(hnp.arrays(np.int64, n, elements=STEPS))
    values = draw(hnp.arrays(np.float64, n, elements=VALUES))
    stamps = draw(hnp.arrays(np.int64, n, elements=st.one_of(INT64, st.integers(0, 2**41))))
    points = Points(steps, values, stamps)
    return points.take(slice(None, None, -1)) if draw(st.booleans()) else points


SERIES = st.lists(st.tuples(KEYS, point_sets()), max_size=4)


@settings(max_examples=100, deadline=None)
@given(SERIES)
def test_export_rows_json_matches_the_reference(series: list[tuple[str, Points]]) -> None:
    assert orjson.dumps(render.export_rows_json(series)) == reference.export_rows_json(series)


@settings(max_examples=200, deadline=None)
@given(point_sets())
def test_points_json_matches_the_reference(points: Points) -> None:
    assert orjson.dumps(render.points_json(points)) == reference.points_json(points)


@settings(max_examples=100, deadline=None)
@given(SERIES, st.booleans())
def test_metrics_csv_matches_the_reference(series: list[tuple[str, Points]],
                                           header: bool) -> None:
    assert render.metrics_csv(series, header) == reference.metrics_csv(series, header)


def test_a_large_page_of_mixed_widths_matches_the_reference() -> None:
    """100,000 points whose steps, timestamps and values span many text widths."""
    rng = np.random.default_rng(16)
    n = 100_000
    steps = np.cumsum(rng.integers(1, 1000, n)) - 50_000
    values = rng.normal(size=n) * 10.0 ** rng.integers(-30, 30, n)
    values[rng.integers(0, n, 500)] = np.nan
    stamps = rng.integers(0, 2**62, n) >> rng.integers(0, 62, n)
    points = Points(steps, values, stamps)
    series = [("train/loss", points), ("a,b", points.take(slice(0, 7)))]
    assert orjson.dumps(render.export_rows_json(series)) == reference.export_rows_json(series)
    assert render.metrics_csv(series, True) == reference.metrics_csv(series, True)
    assert orjson.dumps(render.points_json(points)) == reference.points_json(points)


def _numbers(array: np.ndarray) -> list[bytes]:
    return orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.one_of(
    st.binary(max_size=3), hnp.arrays(np.int64, n, elements=STEPS),
    hnp.arrays(np.float64, n, elements=VALUES)), max_size=6))))
def test_rows_bytes_of_any_template_is_each_row_in_turn(
        drawn: tuple[int, list[bytes | np.ndarray]]) -> None:
    """Adjacent numbers, empty and NUL constants, rows shorter than a number: still exact."""
    count, parts = drawn
    texts = [p if isinstance(p, bytes) else _numbers(p) for p in parts]
    expected = b"".join(t if isinstance(t, bytes) else t[row]
                        for row in range(count) for t in texts)
    assert rows_bytes(parts, count).tobytes() == expected


def test_rows_bytes_rejects_a_column_of_another_length() -> None:
    with pytest.raises(ValueError, match="3 numbers"):
        rows_bytes((b"x", np.arange(3)), 4)


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                         st.text(max_size=8),
                         st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON_SCALARS, max_size=4), st.data())
def test_a_spliced_reply_is_the_orjson_reply(fields: dict[str, object], data: st.DataObject
                                             ) -> None:
    """The export reply built around the rendered rows equals orjson.dumps of the whole object,
    wherever the rows sit in it."""
    series = data.draw(SERIES)
    names = list(fields)
    at = data.draw(st.integers(0, len(names)))
    payload = {**{n: fields[n] for n in names[:at]}, "rows": None,
               **{n: fields[n] for n in names[at:] if n != "rows"}}
    whole = {**payload, "rows": render.export_rows_json(series)}
    assert spliced_json(payload, "rows", render.export_rows_text(series)) == orjson.dumps(whole)
    with pytest.raises(KeyError):
        spliced_json(payload, "absent", [b"[]"])
