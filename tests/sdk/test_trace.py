"""Spans: nesting, ids, events, status, attribute normalisation and evidence placeholders."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from rundial._diagnostics import Counters
from rundial._producers.attrs import EVIDENCE_BYTES, Evidence, encode_attrs, normalise
from rundial._producers.evidence import EvidenceUploads
from rundial._producers.trace import MAX_EVENTS, Span, Tracer
from tests.sdk.conftest import CollectorDouble, MakeRun


def tracer() -> tuple[Tracer, list[Span]]:
    ended: list[Span] = []
    ticks = iter(range(1_000, 10**9, 10))
    return Tracer(ended.append, clock_ns=lambda: next(ticks)), ended


def test_nested_spans_carry_parent_and_trace() -> None:
    """A span opened inside another is its child in the same trace; roots start new traces."""
    t, ended = tracer()
    with t.trace("root") as root:
        with t.trace("child") as child:
            t.tool_call("search", input="q", output="a")
        assert t.current() is root
    with t.trace("other") as other:
        pass
    assert [s.name for s in ended] == ["tool:search", "child", "root", "other"]
    tool = ended[0]
    assert child.parent_span_id == root.span_id and tool.parent_span_id == child.span_id
    assert child.trace_id == root.trace_id == tool.trace_id != other.trace_id
    assert root.parent_span_id is None and tool.kind == "tool" and len(root.span_id) == 16
    assert len(root.trace_id) == 32 and int(root.span_id, 16) >= 0
    assert int(root.start_ns) < int(child.start_ns) <= int(child.end_ns) < int(root.end_ns)


def test_threads_and_tasks_do_not_share_open_spans() -> None:
    """The open span is per thread and per asyncio task (a ContextVar), not global."""
    t, _ended = tracer()
    seen: list[Any] = []
    with t.trace("main"):
        thread = threading.Thread(target=lambda: seen.append(t.current()))
        thread.start()
        thread.join()

        async def task() -> None:
            with t.trace("in-task") as span:
                seen.append(span.parent_span_id)

        asyncio.run(task())
    assert seen[0] is None and seen[1] is not None  # tasks copy the context; threads start empty


def test_exception_marks_the_span_error_with_an_event() -> None:
    """An exception escaping the block sets status error and records an exception event."""
    t, ended = tracer()
    with pytest.raises(KeyError):
        with t.trace("boom"):
            raise KeyError("k")
    wire = ended[0].wire()
    assert wire["status"] == "error"
    assert wire["events"][0]["name"] == "exception"
    assert json.loads(wire["events"][0]["attrsJson"])["exception.type"] == "KeyError"


def test_events_are_capped_and_counted() -> None:
    """At most 128 events per span; the rest are dropped and counted in an attribute."""
    t, ended = tracer()
    with t.trace("many") as span:
        for i in range(MAX_EVENTS + 5):
            span.event(f"e{i}", {"i": i})
    wire = ended[0].wire()
    assert len(wire["events"]) == MAX_EVENTS
    assert json.loads(wire["attrsJson"])["rundial.droppedEvents"] == 5


def test_wire_shape() -> None:
    """Nanoseconds are decimal strings; attrsJson has sorted keys; rc1's null fields exist."""
    t, ended = tracer()
    span = t.trace("x" * 600, attrs={"b": 1, "a": [1, 2]})
    span.set_attrs({"c": b"\x00\x01"}, d=None)
    span.finish()
    wire = ended[0].wire()
    assert wire["name"] == "x" * 509 + "..." and wire["status"] == "ok"
    assert wire["startNs"].isdigit() and wire["endNs"].isdigit()
    assert wire["attrsJson"] == ('{"a":[1,2],"b":1,"c":{"data":"AAE=","encoding":"base64",'
                                 '"kind":"rundial.bytes"},"d":null}')
    assert wire["model"] is None and wire["costUsd"] is None and wire["parentSpanId"] is None
    span.set_attrs(late=1)
    span.finish()  # idempotent
    assert len(ended) == 1


def test_invalid_kind_and_attrs_raise() -> None:
    """An unknown span kind is a ValueError; non-mapping attrs a TypeError."""
    t, _ended = tracer()
    with pytest.raises(ValueError):
        t.trace("s", kind="weird")
    with pytest.raises(TypeError):
        t.trace("s", attrs=[1, 2])  # type: ignore[arg-type]


