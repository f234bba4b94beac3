"""Columns bodies on the wire: negotiation, Content-Type, the fallback to wide rows, 413 splits."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rundial import MockTransport, Request, Response
from rundial._http.retry import Outcome
from rundial._pipeline.delivery import announces_columns, deliver
from rundial._wire import columns
from tests.sdk.conftest import CollectorDouble, MakeRun

COLUMNS = "application/x-rundial-columns"
BAD_REQUEST = json.dumps({"error": {"code": "INVALID_REQUEST", "message": "bad body"}}).encode()


@dataclass
class FormatsDouble(CollectorDouble):
    """The collector double, announcing ``formats`` on metrics replies. ``refuse_columns``
    answers a columns body with that status (an older collector behind the same balancer),
    ``refuse_rows`` answers wide rows with 400 too."""

    formats: str | None = "rows, columns"
    refuse_columns: int | None = None
    refuse_rows: bool = False
    sent: list[tuple[str, str]] = field(default_factory=list)  # (content type, idempotency key)

    def _handle(self, request: Request) -> Response:
        if not request.path.endswith("/ingest/metrics"):
            return super()._handle(request)
        kind = request.headers["content-type"]
        self.sent.append((kind, request.headers["idempotency-key"]))
        if (kind == COLUMNS and self.refuse_columns) or (kind != COLUMNS and self.refuse_rows):
            resp = Response(self.refuse_columns or 400, BAD_REQUEST)
        else:
            resp = super()._handle(request)
        extra = {"rundial-ingest-formats": self.formats} if self.formats else {}
        return Response(resp.status, resp.body, {**resp.headers, **extra})

    @staticmethod
    def _decode(request: Request) -> dict[str, Any] | None:
        if request.headers.get("content-type") == COLUMNS:
            return columns.rows_doc(gzip.decompress(request.body or b""))
        return CollectorDouble._decode(request)

    def kinds(self) -> list[str]:
        return ["columns" if kind == COLUMNS else "rows" for kind, _key in self.sent]


def log_steps(run: Any, steps: range) -> None:
    for step in steps:
        run.log({"loss": step * 0.5, "acc": 1.0 / (step + 1)}, step=step)


def stored(double: CollectorDouble) -> dict[int, dict[str, Any]]:
    return {step: {k: float(v) for k, v in row.items()} for _rid, step, _ts, row in double.rows}


def expected(steps: range) -> dict[int, dict[str, float]]:
    return {step: {"loss": step * 0.5, "acc": 1.0 / (step + 1)} for step in steps}


def test_columns_start_after_a_reply_announces_them(make_run: MakeRun) -> None:
    """The first batch is wide rows; once a metrics reply lists ``columns``, uniform groups
    travel as columns bodies with their own Content-Type; every point arrives."""
    double = FormatsDouble()
    run = make_run(transport_=MockTransport(double))
    log_steps(run, range(0, 10))
    run._worker.cycle()
    log_steps(run, range(10, 30))
    run._worker.cycle()
    assert double.kinds() == ["rows", "columns"]
    assert stored(double) == expected(range(30))
    diag = run.diagnostics()
    assert diag.columns_batches == 1 and diag.columns_fallbacks == 0
    assert diag.accepted_points == 60


def test_a_collector_that_never_announces_gets_rows_only(make_run: MakeRun) -> None:
    double = FormatsDouble(formats="rows")
    run = make_run(transport_=MockTransport(double))
    for first in (0, 10, 20):
        log_steps(run, range(first, first + 10))
        run._worker.cycle()
    assert double.kinds() == ["rows"] * 3 and run.diagnostics().columns_batches == 0


@pytest.mark.parametrize("how", ["env", "option"])
def test_ingest_format_rows_never_sends_columns(make_run: MakeRun, how: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    double = FormatsDouble()
    if how == "env":
        monkeypatch.setenv("RUNDIAL_INGEST_FORMAT", "rows")
        run = make_run(transport_=MockTransport(double))
    else:
        run = make_run(transport_=MockTransport(double), ingest_format="rows")
    for first in (0, 10):
        log_steps(run, range(first, first + 10))
        run._worker.cycle()
    assert double.kinds() == ["rows", "rows"]


def test_an_invalid_ingest_format_fails_at_init(make_run: MakeRun,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDIAL_INGEST_FORMAT", "columns")
    with pytest.raises(ValueError, match="RUNDIAL_INGEST_FORMAT.*'auto', 'rows'.*'columns'"):
        make_run()


@pytest.mark.parametrize("status", [400, 415])
def test_a_refused_columns_body_is_resent_as_rows_with_the_same_key(make_run: MakeRun,
                                                                    status: int) -> None:
    """An older collector behind the balancer: nothing lost, nothing rejected, one fallback."""
    double = FormatsDouble(refuse_columns=status)
    run = make_run(transport_=MockTransport(double))
    log_steps(run, range(0, 5))
    run._worker.cycle()
    log_steps(run, range(5, 25))
    run._worker.cycle()
    assert double.kinds() == ["rows", "columns", "rows"]
    assert double.sent[1][1] == double.sent[2][1]  # the same Idempotency-Key
    assert stored(double) == expected(range(25))
    diag = run.diagnostics()
    assert (diag.columns_batches, diag.columns_fallbacks, diag.batches_rejected) == (1, 1, 0)
    assert diag.accepted_points == 50 and diag.dropped_points_non_retryable == 0
    assert run._worker.spool.pending_points() == 0


def test_a_body_refused_in_both_formats_is_rejected_once_and_counted(make_run: MakeRun,
                                                                    tmp_path: Path) -> None:
    double = FormatsDouble()
    run = make_run(transport_=MockTransport(double))
    log_steps(run, range(0, 5))
    run._worker.cycle()
    double.refuse_columns, double.refuse_rows = 400, True
    log_steps(run, range(5, 25))
    run._worker.cycle()
    assert double.kinds() == ["rows", "columns", "rows"]
    diag = run.diagnostics()
    assert diag.batches_rejected == 1 and diag.dropped_points_non_retryable == 40
    rejected = [p for p in (tmp_path / "spool" / "rejected").iterdir() if p.suffix == ".gz"]
    assert [columns.is_columns_body(p.read_bytes()) for p in rejected] == [True]


def test_413_splits_a_columns_body_by_rows_with_derived_keys(make_run: MakeRun) -> None:
    too_large = (413, {"rundial-ingest-formats": "rows, columns"},
                 json.dumps({"error": {"code": "PAYLOAD_TOO_LARGE"}}).encode())
    double = FormatsDouble()
    run = make_run(transport_=MockTransport(double))
    log_steps(run, range(0, 5))
    run._worker.cycle()
    double.script["/ingest/metrics"] = [too_large]
    log_steps(run, range(5, 25))
    run._worker.cycle()
    assert double.kinds() == ["rows", "columns", "columns", "columns"]
    first_key = double.sent[1][1]
    assert [key for _kind, key in double.sent[2:]] == [f"{first_key}-0", f"{first_key}-1"]
    assert stored(double) == expected(range(25))


def test_deliver_reports_the_announcement_and_sniffs_the_content_type() -> None:
    replies = [Response(202, b'{"accepted": 1}', {"rundial-ingest-formats": "rows,columns"})]
    transport = MockTransport(lambda request: replies[0])
    from rundial._wire.batch import gzip_bytes
    rows_body = gzip_bytes(b'{"runId":"r","rows":[[0,0,{"a":1}]]}')
    result = deliver(transport, None, rows_body, "a" * 32, 1.0)
    assert result.outcome is Outcome.OK and result.columns_supported
    assert transport.requests[0].headers["content-type"] == "application/json"
    assert announces_columns({"rundial-ingest-formats": " rows , columns "})
    assert not announces_columns({"rundial-ingest-formats": "rows"}) and not announces_columns({})
    assert not announces_columns({"rundial-ingest-formats": "rows, columnsv2"})
