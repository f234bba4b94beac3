"""Console capture: the tee keeps the stream's behaviour; lines, progress bars and bounds."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from rundial._producers.console import ConsoleCapture, LineAssembler, TeeStream, TokenBucket
from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun


class Sink:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, level: str, message: str) -> None:
        self.lines.append((level, message))

    @property
    def messages(self) -> list[str]:
        return [m for _l, m in self.lines]


def assembler(clock: FakeClock, sink: Sink, window_s: float = 1.0) -> LineAssembler:
    return LineAssembler("info", sink, TokenBucket(clock=clock), window_s=window_s, clock=clock)


def test_newlines_end_lines_and_partial_writes_join(clock: FakeClock) -> None:
    """Writes are joined until a newline; blank lines are not sent."""
    sink = Sink()
    lines = assembler(clock, sink)
    for chunk in ("hel", "lo\nwor", "ld\n\n", "tail"):
        lines.feed(chunk)
    assert sink.messages == ["hello", "world"]
    lines.close()
    assert sink.messages == ["hello", "world", "tail"]


def test_carriage_return_rewrites_collapse_per_window(clock: FakeClock) -> None:
    """A tqdm-style bar rewritten 100 times in 2 s yields its first state, one per window and
    the final state, instead of 100 lines."""
    sink = Sink()
    lines = assembler(clock, sink)
    for pct in range(0, 101):
        lines.feed(f"\r{pct:3d}%|{'#' * (pct // 10):10}|")
        clock.advance(0.02)
    lines.feed("\n")
    assert sink.messages[0] == "  0%|          |"
    assert sink.messages[-1] == "100%|##########|"
    assert 3 <= len(sink.messages) <= 4


def test_poll_emits_a_stalled_progress_state(clock: FakeClock) -> None:
    """The worker's poll sends a rewritten line whose window elapsed, even without new writes."""
    sink = Sink()
    lines = assembler(clock, sink)
    lines.feed("\r10%")
    lines.feed("\r20%")
    lines.poll()
    assert sink.messages == ["10%"]
    clock.advance(1.5)
    lines.poll()
    assert sink.messages == ["10%", "20%"]


def test_long_lines_are_split_at_8kib(clock: FakeClock) -> None:
    """An unfinished line over 8 KiB is sent in 8 KiB pieces; none is lost."""
    sink = Sink()
    lines = assembler(clock, sink)
    lines.feed("x" * 20_000)
    lines.feed("y\n")
    assert "".join(sink.messages) == "x" * 20_000 + "y"
    assert all(len(m) <= 8192 for m in sink.messages)


def test_the_byte_budget_bounds_volume(clock: FakeClock) -> None:
    """Beyond the token bucket's burst, lines are refused (and counted) until it refills."""
    bucket = TokenBucket(rate=100, burst=250, clock=clock)
    sink = Sink()
    lines = LineAssembler("info", sink, bucket, clock=clock)
    for _ in range(5):
        lines.feed("x" * 99 + "\n")
    assert len(sink.messages) == 2 and bucket.refused == 3
    clock.advance(1.0)
    lines.feed("y" * 99 + "\n")
    assert len(sink.messages) == 3


def test_a_sink_that_prints_does_not_recurse(clock: FakeClock) -> None:
    """A write made from inside the sink (e.g. a warning) is not captured again."""
    lines: list[LineAssembler] = []

    def sink(level: str, message: str) -> None:
        lines[0].feed("echo\n")
        seen.append(message)

    seen: list[str] = []
    lines.append(LineAssembler("info", sink, TokenBucket(clock=clock), clock=clock))
    lines[0].feed("one\n")
    assert seen == ["one"]


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return 42


def test_the_tee_writes_through_and_delegates(clock: FakeClock) -> None:
    """The original stream gets every write first; isatty, fileno, encoding come from it."""
    original = FakeTty()
    sink = Sink()
    tee = TeeStream(original, assembler(clock, sink))  # type: ignore[arg-type]
    assert tee.write("a\rb\n") == 4
    tee.writelines(["c\n"])
    tee.flush()
    assert original.getvalue() == "a\rb\nc\n"
    assert tee.isatty() and tee.fileno() == 42 and tee.getvalue() == original.getvalue()
    assert sink.messages == ["b", "c"]


