"""msgspec schemas of the ingest bodies (v1 doc §5.3-5.5, docs/protocol.md §4.2) and decoding.

Types are checked by msgspec; a wrong type or shape is a 400 ``INVALID_REQUEST`` whose
``details.field`` is the path (``points[3].step``). Metric values are typed ``Any`` so that a
JSON number outside the float range (``1e999``) can still be decoded, as infinity, and then be
rejected **per item** like any other non-finite value. Value rules (ranges, levels, lengths)
are checked per item by the ``ingest_*`` modules, never here.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from rundial_collector.web import errors
from rundial_collector.web.intbounds import Int64, NonNegative
from rundial_collector.web.jsonbody import check_depth, split_validation_error

T = TypeVar("T")


class PointIn(msgspec.Struct, gc=False):
    """One rc1 metric point; ``value`` is checked per item (finite number)."""

    projectId: str
    runId: str
    metricKey: str
    step: int | float  # a non-integer step is rejected per item (v1 doc §12.2)
    timestampMs: int
    value: Any
    context: dict[str, str] | None = None


class BodyTarget(msgspec.Struct):
    """Body-level target of an ingest body (docs/protocol.md §4.2, §4.7): wide rows use it;
    log and trace items without their own ``projectId``/``runId`` inherit it."""

    projectId: str | None = None
    workspace: str | None = None
    project: str | None = None
    runId: str | None = None
    writerId: str | None = None
    seq: Int64 | None = None
    clientDiagnostics: Any = None


class MetricsBody(BodyTarget):
    """rc1 ``points`` and/or our wide ``rows`` (``[step, timestampMs, {key: value}]``)."""

    points: list[PointIn] | None = None
    rows: list[tuple[int, int, dict[str, Any]]] | None = None
    rank: NonNegative | None = None


class FloatRowsBody(MetricsBody, forbid_unknown_fields=True):
    """The common wide-rows body, tried first (:data:`METRICS`): only the body target, rows
    whose values are all JSON numbers (decoded as floats, so they need no per-value type
    check: :func:`rundial_collector.ingest.rows.chunks_from_rows` with ``floats``) and
    ``rank``. No field of it nests deeper than four levels and unknown fields are refused, so
    it is decoded before the depth scan (:class:`BodyDecoder`). Any other body (rc1 ``points``,
    ``clientDiagnostics``, a null, bool or string value, a number beyond the float range, an
    unknown field) fails this type and is checked and decoded as a plain
    :class:`MetricsBody`."""

    clientDiagnostics: None = None
    points: None = None
    rows: list[tuple[int, int, dict[str, float]]] | None = None


class LineIn(msgspec.Struct, gc=False):
    """One log line; ``projectId``/``runId`` may come from the body (docs/protocol.md §4.7)."""

    timestampMs: int
    sequence: int
    level: str
    message: str
    truncated: bool = False
    projectId: str | None = None
    runId: str | None = None
    writerId: str | None = None  # part of the line's identity; inherited from the body
    rank: int | None = None


class LogsBody(BodyTarget):
    lines: list[LineIn] | None = None
    rank: NonNegative | None = None


class EventIn(msgspec.Struct, gc=False):
    name: str
    timestampNs: str
    attrsJson: str = "{}"


class SpanIn(msgspec.Struct, gc=False):
    """One span; ``projectId``/``runId`` may come from the body (docs/protocol.md §4.7)."""

    traceId: str
    spanId: str
    name: str
    startNs: str
    parentSpanId: str | None = None
    kind: str = "internal"
    endNs: str | None = None
    status: str = "unset"
    attrsJson: str = "{}"
    events: list[EventIn] = []
    model: str | None = None
    genAiSystem: str | None = None
    tokensIn: str | None = None
    tokensOut: str | None = None
    costUsd: float | None = None
    projectId: str | None = None
    runId: str | None = None


class TracesBody(BodyTarget):
    spans: list[SpanIn] | None = None


class BodyDecoder:
    """Decode one body type. ``narrow`` (optional) is a subtype whose every field nests a
    bounded number of levels and which refuses unknown fields: it is tried first, before the
    depth scan (msgspec stops at the first value of another shape, so it never recurses
    deeper than the type). A body it does not fit, valid JSON or not, is then checked and
    decoded as ``type_``, exactly as without it: the depth scan, the fast decoder, and only
    for a number out of the float range a second pass that maps it to ±inf (then rejected per
    item)."""

    def __init__(self, type_: type[T], narrow: type[T] | None = None) -> None:
        self._narrow = None if narrow is None else msgspec.json.Decoder(narrow)
        self._fast = msgspec.json.Decoder(type_)
        self._lenient = msgspec.json.Decoder(type_, float_hook=float)

    def decode(self, raw: bytes) -> Any:
        """The decoded body; raises 400 ``INVALID_REQUEST`` (with ``field``) on bad input."""
        if not raw.strip():
            raise errors.invalid("the request body is empty; expected a JSON object")
        if self._narrow is not None:
            try:
                return self._narrow.decode(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError included
                pass  # not the narrow type (or not JSON): explained as the full type below
        check_depth(raw)
        try:
            return self._fast.decode(raw)
        except msgspec.ValidationError as exc:
            if "out of range" not in str(exc):
                raise _invalid(exc) from None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise errors.invalid(f"request body is not valid JSON: {exc}") from None
        try:
            return self._lenient.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise _invalid(exc) from None


def _invalid(exc: Exception) -> errors.ApiError:
    message, field = split_validation_error(str(exc))
    return errors.invalid(message, field)


METRICS = BodyDecoder(MetricsBody, FloatRowsBody)
LOGS = BodyDecoder(LogsBody)
TRACES = BodyDecoder(TracesBody)
