"""Exit paths (with-block statuses, atexit) and fork safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rundial as rd
from rundial import MockTransport
from rundial._run.exit import status_for
from tests.sdk.conftest import CollectorDouble


def test_status_for_exceptions() -> None:
    """No exception: completed; KeyboardInterrupt: aborted; others: failed with the reason."""
    assert status_for(None, None) == ("completed", None)
    assert status_for(KeyboardInterrupt, KeyboardInterrupt()) == ("aborted", "KeyboardInterrupt")
    assert status_for(SystemExit, SystemExit(0)) == ("completed", None)
    assert status_for(SystemExit, SystemExit(3))[0] == "aborted"
    assert status_for(ValueError, ValueError("bad lr")) == ("failed", "ValueError: bad lr")


def test_exception_in_with_marks_the_run_failed(isolated_env: Path, tmp_path: Path) -> None:
    """An exception inside ``with`` sends status failed with the exception as reason, and propagates."""
    double = CollectorDouble()
    with pytest.raises(ZeroDivisionError):
        with rd.init(project="p", transport=MockTransport(double), spool_directory=str(tmp_path)) as run:
            run.log({"a": 1})
            1 / 0  # noqa: B018
    status = [d for _m, p, d in double.calls if p.endswith("/status")][0]
    assert status["status"] == "failed" and status["reason"].startswith("ZeroDivisionError")
    assert run.state == "failed"


def test_atexit_finishes_open_runs(tmp_path: Path) -> None:
    """A script that never calls finish still delivers its data and status at exit."""
    script = textwrap.dedent(f"""
        import json, gzip, rundial as rd
        from rundial import MockTransport, Response
        out = open({str(tmp_path / "log.jsonl")!r}, "a")
        def handler(req):
            body = gzip.decompress(req.body) if req.headers.get("content-encoding") == "gzip" else req.body
            out.write(json.dumps([req.path, json.loads(body or b"null")]) + "\\n"); out.flush()
            return Response(200, b'{{"runId": "x", "projectId": "p"}}')
        run = rd.init(project="p", transport=MockTransport(handler), spool_directory={str(tmp_path / "s")!r})
        for i in range(100):
            run.log({{"a": i}})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)})
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    rows = [r for path, doc in lines if path.endswith("/ingest/metrics") for r in doc["rows"]]
    training = [r for r in rows if not all(key.startswith("system/") for key in r[2])]
    assert [r[0] for r in training] == list(range(100))  # plus the first system sample (#13.11)
    assert lines[-1][0].endswith("/status") and lines[-1][1]["status"] == "completed"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_its_own_writer_and_never_touches_the_parents(isolated_env: Path,
                                                                        tmp_path: Path) -> None:
    """After fork the child logs through a new writer directory; the parent's files are intact."""
    run = rd.init(project="p", run_id="run_fork", mode="offline", spool_directory=str(tmp_path),
                  system_metrics=False)
    run.log({"parent": 1}, step=0)
    assert run.flush(timeout_s=5)
    run_dir = tmp_path / "run_fork"
    parent_writer = run._worker.spool.own.directory
    before = {p: p.read_bytes() for p in parent_writer.glob("*.json.gz")}
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            assert run._worker.thread is None
            run.log({"child": 1}, step=1)
            ok = run.flush(timeout_s=5) and run._worker.spool.own.directory != parent_writer
            code = 0 if ok and run.finish(timeout_s=5) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    run.log({"parent": 2}, step=2)
    assert run.finish(timeout_s=5)
    for path, data in before.items():
        assert path.read_bytes() == data
    writers = [d for d in run_dir.iterdir() if d.is_dir()]
    assert len(writers) == 2
    steps = sorted(json.loads(__import__("gzip").decompress(p.read_bytes()))["rows"][0][0]
                   for p in run_dir.glob("w_*/*.json.gz"))
    assert steps == [0, 1, 2]
