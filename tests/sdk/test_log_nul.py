"""NUL (U+0000) in log lines: the collector rejects a line holding one in ``message`` alone
(counted ``server_rejected``, the line lost). ``run.log_text`` now refuses it at the call in
every mode; text nobody can be told about (captured console output, the traceback ending a
run, the compat shims' string series) has each NUL replaced by U+FFFD, so the line is kept.
A disabled run's ``trace`` checks ``kind`` and ``attrs`` as ``Run.trace`` does. A message
holding a lone surrogate is refused at the call too (it was sent with ``?`` in its place), and
captured text and the shims' lines keep ``?`` for one."""

from __future__ import annotations

import io
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from rundial._producers.console import LineAssembler, TokenBucket
from rundial._wire.logs import MAX_MESSAGE_BYTES
from rundial.compat._keyed import Recorder
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.conftest import CollectorDouble, FakeClock, MakeRun
from tests.sdk.wandb_support import Recorder as WandbRecorder
from tests.sdk.wandb_support import make_run as make_wandb_run

NUL_TEXT = "loss\x00nan"
KEPT_TEXT = "loss\ufffdnan"
SURROGATE_TEXT = "file \udcff.txt"
KEPT_SURROGATE_TEXT = "file ?.txt"


class Printed:
    """An object whose ``str()`` is ``text`` (a non-str message is sent as its ``str()``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


@pytest.fixture(params=["online", "offline", "disabled"])
def any_run(request: pytest.FixtureRequest, make_run: MakeRun) -> Any:
    """A run in each mode: the check is made at the call, never on the worker."""
    if request.param == "disabled":
        return rd.init(mode="disabled")
    return make_run(mode=request.param)


def test_log_text_with_nul_raises_at_the_call_in_every_mode(any_run: Any) -> None:
    """A message holding NUL, given as text or as an object's str(), is a ValueError naming
    ``message`` with the index of the NUL, and nothing is queued."""
    depth = any_run.diagnostics().queue_depth
    with pytest.raises(ValueError, match=r"message must not hold NUL \(U\+0000\).*index 4"):
        any_run.log_text(NUL_TEXT)
    with pytest.raises(ValueError, match=r"message must not hold NUL .*index 0"):
        any_run.log_text(Printed("\x00obj"), "warn")
    assert any_run.diagnostics().queue_depth == depth
    assert any_run.log_text("loss nan") is True


@pytest.mark.parametrize(("bad", "error", "message"), [
    ({"kind": "bogus"}, ValueError, r"kind must be one of .*not 'bogus'"),
    ({"kind": None}, ValueError, r"kind must be one of .*not None"),
    ({"attrs": [("a", 1)]}, TypeError, r"attrs must be a mapping, not list"),
    ({"attrs": "a=1"}, TypeError, r"attrs must be a mapping, not str"),
])
def test_a_disabled_run_checks_trace_arguments_as_a_run_does(
        make_run: MakeRun, bad: dict[str, Any], error: type[Exception], message: str) -> None:
    """``kind`` and ``attrs`` that ``Run.trace`` refuses raise the same error on a disabled
    run (it used to hand back a span that did nothing)."""
    for run in (make_run(kind="agent"), rd.init(mode="disabled")):
        with pytest.raises(error, match=message):
            run.trace("step", **bad)


def test_a_disabled_run_checks_kind_before_the_name_as_a_run_does(make_run: MakeRun) -> None:
    """With several bad arguments, both runs name the same one first (the shared check)."""
    errors = []
    for run in (make_run(kind="agent"), rd.init(mode="disabled")):
        with pytest.raises(ValueError) as caught:
            run.trace("a\x00b", kind="bogus", trace_id="\x00")
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and errors[0].startswith("kind must be one of")


def test_captured_console_lines_keep_nul_as_replacement(make_run: MakeRun,
                                                         double: CollectorDouble,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A printed line holding NUL never raises into the program; it is queued with U+FFFD in
    place of each NUL (the stream itself gets the text as written)."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    run = make_run(capture_console=True)
    print(NUL_TEXT)
    print("\x00\x00 twice")
    run._worker.cycle()
    assert [line["message"] for line in double.lines] == [KEPT_TEXT, "\ufffd\ufffd twice"]
    assert out.getvalue() == f"{NUL_TEXT}\n\x00\x00 twice\n"
    run.finish(timeout_s=1)


def test_a_long_captured_line_of_nul_is_split_after_replacement(clock: FakeClock) -> None:
    """NUL is replaced before a long line is split, so each piece stays within 8 KiB once
    U+FFFD (3 UTF-8 bytes) stands for each NUL (1 byte), and nothing is cut."""
    lines: list[str] = []
    assembler = LineAssembler("info", lambda _level, line: lines.append(line),
                              TokenBucket(clock=clock), clock=clock)
    assembler.feed("\x00" * 3000 + "\n")
    assert "".join(lines) == "\ufffd" * 3000
    assert len(lines) == 2
    assert all(len(line.encode("utf-8")) <= MAX_MESSAGE_BYTES for line in lines)


def test_the_traceback_ending_a_run_keeps_nul_as_replacement(make_run: MakeRun,
                                                             double: CollectorDouble) -> None:
    """An exception whose message holds NUL ends ``with run:`` with its traceback logged as
    one error line, U+FFFD in place of the NUL."""
    run = make_run()
    with pytest.raises(RuntimeError), run:
        raise RuntimeError(NUL_TEXT)
    errors = [line["message"] for line in double.lines if line["level"] == "error"]
    assert len(errors) == 1 and f"RuntimeError: {KEPT_TEXT}" in errors[0]
    assert "\x00" not in errors[0]


def test_compat_string_series_keep_nul_as_replacement(make_run: MakeRun,
                                                      double: CollectorDouble) -> None:
    """A shim's string-series value holding NUL (the libraries mimicked take any text) is a
    log line with U+FFFD, not an error."""
    run = make_run()
    Recorder(run).log_string("notes", NUL_TEXT, 3, None)
    run._worker.cycle()
    assert [line["message"] for line in double.lines] == [f"[notes step=3] {KEPT_TEXT}"]
    run.finish(timeout_s=1)


def test_wandb_text_and_alerts_keep_nul_as_replacement() -> None:
    """The wandb shim's history strings (sent at a later commit, where an error would hit the
    wrong call) and alerts with NUL become log lines with U+FFFD."""
    recorder = WandbRecorder()
    run = make_wandb_run(recorder)
    run.log({"note": NUL_TEXT})
    run.alert("slow\x00", NUL_TEXT)
    assert recorder.lines == [("info", f"[note step=0] {KEPT_TEXT}"),
                              ("warn", f"[ALERT INFO] slow\ufffd: {KEPT_TEXT}")]


def test_log_text_with_a_lone_surrogate_raises_at_the_call_in_every_mode(any_run: Any) -> None:
    """A message holding a lone surrogate, as text or as an object's str(), is a ValueError
    naming ``message`` (the text not shown), and nothing is queued; it used to go out with
    ``?`` in its place."""
    depth = any_run.diagnostics().queue_depth
    for message in (SURROGATE_TEXT, Printed("obj \ud800")):
        with pytest.raises(ValueError, match=r"^message must be valid Unicode text") as caught:
            any_run.log_text(message, "warn")
        assert "udcff" not in str(caught.value) and "ud800" not in str(caught.value)
    assert any_run.diagnostics().queue_depth == depth


def test_captured_console_lines_keep_a_lone_surrogate_as_a_question_mark(
        make_run: MakeRun, double: CollectorDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    """A printed line holding a lone surrogate never raises into the program; it is sent with
    ``?`` in its place, a long line's pieces too."""
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    run = make_run(capture_console=True)
    print(SURROGATE_TEXT, file=sys.stderr)
    print("\udcff" * 3000, file=sys.stderr)
    run._worker.cycle()
    messages = [line["message"] for line in double.lines]
    assert messages[0] == KEPT_SURROGATE_TEXT and "".join(messages[1:]) == "?" * 3000
    run.finish(timeout_s=1)


