"""Open copies of long-open spans (``_producers.open_spans``): shipped once by the worker after
the threshold, then the closed copy; short spans send nothing extra."""

from __future__ import annotations

import json
import threading
from typing import Any

from rundial._producers.open_spans import OPEN_SPAN_SHIP_AFTER_SECONDS, OpenCopy
from rundial._producers.trace import Span, Tracer
from tests.sdk.conftest import CollectorDouble, MakeRun

THRESHOLD_NS = int(OPEN_SPAN_SHIP_AFTER_SECONDS * 1e9)


class FakeNs:
    """A nanosecond clock moved by hand."""

    def __init__(self) -> None:
        self.now = 10**18

    def __call__(self) -> int:
        return self.now


def test_long_open_spans_are_shipped_once_then_closed() -> None:
    """Nested and other-thread spans: only those open past the threshold, each once."""
    clock = FakeNs()
    ended: list[Span] = []
    shipped: list[Any] = []
    tracer = Tracer(ended.append, clock_ns=clock)
    opened: list[Span] = []

    def in_thread() -> None:
        opened.append(tracer.trace("worker-thread").__enter__())

    with tracer.trace("outer", attrs={"task": [1, 2]}) as outer:
        with tracer.trace("short"):
            clock.now += 1000
        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
        clock.now += THRESHOLD_NS - 2000
        assert tracer.ship_open(shipped.append) == 0
        clock.now += 1000  # "outer" reaches the threshold; the thread's span 1 µs later
        assert tracer.ship_open(shipped.append) == 1
        clock.now += 1000
        assert tracer.ship_open(shipped.append) == 1
        assert tracer.ship_open(shipped.append) == 0  # once
        outer.event("step")
    items = [copy.wire() for copy in shipped]
    assert all(isinstance(copy, OpenCopy) for copy in shipped)
    assert sorted(i["name"] for i in items) == ["outer", "worker-thread"]
    assert all(i["endNs"] is None and i["status"] == "unset" for i in items)
    first = next(i for i in items if i["name"] == "outer")
    assert first["spanId"] == outer.span_id and json.loads(first["attrsJson"]) == {"task": [1, 2]}
    assert first["events"] == []  # the copy is a snapshot: the later event is not in it
    assert [s.name for s in ended] == ["short", "outer"]
    assert outer.wire()["endNs"] is not None and len(outer.wire()["events"]) == 1
    opened[0].finish()
    assert len(tracer.open_spans) == 0


def test_a_span_that_ends_first_is_never_shipped_open() -> None:
    clock = FakeNs()
    shipped: list[Any] = []
    tracer = Tracer(lambda span: None, clock_ns=clock)
    with tracer.trace("done"):
        pass
    clock.now += 10 * THRESHOLD_NS
    assert tracer.ship_open(shipped.append) == 0 and shipped == []


def test_the_worker_sends_the_open_copy_then_the_closed_one(make_run: MakeRun,
                                                            double: CollectorDouble) -> None:
    run = make_run(kind="agent")
    clock = FakeNs()
    run._events.tracer.clock_ns = clock
    span = run.trace("long")
    span.__enter__()
    run._worker.cycle()
    assert double.spans == []
    clock.now += THRESHOLD_NS
    run._worker.cycle()
    assert [(s["name"], s["endNs"]) for s in double.spans] == [("long", None)]
    run._worker.cycle()
    assert len(double.spans) == 1  # not again
    clock.now += 1000
    span.__exit__(None, None, None)
    run._worker.cycle()
    assert [s["endNs"] for s in double.spans] == [None, str(clock.now)]
    assert {s["spanId"] for s in double.spans} == {span.span_id}
