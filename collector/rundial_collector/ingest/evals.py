"""Eval result rows (v1 doc §5.6): per-row checks and conversion to :class:`EvalResult`.

Contract: a row with a bad value (an empty or over-long example id or scorer, a score that is
not a finite number, ``passed`` not a boolean, neither ``traceId`` nor ``evidenceRef``, a bad
evidence reference, ``meta`` not an object or over :data:`MAX_META_BYTES`, or an ``evalRunId``
other than the body's) is **rejected and counted**, never the whole request. Booleans are
accepted as scores 1/0, as the SDK sends them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from rundial_collector.ingest.items import ItemErrors
from rundial_collector.store.evals_base import EvalResult
from rundial_collector.web.intbounds import json_int_problem

MAX_EXAMPLE_ID_CHARS = 256
MAX_SCORER_CHARS = 128
MAX_TRACE_ID_CHARS = 128
MAX_REF_CHARS = 1024
MAX_META_BYTES = 8 * 1024


class RowProblem(Exception):
    """Why a row is rejected: ``field`` names the offending key of the row."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def results_from_rows(rows: list[Any], project_id: str, eval_run_id: str, now_ms: int,
                      errs: ItemErrors) -> list[EvalResult]:
    """The valid rows as :class:`EvalResult`; every other row is counted in ``errs``."""
    out: list[EvalResult] = []
    for index, row in enumerate(rows):
        try:
            out.append(_result(row, project_id, eval_run_id, now_ms))
        except RowProblem as problem:
            errs.add(index, f"rows[{index}].{problem.field}", problem.message)
    return out


def _result(row: Any, project_id: str, eval_run_id: str, now_ms: int) -> EvalResult:
    if not isinstance(row, dict):
        raise RowProblem("", "a row must be a JSON object")
    if row.get("evalRunId", eval_run_id) != eval_run_id:
        raise RowProblem("evalRunId", "evalRunId differs from the body's evalRunId")
    trace_id = _optional_text(row, "traceId", MAX_TRACE_ID_CHARS)
    evidence = _evidence(row.get("evidenceRef"))
    if trace_id is None and evidence is None:
        raise RowProblem("traceId", "a row needs traceId or evidenceRef")
    return EvalResult(project_id, eval_run_id, _text(row, "exampleId", MAX_EXAMPLE_ID_CHARS),
                      _text(row, "scorer", MAX_SCORER_CHARS), _score(row.get("score")),
                      _passed(row.get("passed")), trace_id, evidence, _meta(row.get("meta")),
                      now_ms)


def _text(row: Mapping[str, Any], name: str, max_chars: int) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= max_chars or "\x00" in value:
        raise RowProblem(name, f"{name} must be a string of 1-{max_chars} characters")
    return value


def _optional_text(row: Mapping[str, Any], name: str, max_chars: int) -> str | None:
    return None if row.get(name) is None else _text(row, name, max_chars)


def _score(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        score = float(value) if isinstance(value, (int, float)) else math.nan
    except OverflowError:  # an integer beyond a double's range
        score = math.nan
    if not math.isfinite(score):
        raise RowProblem("score", "score must be a finite number")
    return score


def _passed(value: Any) -> bool:
    if not isinstance(value, bool):
        raise RowProblem("passed", "passed must be a boolean")
    return value


def _evidence(value: Any) -> str | None:
    """``{"artifactId", "path"}`` as compact JSON (other keys dropped), or None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RowProblem("evidenceRef", "evidenceRef must be an object or null")
    ref = {name: _text(value, name, MAX_REF_CHARS) for name in ("artifactId", "path")}
    return orjson.dumps(ref).decode()


def _meta(value: Any) -> str:
    if value is None:
        return "{}"
    if not isinstance(value, dict) or json_int_problem(value) is not None:
        raise RowProblem("meta", "meta must be a JSON object with 64-bit integers")
    encoded = orjson.dumps(value)
    if len(encoded) > MAX_META_BYTES:
        raise RowProblem("meta", f"meta must encode to at most {MAX_META_BYTES} bytes")
    return encoded.decode()