def test_normalise_copies_and_cuts() -> None:
    """Keys cut to 128 chars, lists to 128 items, odd objects stringified, huge ints as text."""
    class Odd:
        def __str__(self) -> str:
            return "odd"

    source = {"k" * 200: list(range(300)), 5: {"nested": Odd()}, "big": 2**70, "t": (1, "a")}
    out = normalise(source)
    assert len(next(iter(out))) == 128 and len(out["k" * 128]) == 128
    assert out["5"] == {"nested": "odd"} and out["big"] == str(2**70) and out["t"] == [1, "a"]
    source["t"] = "changed"
    assert out["t"] == [1, "a"]


def test_large_values_become_evidence_placeholders() -> None:
    """Strings and bytes over 16 KiB, at any depth, become Evidence placeholders."""
    evidence: list[Evidence] = []
    big = "z" * (EVIDENCE_BYTES + 1)
    out = normalise({"doc": big, "deep": {"blob": b"\x01" * (EVIDENCE_BYTES + 1)},
                     "fits": "y" * EVIDENCE_BYTES}, evidence)
    assert [e.key for e in evidence] == ["doc", "deep.blob"]
    assert evidence[0].path == "evidence/doc.txt" and evidence[1].path == "evidence/deep.blob.bin"
    assert isinstance(out["doc"], Evidence) and out["fits"] == "y" * EVIDENCE_BYTES
    evidence[0].resolve("art_1", 3)
    evidence[1].mark("offline_unavailable")
    doc = json.loads(encode_attrs({"doc": out["doc"], "deep": out["deep"]}))
    assert doc["doc"]["kind"] == "rundial.evidence_ref" and doc["doc"]["artifactVersion"] == 3
    assert doc["doc"]["sizeBytes"] == EVIDENCE_BYTES + 1 and len(doc["doc"]["sha256"]) == 64
    assert doc["deep"]["blob"] == {"kind": "rundial.evidence_marker",
                                   "status": "offline_unavailable", "key": "deep.blob",
                                   "sizeBytes": EVIDENCE_BYTES + 1,
                                   "sha256": evidence[1].sha256,
                                   "contentType": "application/octet-stream"}


def test_oversized_attrs_become_the_truncation_marker() -> None:
    """Encoded attributes over the limit are replaced by up to 32 sorted original keys."""
    attrs = {f"k{i:03d}": "v" * 500 for i in range(40)}
    doc = json.loads(encode_attrs(attrs))
    assert doc == {"rundial.originalKeys": sorted(attrs)[:32], "rundial.truncated": True}


class FakeUploader:
    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.calls: list[tuple[str, str, dict[str, Any], Any]] = []

    def upload_blob(self, name: str, artifact_type: str, path: str, data: bytes,
                    content_type: str, metadata: dict[str, Any], on_done: Any) -> bool:
        self.calls.append((name, path, metadata, on_done))
        return self.accept


def evidence_span(t: Tracer) -> Span:
    span = t.trace("big", attrs={"tool.output": "o" * (EVIDENCE_BYTES + 10), "small": 1})
    span.finish()
    return span


def test_evidence_span_waits_for_its_upload() -> None:
    """A span with a large value is queued only after its upload, with a reference."""
    queued: list[Span] = []
    counters = Counters()
    uploader = FakeUploader()
    uploads = EvidenceUploads(queued.append, counters, lambda: uploader, offline=False)
    t = Tracer(uploads.submit)
    span = evidence_span(t)
    name, path, metadata, done = uploader.calls[0]
    assert name == f"trace-evidence-{span.span_id}" and path == "evidence/tool.output.txt"
    assert metadata == {"traceId": span.trace_id, "spanId": span.span_id, "attrKey": "tool.output"}
    assert queued == [] and uploads.pending == 1
    done("art_9", 1, None)
    attrs = json.loads(queued[0].wire()["attrsJson"])
    assert attrs["tool.output"]["artifactId"] == "art_9" and attrs["small"] == 1
    assert counters.evidence_uploaded == 1 and uploads.pending == 0


