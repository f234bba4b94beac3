"""Eval result rows on the wire (v1 doc §5.6, §11.4): argument checks and one row per scorer.

:func:`build_rows` checks a ``log_eval_result`` call's arguments (``ValueError``/``TypeError``
with a clear message for an unusable one) and returns one :class:`EvalRow` per scorer: the
queue record that ``_pipeline.encode`` sends as ``POST /api/v1/evals/results`` bodies, one per
eval run (batch ids ``eval_<hex>``, ``_wire.records``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from rundial._values import plain_json, require_utf8_text
from rundial._wire.trace_ids import check_id

MAX_EXAMPLE_ID_CHARS = 256
MAX_SCORER_CHARS = 128
MAX_EVAL_RUN_ID_CHARS = 128
MAX_META_BYTES = 8 * 1024


class EvalRow:
    """One queued result row: its eval run and its wire item (told apart by type on the queue)."""

    __slots__ = ("eval_run_id", "item")

    def __init__(self, eval_run_id: str, item: dict[str, Any]) -> None:
        self.eval_run_id = eval_run_id
        self.item = item


def _text(name: str, value: Any, max_chars: int) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    text: str = value.strip()
    if not text or len(text) > max_chars:
        raise ValueError(f"{name} must be 1-{max_chars} characters, got {len(text)}")
    require_utf8_text(name, text)
    return text


def check_eval_run_id(value: Any) -> str:
    """``value`` as an eval run id (1-128 characters, no ``/``); TypeError/ValueError else."""
    text = _text("eval_run_id", value, MAX_EVAL_RUN_ID_CHARS)
    if "/" in text or "\x00" in text:
        raise ValueError("eval_run_id must not contain '/' or NUL")
    return text


def trace_id_of(trace: Any) -> str | None:
    """The trace id of a span (anything with a ``trace_id``) or a str, stripped; None for
    None/blank. ``TypeError`` naming trace for anything else; ``ValueError`` naming trace and
    the rule when it is over 128 characters or holds NUL or a lone surrogate (the collector
    would reject the row: ``rundial._wire.trace_ids``)."""
    if trace is None:
        return None
    value = trace if isinstance(trace, str) else getattr(trace, "trace_id", None)
    if not isinstance(value, str):
        raise TypeError(f"trace must be a span, a trace id or None, not {type(trace).__name__}")
    return check_id("trace", value.strip()) or None


def _evidence(evidence: Mapping[str, Any] | None) -> dict[str, str] | None:
    if evidence is None:
        return None
    if not isinstance(evidence, Mapping):
        raise TypeError("evidence must be a mapping with artifactId and path")
    return {name: _text(f"evidence[{name!r}]", evidence.get(name), 1024)
            for name in ("artifactId", "path")}


def _meta(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """``meta`` as plain JSON (keys as str, numpy values as numbers, other objects as their
    ``str()``: what the row carries); ``ValueError`` naming meta when a text of it, such an
    ``str()`` included, holds a lone surrogate, or when it is over 8 KiB as JSON."""
    if meta is not None and not isinstance(meta, Mapping):
        raise TypeError(f"meta must be a mapping, not {type(meta).__name__}")
    out: dict[str, Any] = plain_json(dict(meta or {}))
    require_utf8_text("meta", out)
    size = len(orjson.dumps(out))
    if size > MAX_META_BYTES:
        raise ValueError(f"meta encodes to {size} bytes; at most {MAX_META_BYTES} are allowed")
    return out


def _score(scorer: str, value: Any) -> tuple[float, bool | None]:
    """(score, passed implied by a bool score)."""
    if isinstance(value, bool):
        return (1.0 if value else 0.0), value
    if isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
        raise TypeError(f"score of {scorer!r} must be a number or a bool, "
                        f"not {type(value).__name__}")
    score = float(value)
    if not math.isfinite(score):
        raise ValueError(f"score of {scorer!r} must be finite, got {score}")
    return score, None


def _scorer_row(scorer: Any, raw: Any, passed: Mapping[str, Any] | bool | None,
                meta: dict[str, Any]) -> tuple[str, float, bool, dict[str, Any]]:
    name = _text("scorer name", str(scorer), MAX_SCORER_CHARS)
    row_meta, row_passed = meta, None
    if isinstance(raw, Mapping):
        if "score" not in raw:
            raise ValueError(f"the score object of {name!r} needs a 'score'")
        if isinstance(raw.get("passed"), bool):
            row_passed = raw["passed"]
        if isinstance(raw.get("meta"), Mapping):
            row_meta = _meta({**meta, **raw["meta"]})
        raw = raw["score"]
    score, implied = _score(name, raw)
    if isinstance(passed, Mapping) and name in passed:
        row_passed = bool(passed[name])
    elif isinstance(passed, bool):
        row_passed = passed
    row_passed = implied if row_passed is None else row_passed
    if row_passed is None:
        raise ValueError(f"passed is required for the numeric score of {name!r}")
    return name, score, row_passed, row_meta


def build_rows(eval_run_id: str, example_id: str, scores: Mapping[str, Any],
               passed: Mapping[str, Any] | bool | None, trace_id: str | None,
               evidence: Mapping[str, Any] | None, meta: Mapping[str, Any] | None
               ) -> list[EvalRow]:
    """One row per scorer; TypeError/ValueError for an unusable argument (see §11.4)."""
    eval_run_id = check_eval_run_id(eval_run_id)
    example_id = _text("example_id", example_id, MAX_EXAMPLE_ID_CHARS)
    if not isinstance(scores, Mapping) or not scores:
        raise ValueError("scores must be a non-empty mapping of scorer name to score")
    if passed is not None and not isinstance(passed, (bool, Mapping)):
        raise TypeError("passed must be a bool, a mapping of scorer name to bool, or None")
    ref = _evidence(evidence)
    if trace_id is None and ref is None:
        raise ValueError("an eval result needs a trace (a span or trace id, or an open span) "
                         "or evidence={'artifactId', 'path'}")
    base = _meta(meta)
    rows = [_scorer_row(scorer, raw, passed, base) for scorer, raw in scores.items()]
    return [EvalRow(eval_run_id, {"evalRunId": eval_run_id, "exampleId": example_id,
                                  "scorer": name, "score": score, "passed": ok,
                                  "traceId": trace_id, "evidenceRef": ref, "meta": row_meta})
            for name, score, ok, row_meta in rows]
