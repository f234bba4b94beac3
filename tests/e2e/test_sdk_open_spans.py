"""End to end: a long-open span is visible while it runs (``endNs`` null), then closed — one
copy (docs/sdk.md "Traces", docs/protocol.md §6.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.test_sdk_logs_traces import read_spans
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import init_run


def _flat(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for span in spans:
        out.append(span)
        out.extend(_flat(span["children"]))
    return out


def _named(proc: CollectorProcess, run_id: str, name: str) -> list[dict[str, Any]]:
    """Stored spans called ``name`` ([] while the run is not registered yet: a 404)."""
    try:
        spans = read_spans(proc, run_id)
    except AssertionError:
        return []
    return [s for s in _flat(spans) if s["name"] == name]


def test_a_long_span_is_stored_open_then_closed(shared_collector: CollectorProcess,
                                                tmp_path: Path) -> None:
    run = init_run(shared_collector, tmp_path / "spool", kind="agent")
    with run.trace("long", attrs={"task": "t"}) as long:
        with run.trace("short"):
            pass
        stored = wait_until(lambda: _named(shared_collector, run.id, "long"), 20,
                            message="the open copy of the long span")
        assert stored[0]["endNs"] is None and stored[0]["spanId"] == long.span_id
    assert run.finish() is True
    spans = _flat(read_spans(shared_collector, run.id))
    assert sorted(s["name"] for s in spans) == ["long", "short"]  # exactly one copy each
    closed = next(s for s in spans if s["name"] == "long")
    assert closed["endNs"] == str(long.end_ns) and closed["status"] == "ok"
    assert [c["name"] for c in closed["children"]] == ["short"]