def test_capture_installs_and_restores_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout is captured as info, stderr as error; restore puts the originals back."""
    out, err = FakeTty(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    sink = Sink()
    capture = ConsoleCapture(sink)
    assert sys.stdout is not out and sys.stdout.isatty() and not sys.stderr.isatty()
    print("to stdout")
    print("to stderr", file=sys.stderr, end="")
    capture.restore()
    assert sys.stdout is out and sys.stderr is err
    assert sink.lines == [("info", "to stdout"), ("error", "to stderr")]
    assert out.getvalue() == "to stdout\n" and err.getvalue() == "to stderr"


def test_capture_console_logs_through_the_run(make_run: MakeRun, monkeypatch: pytest.MonkeyPatch,
                                              double: object) -> None:
    """capture_console=True: printed lines become log lines of the run; finish restores."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    run = make_run(capture_console=True)
    print("epoch 1 done")
    run._worker.cycle()
    assert double.lines[0]["message"] == "epoch 1 done"  # type: ignore[attr-defined]
    assert double.lines[0]["level"] == "info"  # type: ignore[attr-defined]
    run.finish(timeout_s=1)
    assert sys.stdout is out


def test_a_full_queue_drops_console_lines_not_metrics(make_run: MakeRun,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """When the queue is full, captured lines are dropped and counted; metric rows stay."""
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    run = make_run(capture_console=True, queue_capacity=2, flush_at_records=100)
    run.log({"a": 1.0})
    run.log({"a": 2.0})
    print("lost")
    diag = run.diagnostics()
    assert diag.dropped_log_lines_queue_full == 1 and len(run._queue) == 2
    assert all(isinstance(r, tuple) for r in run._queue)
    run.finish(timeout_s=1)


def test_nested_captures_unwind_in_any_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two captures ended in the order they began leave the original stream installed."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    first, second = Sink(), Sink()
    outer = ConsoleCapture(first)
    inner = ConsoleCapture(second)
    print("both")
    outer.restore()  # the inner tee is installed: the outer one becomes a pass-through
    print("inner only")
    inner.restore()
    assert sys.stdout is out and out.getvalue() == "both\ninner only\n"
    assert first.messages == ["both"] and second.messages == ["both", "inner only"]


@pytest.fixture
def app_logger() -> Iterator[logging.Logger]:
    """A logger of the program's own, not propagating to pytest's handlers."""
    logger = logging.getLogger(f"app13_10.{id(object())}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def _fake_stderr(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Replace sys.stderr in the test body (pytest re-installs its own after fixtures)."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    return err


@pytest.mark.parametrize("configured", ["before", "after"])
def test_logging_is_captured_once_at_its_own_level(app_logger: logging.Logger,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   configured: str) -> None:
    """#13.10: logging set up before capture (the usual order) is captured too, and every
    record keeps its level (info was stored as error); a plain stderr line stays error."""
    logger, err = app_logger, _fake_stderr(monkeypatch)
    sink = Sink()
    if configured == "before":
        handler = logging.StreamHandler()  # holds the original sys.stderr
        logger.addHandler(handler)
        capture = ConsoleCapture(sink)
    else:
        capture = ConsoleCapture(sink)
        handler = logging.StreamHandler()  # holds the tee
        logger.addHandler(handler)
    logger.info("step 5 done")
    logger.warning("lr is high")
    logger.debug("details")
    print("raw stderr", file=sys.stderr)
    capture.restore()
    assert sink.lines == [("info", "step 5 done"), ("warn", "lr is high"), ("debug", "details"),
                          ("error", "raw stderr")]
    assert err.getvalue() == "step 5 done\nlr is high\ndetails\nraw stderr\n"
    assert handler.stream is (err if configured == "before" else capture_tee_of(err, handler))


def capture_tee_of(err: io.StringIO, handler: logging.StreamHandler) -> object:
    """A handler created during capture keeps the tee it was given (a pass-through now)."""
    assert isinstance(handler.stream, TeeStream) and handler.stream._rd_stream is err
    return handler.stream


def test_capture_console_stores_preconfigured_logging_at_its_level(
        make_run: MakeRun, double: CollectorDouble, app_logger: logging.Logger,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the run: a logging.info line configured before rd.init arrives as info."""
    logger = app_logger
    _fake_stderr(monkeypatch)
    logger.addHandler(logging.StreamHandler())
    run = make_run(capture_console=True)
    logger.info("loaded 10 shards")
    logger.error("shard 3 is corrupt")
    run._worker.cycle()
    assert [(line["level"], line["message"]) for line in double.lines] == [
        ("info", "loaded 10 shards"), ("error", "shard 3 is corrupt")]
    run.finish(timeout_s=1)