@pytest.mark.parametrize(("offline", "accept", "outcome", "status"), [
    (True, True, None, "offline_unavailable"),
    (False, False, None, "upload_unavailable"),
    (False, True, "fail", "upload_failed"),
    (False, True, "settle", "upload_incomplete"),
])
def test_evidence_falls_back_to_markers(offline: bool, accept: bool, outcome: str | None,
                                        status: str) -> None:
    """Offline, refused, failed or unfinished uploads give markers; the span is never lost."""
    queued: list[Span] = []
    counters = Counters()
    uploader = FakeUploader(accept)
    uploads = EvidenceUploads(queued.append, counters, lambda: uploader, offline=offline)
    evidence_span(Tracer(uploads.submit))
    if outcome == "fail":
        uploader.calls[0][3](None, None, "HTTP 403")
    elif outcome == "settle":
        assert uploads.settle() == 1
        uploader.calls[0][3]("late", 1, None)  # a late answer changes nothing
    attrs = json.loads(queued[0].wire()["attrsJson"])
    assert attrs["tool.output"]["status"] == status and counters.evidence_markers == 1
    assert len(queued) == 1


def test_run_trace_sends_spans(make_run: MakeRun, double: CollectorDouble) -> None:
    """run.trace/tool_call spans reach /ingest/traces with the run's id inherited."""
    run = make_run(kind="agent")
    with run.trace("plan", attrs={"goal": "x"}) as span:
        span.event("thought", {"text": "hmm"})
        run.tool_call("calc", input={"a": 1}, output=2)
    run._worker.cycle()
    assert double.paths()[-1] == "/api/v1/ingest/traces"
    tool, plan = double.spans
    assert tool["runId"] == "run_test" and tool["parentSpanId"] == plan["spanId"]
    assert json.loads(tool["attrsJson"]) == {"tool.input": {"a": 1}, "tool.name": "calc",
                                             "tool.output": 2}
    assert run.diagnostics().accepted_points == 2


class _Hostile:
    """A value whose every conversion raises (``__index__`` like a numpy array, and ``__str__``)."""

    def __index__(self) -> int:
        raise TypeError("only integer scalar arrays can be converted to a scalar index")

    def __str__(self) -> str:
        raise RuntimeError("no string form either")


def test_numpy_arrays_in_attrs_become_lists_and_the_users_exception_survives() -> None:
    """#13.19: an array attribute never raises into user code; it is sent as a (bounded) list."""
    np = pytest.importorskip("numpy")
    t, ended = tracer()
    with pytest.raises(ValueError, match="the user's own error"):
        with t.trace("rerank", attrs={"scores": np.array([.1, .9])}):
            raise ValueError("the user's own error")
    t.tool_call("embed", input=np.float32(0.5), output=np.arange(6).reshape(2, 3))
    rerank, tool = ended
    assert rerank.status == "error" and rerank.attrs["scores"] == [0.1, 0.9]
    assert tool.attrs["tool.output"] == [[0, 1, 2], [3, 4, 5]] and tool.attrs["tool.input"] == 0.5
    assert json.loads(rerank.wire()["attrsJson"])["scores"] == [0.1, 0.9]


def test_array_conversion_is_bounded_and_hostile_values_become_strings() -> None:
    """Long arrays keep their first 128 items; arrays too big even then become their bounded
    string form; a 0-d array is its scalar; a value whose conversions all raise is named."""
    np = pytest.importorskip("numpy")
    attrs = normalise({"long": np.arange(1_000_000), "wide": np.zeros((200, 100)),
                       "zero_d": np.array(3.5), "hostile": _Hostile(), "nested": [np.array([1, 2])]})
    assert attrs["long"] == list(range(128))
    assert isinstance(attrs["wide"], str) and len(attrs["wide"]) < 2_000
    assert attrs["zero_d"] == 3.5 and attrs["nested"] == [[1, 2]]
    assert attrs["hostile"] == "<unprintable _Hostile>"


def test_run_trace_with_a_numpy_attribute_is_sent(make_run: MakeRun, double: CollectorDouble) -> None:
    """End of the path: the span with an array attribute reaches the collector."""
    np = pytest.importorskip("numpy")
    run = make_run()
    with run.trace("rerank", attrs={"scores": np.array([.1, .9])}):
        pass
    run.tool_call("search", output=np.array([1, 2, 3]))
    run._worker.cycle()
    sent = {span["name"]: json.loads(span["attrsJson"]) for span in double.spans}
    assert sent["rerank"]["scores"] == [0.1, 0.9] and sent["tool:search"]["tool.output"] == [1, 2, 3]
