"""Log lines: levels, the 8 KiB cap, the queue and the logs body (manual-mode runs)."""

from __future__ import annotations

import gzip
import json

import pytest

import rundial as rd
from rundial._diagnostics import Counters
from rundial._wire.body import body_meta, split_body
from rundial._wire.logs import (MAX_MESSAGE_BYTES, cut_head, cut_tail, level_of, split_bytes,
                                wire_lines)
from rundial._wire.records import ingest_path, kind_of
from tests.sdk.conftest import CollectorDouble, MakeRun


@pytest.mark.parametrize(("given", "wire"), [("debug", "debug"), ("info", "info"), ("warn", "warn"),
                                             ("warning", "warn"), ("error", "error"),
                                             ("trace", "trace"), ("fatal", "fatal"),
                                             ("ERROR", "error")])
def test_levels_map_to_wire_levels(given: str, wire: str) -> None:
    """The four documented levels, rc1's trace/fatal and ``warning`` map to wire levels."""
    assert level_of(given) == wire


@pytest.mark.parametrize("bad", ["verbose", "", None, 3, ["info"]])
def test_an_invalid_level_raises_value_error(make_run: MakeRun, bad: object) -> None:
    """``log_text`` with an unknown level raises ValueError at call time and queues nothing."""
    run = make_run()
    with pytest.raises(ValueError):
        run.log_text("x", bad)  # type: ignore[arg-type]
    assert not run._queue


def test_cut_head_keeps_a_character_boundary() -> None:
    """A long message is cut to 8 KiB of UTF-8 without splitting a multi-byte character."""
    text = "é" * 5000  # 10,000 bytes
    cut, flagged = cut_head(text)
    assert flagged and len(cut.encode()) <= MAX_MESSAGE_BYTES and cut == "é" * 4096
    assert cut_head("short") == ("short", False)
    assert cut_head("a\ud800b") == ("a?b", False)  # a lone surrogate cannot be sent as JSON


def test_cut_tail_keeps_the_end() -> None:
    """``cut_tail`` keeps the last 8 KiB (a traceback's useful end)."""
    text = "x" * 10_000 + "END"
    cut, flagged = cut_tail(text)
    assert flagged and cut.endswith("END") and len(cut.encode()) == MAX_MESSAGE_BYTES


def test_split_bytes_makes_8kib_pieces() -> None:
    """Console lines are split in pieces of at most 8 KiB at character boundaries."""
    pieces = split_bytes("€" * 6000)  # 18,000 bytes
    assert "".join(pieces) == "€" * 6000
    assert all(len(p.encode()) <= MAX_MESSAGE_BYTES for p in pieces) and len(pieces) == 3


def test_wire_lines_counts_truncations() -> None:
    """The worker cuts over-long messages, flags them and counts ``log_lines_truncated``."""
    counters = Counters()
    seq = iter(range(1, 10))
    lines = wire_lines([[5, "info", "a" * 9000, False], [6, "error", "ok", False]], counters,
                       lambda: next(seq))
    assert [(ln["sequence"], ln["truncated"]) for ln in lines] == [(1, True), (2, False)]
    assert counters.log_lines_truncated == 1 and len(lines[0]["message"]) == MAX_MESSAGE_BYTES


def test_log_text_is_sent_as_a_logs_body(make_run: MakeRun, double: CollectorDouble) -> None:
    """Lines go to /ingest/logs in one body carrying the target; items inherit runId."""
    run = make_run()
    run.log({"a": 1.0})
    run.log_text("hello", "warning", time_ms=1234)
    run.log_text("x" * 9000, level="error")
    run._worker.cycle()
    assert double.paths()[-2:] == ["/api/v1/ingest/metrics", "/api/v1/ingest/logs"]
    first, second = double.lines
    assert first == {"runId": "run_test", "timestampMs": 1234, "sequence": 1, "level": "warn",
                     "message": "hello", "truncated": False}
    assert second["truncated"] and second["level"] == "error"
    diag = run.diagnostics()
    assert diag.log_lines_truncated == 1 and diag.accepted_points == 3


def test_log_batches_carry_their_kind_in_the_batch_id(make_run: MakeRun) -> None:
    """A log batch id is ``log_<hex>``: the spool file alone tells its route."""
    run = make_run(mode="offline")
    run.log_text("one")
    run._worker.cycle()
    entry = run._worker.spool.own.entries[0]
    assert entry.batch_id.startswith("log_") and kind_of(entry.batch_id) == "logs"
    assert ingest_path(entry.batch_id) == "/api/v1/ingest/logs"
    assert ingest_path("0123abcd") == "/api/v1/ingest/metrics"
    body = json.loads(gzip.decompress(run._worker.spool.read(entry)))
    assert body["projectId"] == "test-proj" and body["runId"] == "run_test"
    assert body_meta(run._worker.spool.read(entry)) == ("run_test", 1, None, None)


def test_a_log_body_splits_on_413(make_run: MakeRun, double: CollectorDouble) -> None:
    """A 413 on a logs body splits its lines in halves, each sent to the logs route."""
    double.script["/ingest/logs"] = [(413, {}, b'{"error":{"code":"PAYLOAD_TOO_LARGE"}}')]
    run = make_run()
    for i in range(4):
        run.log_text(f"line {i}")
    run._worker.cycle()
    assert [ln["message"] for ln in double.lines] == [f"line {i}" for i in range(4)]
    assert double.paths().count("/api/v1/ingest/logs") == 3
    halves = split_body(gzip.compress(b'{"runId":"r","lines":[{"m":1},{"m":2}]}'))
    assert halves is not None and json.loads(gzip.decompress(halves[1]))["lines"] == [{"m": 2}]


def test_a_full_queue_drops_and_counts_log_lines(make_run: MakeRun) -> None:
    """Beyond queue_capacity the oldest records go, log lines counted as such."""
    run = make_run(queue_capacity=2, flush_at_records=1)
    run.log_text("a")
    run.log_text("b")
    with pytest.warns(RuntimeWarning, match="queue is full"):
        run.log_text("c")
    diag = run.diagnostics()
    assert diag.dropped_log_lines_queue_full == 1 and diag.dropped_points_queue_full == 1
    assert [r[2] for r in run._queue] == ["b", "c"]


def test_noop_run_accepts_logs_and_spans() -> None:
    """A disabled run's log_text (at any level), trace and tool_call with usable arguments do
    nothing and never raise."""
    run = rd.init(mode="disabled")
    assert run.log_text("x", "nonsense")
    with run.trace("s", attrs={"a": 1}) as span:
        span.event("e")
        span.set_attrs(b=2)
    assert run.tool_call("t", input=1)
