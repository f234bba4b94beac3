"""The SIGTERM handler's rules and the uncaught-exception hook (handler called directly)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from rundial._run import exit, signals
from tests.sdk.conftest import CollectorDouble, MakeRun


class FakeRun:
    def __init__(self) -> None:
        self.killed: str | None = None
        self.crashed: tuple[Any, ...] | None = None

    def _mark_killed(self, reason: str) -> None:
        self.killed = reason

    def _crash(self, *exc: Any) -> None:
        self.crashed = exc

    def finish(self, timeout_s: float | None = None) -> bool:
        return True


@pytest.fixture
def sigterm() -> Iterator[None]:
    """Restore SIGTERM's disposition and the module state after the test."""
    saved = signal.getsignal(signal.SIGTERM)
    previous = signals._previous
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved)
        signals._previous = previous
        signals._deferred_exit = None


@pytest.fixture
def open_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    run = FakeRun()
    monkeypatch.setattr(exit, "_open", {id(run): run})
    return run


def test_an_ignored_sigterm_is_left_alone(sigterm: None) -> None:
    """A program that ignores SIGTERM keeps ignoring it."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    assert not signals.install_sigterm()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


def test_default_disposition_marks_runs_killed_and_exits_143(sigterm: None,
                                                             open_run: FakeRun) -> None:
    """Over SIG_DFL: runs are marked killed, SIGTERM is reset and SystemExit(143) raised."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert signals.install_sigterm()
    with pytest.raises(SystemExit) as exit_info:
        signals._on_sigterm(signal.SIGTERM, None)
    assert exit_info.value.code == 143 and open_run.killed == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_python_handler_is_chained(sigterm: None, open_run: FakeRun) -> None:
    """A handler installed before ours is called after the runs are marked; no SystemExit."""
    calls: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    assert signals.install_sigterm()
    signals._on_sigterm(signal.SIGTERM, None)
    assert calls == [signal.SIGTERM] and open_run.killed == "SIGTERM"


def test_exit_waits_for_a_finish_in_progress(sigterm: None, open_run: FakeRun) -> None:
    """A SIGTERM inside a run's finish defers SystemExit until that finish returns."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signals.install_sigterm()
    steps: list[str] = []
    with pytest.raises(SystemExit):
        with signals.finishing():
            signals._on_sigterm(signal.SIGTERM, None)
            steps.append("finish went on")
    assert steps == ["finish went on"]


def test_the_excepthook_chains_and_ends_open_runs(open_run: FakeRun,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An uncaught exception is printed by the previous hook, then ends every open run."""
    printed: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: printed.append(t))
    signals.install_excepthook()
    try:
        error = RuntimeError("boom")
        sys.excepthook(RuntimeError, error, None)
    finally:
        sys.excepthook = signals._previous_hook
    assert printed == [RuntimeError] and open_run.crashed == (RuntimeError, error, None)


def test_a_killed_run_finishes_as_killed(make_run: MakeRun, double: CollectorDouble) -> None:
    """Once marked, the run ends ``killed`` with reason SIGTERM whatever finish asked for."""
    run = make_run()
    run.log({"a": 1.0})
    run._mark_killed("SIGTERM")
    run.__exit__(SystemExit, SystemExit(143), None)
    status = [d for _m, p, d in double.calls if p.endswith("/status")][0]
    assert (status["status"], status["reason"]) == ("killed", "SIGTERM") and run.state == "killed"
    assert "SIGTERM received" in double.lines[0]["message"]
