"""Flatten decoded ingest bodies into one record per metric point, log line, span or eval row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rundial._spool.scan import BatchFile
from rundial._spool.verify import body_kind, is_eval_body

__all__ = ["CSV_COLUMNS", "records"]

_TARGET_FIELDS = ("projectId", "workspace", "project", "rank")
CSV_COLUMNS = {"metric": ["runId", "metricKey", "step", "timestampMs", "value", "rank"],
               "log": ["runId", "timestampMs", "sequence", "level", "message"],
               "span": ["runId", "traceId", "spanId", "parentSpanId", "name", "startNs", "endNs",
                        "status"],
               "eval": ["evalRunId", "exampleId", "scorer", "score", "passed", "traceId"]}


def _origin(body: dict[str, Any], batch: BatchFile) -> dict[str, Any]:
    base = {k: body[k] for k in _TARGET_FIELDS if body.get(k) is not None}
    base.update(runId=body.get("runId") or batch.run_id, writerId=batch.writer_id,
                seq=batch.seq, batchId=batch.batch_id)
    return base


def records(body: dict[str, Any], batch: BatchFile) -> Iterator[dict[str, Any]]:
    """Every record of a checked body, with ``kind`` and where it came from."""
    field = body_kind(body)
    origin = _origin(body, batch)
    if is_eval_body(body):
        for item in body["rows"]:
            yield {"kind": "eval", **origin, **item}
        return
    if field == "rows":
        for step, timestamp_ms, values in body["rows"]:
            for key, value in values.items():
                yield {"kind": "metric", **origin, "metricKey": key, "step": step,
                       "timestampMs": timestamp_ms, "value": value}
        return
    kind = {"points": "metric", "lines": "log", "spans": "span"}[field]
    for item in body[field]:
        yield {"kind": kind, **origin, **item}
