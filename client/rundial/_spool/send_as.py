"""Where a spooled run's data goes: its own run id, or — for a run whose registration was
refused under its resume rule — only where ``rundial sync`` was explicitly told to send it.

``run.json`` fields (:mod:`rundial._spool.runfile`): ``refused`` is set when ``runs/start`` refused
the run because of its resume rule (409 under ``resume="never"``: the run id is taken; 404 under
``"must"``: there is no such run). Such a run's batches are never sent into the existing run by
default. ``rundial sync --into-existing`` records ``intoExisting: true`` (send into that run,
registered with ``resume="allow"``); ``--as-new-run`` records ``sendAsRunId`` (a fresh run id,
kept in the file so a retried sync uses the same one): every body's ``runId`` is rewritten and
its Idempotency-Key gets a suffix derived from the new id, so the collector's global key table
never answers ``duplicate`` for a batch the original run already holds.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from rundial._wire import columns
from rundial._wire.batch import gunzip_bytes, gzip_bytes

INTO_EXISTING = "intoExisting"
SEND_AS = "sendAsRunId"


def is_resume_refusal(status: int | None, resume: str) -> bool:
    """True when a ``runs/start`` refusal comes from the resume rule (run id taken / missing)."""
    return (status == 409 and resume == "never") or (status == 404 and resume == "must")


def held_back(info: dict[str, Any]) -> bool:
    """A refused run the user has not told us where to send: its data stays in the spool."""
    return bool(info.get("refused")) and not (info.get(INTO_EXISTING) or info.get(SEND_AS))


def target_run_id(info: dict[str, Any], default: str) -> str:
    """The run id the data is sent to: ``sendAsRunId`` when set, else the run's own id."""
    return str(info.get(SEND_AS) or info.get("runId") or default)


def retarget(body: bytes, batch_id: str, run_id: str) -> tuple[bytes, str]:
    """``(body, batch id)`` of a gzip'd ingest body re-addressed to ``run_id``; raises
    ``ValueError``/``orjson.JSONDecodeError`` for an unreadable body. A columns body stays
    one (its header's ``runId`` replaced)."""
    suffix = hashlib.sha256(run_id.encode()).hexdigest()[:12]
    raw = gunzip_bytes(body)
    if columns.is_columns(raw):
        return gzip_bytes(columns.with_fields(raw, {"runId": run_id})), f"{batch_id}~{suffix}"
    doc = orjson.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("ingest body is not an object")
    doc["runId"] = run_id
    return gzip_bytes(orjson.dumps(doc)), f"{batch_id}~{suffix}"
