"""End to end: log lines, console capture, spans and trace evidence, against the real collector."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.sdk.e2e_support import init_run, read_logs, run_details

V1 = "/api/v1"


def _init(proc: CollectorProcess, tmp_path: Path, **extra: Any) -> rd.Run:
    return init_run(proc, tmp_path / "spool", **extra)


def read_spans(proc: CollectorProcess, run_id: str) -> list[dict[str, Any]]:
    """The run's span tree (roots with nested ``children``)."""
    body = {"projectId": proc.project, "runId": run_id}
    status, _, payload = request("POST", proc.url + V1 + "/query/spans", body, api_key=proc.api_key)
    assert status == 200, payload
    return list(payload["spans"])


def test_log_levels_and_truncation(shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """Each level is stored as sent; an over-long message is cut to 8 KiB and flagged."""
    with _init(shared_collector, tmp_path) as run:
        for level in ("debug", "info", "warning", "error"):
            run.log_text(f"a {level} line", level=level)
        run.log_text("é" * 5000, "info")
        run.log({"loss": 1.0})
    rows = read_logs(shared_collector, run.id)
    assert [(r["level"], r["message"]) for r in rows[:4]] == [
        ("debug", "a debug line"), ("info", "a info line"), ("warn", "a warning line"),
        ("error", "a error line")]
    long = rows[4]
    assert long["truncated"] and long["message"] == "é" * 4096
    assert not any(r["truncated"] for r in rows[:4])
    assert read_logs(shared_collector, run.id, minLevel="warn")[0]["message"] == "a warning line"
    diag = run.diagnostics()
    assert diag.log_lines_truncated == 1 and diag.accepted_points == 6 and diag.dropped == {}


CONSOLE = textwrap.dedent("""
    import sys, time
    import rundial as rd
    url, key, ws, proj, spool, out = sys.argv[1:7]
    run = rd.init(workspace=ws, project=proj, endpoint=url, api_key=key, spool_directory=spool,
                  capture_console=True, system_metrics=False)
    tty = sys.stdout.isatty(), sys.stdout.fileno(), sys.stdout.encoding
    print("starting")
    started = time.monotonic()
    for i in range(101):  # a tqdm-style bar: 101 rewrites in ~2 s
        sys.stderr.write(f"\\rtrain: {i:3d}%|{'#' * (i // 10):10}| {i}/100")
        sys.stderr.flush()
        time.sleep(0.02)
    sys.stderr.write("\\n")
    elapsed = time.monotonic() - started
    print("done")
    run.finish()
    with open(out, "w") as fh:
        fh.write(repr((tty, run.id, sys.stdout is sys.__stdout__, elapsed)))
""")


def _drain(fd: int, sink: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        sink.extend(chunk)


def test_console_capture_collapses_progress_and_keeps_the_terminal(
        shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """On a real terminal: isatty still works, the output is unchanged, and a tqdm-style bar
    becomes a few log lines (its final state included) instead of 101."""
    proc, out = shared_collector, tmp_path / "result.txt"
    master, slave = pty.openpty()
    seen = bytearray()
    reader = threading.Thread(target=_drain, args=(master, seen), daemon=True)
    reader.start()
    child = subprocess.run(
        [sys.executable, "-c", CONSOLE, proc.url, proc.api_key, proc.workspace, proc.project,
         str(tmp_path / "spool"), str(out)], stdout=slave, stderr=slave, timeout=60)
    os.close(slave)
    reader.join(5)
    os.close(master)
    assert child.returncode == 0, bytes(seen).decode(errors="replace")
    (isatty, fileno, encoding), run_id, restored, elapsed = eval(out.read_text())  # noqa: S307
    assert isatty is True and fileno == 1 and encoding.lower().replace("-", "") == "utf8"
    assert restored is True
    terminal = bytes(seen).decode()
    assert terminal.count("\r") >= 101 and "100/100" in terminal  # the terminal saw everything
    rows = read_logs(proc, run_id)
    assert [(r["level"], r["message"]) for r in rows if r["level"] == "info"] == [
        ("info", "starting"), ("info", "done")]
    bars = [r["message"] for r in rows if r["level"] == "error"]
    assert 2 <= len(bars) <= elapsed + 3, bars  # first state, ~1 per second, final state
    assert bars[-1] == "train: 100%|##########| 100/100" and "\r" not in "".join(bars)


def test_nested_spans_and_tool_calls_form_a_tree(shared_collector: CollectorProcess,
                                                  tmp_path: Path) -> None:
    """Nested spans and a tool call arrive as one tree with parents, kinds, events and status."""
    with _init(shared_collector, tmp_path, kind="agent") as run:
        with run.trace("episode", attrs={"task": "sum"}) as episode:
            with run.trace("plan", kind="internal") as plan:
                plan.event("thought", {"text": "add them"})
                plan.set_attrs(steps=2)
            with run.trace("act"):
                run.tool_call("calculator", input={"a": 1, "b": 2}, output=3)
            try:
                with run.trace("check"):
                    raise ValueError("bad answer")
            except ValueError:
                pass
    roots = read_spans(shared_collector, run.id)
    assert [r["name"] for r in roots] == ["episode"]
    root = roots[0]
    assert root["spanId"] == episode.span_id and root["parentSpanId"] is None
    assert [c["name"] for c in root["children"]] == ["plan", "act", "check"]
    plan_, act, check = root["children"]
    assert all(c["parentSpanId"] == root["spanId"] and c["traceId"] == root["traceId"]
               for c in root["children"])
    assert plan_["events"][0]["name"] == "thought" and json.loads(plan_["attrsJson"]) == {"steps": 2}
    tool = act["children"][0]
    assert (tool["name"], tool["kind"], tool["status"]) == ("tool:calculator", "tool", "ok")
    assert json.loads(tool["attrsJson"])["tool.input"] == {"a": 1, "b": 2}
    assert check["status"] == "error" and check["events"][0]["name"] == "exception"
    assert int(root["startNs"]) <= int(plan_["startNs"]) <= int(root["endNs"])


def test_a_large_attribute_becomes_a_downloadable_evidence_artifact(
        shared_collector: CollectorProcess, tmp_path: Path) -> None:
    """A 40 KB tool output is uploaded as a trace_evidence artifact; the span holds a reference
    whose artifact downloads byte for byte, and unrelated metrics still arrive."""
    output = "".join(f"row {i}: {'x' * 30}\n" for i in range(1200))
    assert len(output) > 16 * 1024
    with _init(shared_collector, tmp_path, kind="agent") as run:
        run.log({"reward": 1.0})
        run.tool_call("fetch", input="https://example.test", output=output)
        run.log({"reward": 2.0}, step=1)
    span = read_spans(shared_collector, run.id)[0]
    ref = json.loads(span["attrsJson"])["tool.output"]
    assert ref["kind"] == "rundial.evidence_ref" and ref["key"] == "tool.output"
    assert ref["path"] == "evidence/tool.output.txt" and ref["sizeBytes"] == len(output)
    assert run.diagnostics().evidence_uploaded == 1 and run.diagnostics().dropped == {}
    with _init(shared_collector, tmp_path) as reader:
        handle = reader.use_artifact(f"trace-evidence-{span['spanId']}:v{ref['artifactVersion']}")
        folder = Path(handle.download(tmp_path / "evidence"))
    assert handle.artifact_id == ref["artifactId"] and handle.metadata["attrKey"] == "tool.output"
    assert (folder / ref["path"]).read_text() == output
    status, details = run_details(shared_collector, run.id)
    assert status == 200 and details["status"] == "completed"


def test_offline_lines_and_spans_replay_to_their_routes(shared_collector: CollectorProcess,
                                                        tmp_path: Path) -> None:
    """Offline log and span batches wait in the spool; replay_spool sends each to its route,
    and a large attribute becomes an offline marker."""
    proc, spool = shared_collector, tmp_path / "spool"
    with _init(proc, tmp_path, mode="offline", kind="agent") as run:
        run.log_text("offline line", "info")
        run.tool_call("dump", output=b"\x00" * 20_000)
    assert run_details(proc, run.id)[0] == 404  # nothing was sent while offline
    result = rd.replay_spool(str(spool), endpoint=proc.url, api_key=proc.api_key, timeout_s=30)
    assert result.batches_pending == 0 and result.batches_rejected == 0, result
    assert [r["message"] for r in read_logs(proc, run.id)] == ["offline line"]
    marker = json.loads(read_spans(proc, run.id)[0]["attrsJson"])["tool.output"]
    assert marker["kind"] == "rundial.evidence_marker" and marker["status"] == "offline_unavailable"
    assert marker["sizeBytes"] == 20_000 and run.diagnostics().evidence_markers == 1


def test_identical_lines_of_two_ranks_are_all_stored(shared_collector: CollectorProcess,
                                                     tmp_path: Path) -> None:
    """#13.20: two ranks of one run (``distributed="all"``) each log the same five lines at the
    same millisecond; their per-writer sequences coincide, yet all ten lines are stored."""
    proc = shared_collector
    run_id = f"run_two_ranks_{os.getpid()}_{id(tmp_path)}"
    ranks = [init_run(proc, tmp_path / f"spool{rank}", run_id=run_id, distributed="all",
                      distributed_rank=rank) for rank in (0, 1)]
    assert ranks[0].flush(timeout_s=10)  # rank 0 registers the run
    for run in reversed(ranks):
        for _ in range(5):
            run.log_text("epoch 1 done", time_ms=1_700_000_000_000)
        assert run.finish(timeout_s=10)
    lines = read_logs(proc, run_id)
    assert [line["message"] for line in lines] == ["epoch 1 done"] * 10
    assert sorted(line["sequence"] for line in lines) == sorted([*range(1, 6)] * 2)