def test_compat_text_lines_keep_a_lone_surrogate_as_a_question_mark(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """The shims' string series, wandb history strings and alerts (their libraries take any
    text) become lines with ``?`` for a lone surrogate where ``log_text`` would raise."""
    run = make_run()
    Recorder(run).log_string("notes", SURROGATE_TEXT, 3, None)
    run._worker.cycle()
    assert [line["message"] for line in double.lines] == [f"[notes step=3] {KEPT_SURROGATE_TEXT}"]
    run.finish(timeout_s=1)
    recorder = WandbRecorder()
    wandb_run = make_wandb_run(recorder)
    wandb_run.log({"note": SURROGATE_TEXT})
    wandb_run.alert("slow\udcff", "x")
    assert recorder.lines == [("info", f"[note step=0] {KEPT_SURROGATE_TEXT}"),
                              ("warn", "[ALERT INFO] slow?: x")]


def logs_of(proc: CollectorProcess, run: rd.Run) -> list[dict[str, Any]]:
    status, _, reply = request("POST", proc.url + "/api/v1/query/logs",
                               {"projectId": run.project_id, "runId": run.run_id,
                                "order": "asc"}, api_key=proc.api_key)
    assert status == 200, reply
    return list(reply["rows"])


def test_a_captured_line_with_nul_reaches_a_real_collector(
        shared_collector: CollectorProcess, isolated_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a real collector: ``log_text`` with NUL raises at the call; a captured line with
    NUL is stored with U+FFFD in its place, nothing rejected or dropped."""
    proc = shared_collector
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(tmp_path / "spool"),
                  run_id=f"run-log-nul-{uuid.uuid4().hex[:8]}", system_metrics=False,
                  capture_console=True)
    assert isinstance(run, rd.Run)
    with pytest.raises(ValueError, match="message must not hold NUL"):
        run.log_text(NUL_TEXT)
    print(NUL_TEXT)
    assert run.finish(timeout_s=60) is True
    assert [row["message"] for row in logs_of(proc, run)] == [KEPT_TEXT]
    diagnostics = run.diagnostics()
    assert diagnostics.dropped == {} and diagnostics.batches_rejected == 0
