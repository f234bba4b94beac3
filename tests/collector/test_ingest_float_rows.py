"""Wide rows whose values all decode as floats (schemas.FloatRowsBody, rows._float_matrix) give
the chunks, counts and errors of the general decoding and matrix path, for any body."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.ingest.items import ItemErrors
from rundial_collector.ingest.rows import chunks_from_rows
from rundial_collector.ingest.schemas import METRICS, BodyDecoder, FloatRowsBody, MetricsBody
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.web.errors import ApiError

GENERAL = BodyDecoder(MetricsBody)  # the metrics decoder without the float-rows type first
value_texts = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-2**70, 2**70).map(str), st.sampled_from(["9007199254740993", "-0.0", "1e999",
                                                          "-1e999", "true", "null", '"1.5"']))
keys = st.sampled_from(["a", "b", "c/d", ""])
DEEP = "[" * 70 + "]" * 70
extras = st.sampled_from(["", ',"clientDiagnostics":{"a":1}', f',"clientDiagnostics":{DEEP}',
                          ',"x":1', f',"x":{DEEP}', ',"rank":1', ',"rank":-1', ',"points":[]',
                          ',"seq":3,"writerId":"w"'])


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A wide-rows body as JSON text: mostly uniform rows, sometimes keys reordered, missing,
    extra or bad, odd values and steps."""
    first = draw(st.lists(st.sampled_from(["a", "b", "c/d"]), max_size=3, unique=True))
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        row_keys = first if draw(st.integers(0, 4)) else draw(st.permutations(first) | st.lists(
            keys, max_size=3, unique=True))
        floats = draw(st.integers(0, 7))  # mostly plain numbers
        values = ",".join(f'"{k}":{draw(st.floats(-1e6, 1e6).map(repr)) if floats else draw(value_texts)}'
                          for k in row_keys)
        step, stamp = (draw(st.integers(-1, 9) | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1]))
                       for _ in range(2))
        rows.append(f"[{step},{stamp},{{{values}}}]")
    body = f'{{"projectId":"p","runId":"r","rows":[{",".join(rows)}]{draw(extras)}}}'.encode()
    return body[:draw(st.integers(1, len(body)))] if draw(st.integers(0, 9)) == 0 else body


def _outcome(decoder: BodyDecoder, raw: bytes, floats: bool) -> tuple[Any, ...]:
    try:
        body = decoder.decode(raw)
        errs = ItemErrors()
        chunks, accepted = chunks_from_rows(body.rows, "p", "r", None, errs,
                                            floats and isinstance(body, FloatRowsBody))
    except ApiError as err:
        return ("error", err.status, err.message, err.field)
    return ("stored", [_flat(c) for c in chunks], accepted, errs)


def _flat(chunk: SeriesChunk) -> tuple[Any, ...]:
    p = chunk.points
    return (chunk.metric_key, p.steps.tolist(), [repr(v) for v in p.values.tolist()],
            p.timestamps.tolist())


@given(bodies())
@settings(max_examples=200, deadline=None)
def test_float_rows_match_the_general_path(raw: bytes) -> None:
    """Same chunks, counts and errors (the depth bound included) with and without the
    float-rows type tried first."""
    assert _outcome(METRICS, raw, True) == _outcome(GENERAL, raw, False)


@pytest.mark.parametrize("values", ['{"a":1,"b":2.5}', '{"b":2.5,"a":1}'])
def test_a_uniform_numeric_body_takes_the_float_rows_type(values: str) -> None:
    raw = f'{{"projectId":"p","runId":"r","rows":[[0,1,{{"a":1,"b":2.5}}],[1,2,{values}]]}}'
    body = METRICS.decode(raw.encode())
    assert isinstance(body, FloatRowsBody)
    chunks, accepted = chunks_from_rows(body.rows, "p", "r", None, ItemErrors(), True)
    assert accepted == 4 and [_flat(c) for c in chunks] == [
        ("a", [0, 1], ["1.0", "1.0"], [1, 2]), ("b", [0, 1], ["2.5", "2.5"], [1, 2])]


@pytest.mark.parametrize("value", ["true", "null", '"x"', "1e999"])
def test_other_values_take_the_general_type(value: str) -> None:
    raw = f'{{"projectId":"p","runId":"r","rows":[[0,1,{{"a":{value}}}]]}}'.encode()
    assert type(METRICS.decode(raw)) is MetricsBody


def test_diagnostics_take_the_general_type_and_are_kept() -> None:
    raw = b'{"runId":"r","rows":[[0,1,{"a":1}]],"clientDiagnostics":{"x":1}}'
    body = METRICS.decode(raw)
    assert type(body) is MetricsBody and body.clientDiagnostics == {"x": 1}


@pytest.mark.parametrize("extra", [f',"x":{DEEP}', f',"clientDiagnostics":{DEEP}',
                                   f',"rows":[[0,1,{{"a":{DEEP}}}]]'])
def test_the_depth_bound_holds_for_bodies_beside_the_float_rows_type(extra: str) -> None:
    """The float-rows type is tried before the depth scan: anything deeper than it fails it
    and is then refused by the scan, as before."""
    with pytest.raises(ApiError, match="deeper than 64 levels"):
        METRICS.decode(f'{{"runId":"r","rows":[[0,1,{{"a":1}}]]{extra}}}'.encode())
