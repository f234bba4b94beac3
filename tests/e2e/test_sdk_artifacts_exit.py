"""End to end: artifacts, media and trace evidence left to the interpreter's exit (#13.13).

Python shuts ``concurrent.futures`` down before ``atexit`` hooks run, so the exit path must
not need a new executor or thread. Each test runs a real script in a subprocess against the
real collector and checks that the upload arrived, or stayed journaled — never rejected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from rundial._artifacts.uploader import resume_journal
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

PREAMBLE = textwrap.dedent("""
    import os, signal, sys
    import rundial as rd
    url, key, ws, proj, spool, path = sys.argv[1:7]
    run = rd.init(workspace=ws, project=proj, endpoint=url, api_key=key, spool_directory=spool,
                  run_id="exit-run")
""")
CHECKPOINT_AT_EXIT = PREAMBLE + "run.checkpoint(path)\n"  # no finish(): atexit does it
SIGTERM_WHILE_HASHING = PREAMBLE + "run.checkpoint(path)\nos.kill(os.getpid(), signal.SIGTERM)\n"
MEDIA_AND_EVIDENCE_AT_EXIT = PREAMBLE + textwrap.dedent("""
    run.log({"sample": rd.Table(columns=["a"], rows=[[1]])}, step=3)
    with run.trace("rerank", attrs={"doc": "x" * 40_000}):
        pass
""")


def _run_script(collector: CollectorProcess, script: str, spool: Path, path: Path
                ) -> subprocess.CompletedProcess[str]:
    args = [collector.url, collector.api_key, collector.workspace, collector.project,
            str(spool), str(path)]
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, timeout=120)


def _get(collector: CollectorProcess, path: str) -> Any:
    status, _, body = request("GET", collector.url + path, api_key=collector.api_key)
    assert status == 200, body
    return body


def _versions(collector: CollectorProcess, name: str) -> list[int]:
    body = _get(collector, f"/api/v1/artifacts/versions?workspace={collector.workspace}"
                           f"&project={collector.project}&name={name}")
    return [int(v["version"]) for v in body["versions"]]


def _journal(spool: Path, folder: str) -> list[Path]:
    return sorted((spool / "artifacts" / folder).glob("*.json"))


def test_a_checkpoint_left_to_the_exit_is_uploaded(collector: CollectorProcess,
                                                    tmp_path: Path) -> None:
    """A script ending with run.checkpoint() and no finish() publishes the version."""
    spool, model = tmp_path / "spool", tmp_path / "small.pt"
    model.write_bytes(os.urandom(1024))
    done = _run_script(collector, CHECKPOINT_AT_EXIT, spool, model)
    assert done.returncode == 0, done.stderr
    assert [p.read_text() for p in _journal(spool, "rejected")] == []
    assert _journal(spool, "journal") == []
    assert _versions(collector, "checkpoint") == [1]


def test_sigterm_while_hashing_never_rejects_the_checkpoint(collector: CollectorProcess,
                                                            tmp_path: Path) -> None:
    """SIGTERM right after checkpoint() (the worker is hashing): the job is uploaded at exit,
    or stays journaled and the next process uploads it; it is never moved to rejected/."""
    spool, model = tmp_path / "spool", tmp_path / "big.pt"
    with open(model, "wb") as fh:
        for _ in range(48):
            fh.write(os.urandom(1 << 20))
    done = _run_script(collector, SIGTERM_WHILE_HASHING, spool, model)
    assert done.returncode == 143, done.stderr
    assert [p.read_text() for p in _journal(spool, "rejected")] == []
    if _journal(spool, "journal"):
        resume_journal(spool, collector.url, collector.api_key, timeout_s=60.0)
    assert _journal(spool, "journal") == []
    assert _versions(collector, "checkpoint") == [1]


def test_media_and_trace_evidence_left_to_the_exit_are_uploaded(collector: CollectorProcess,
                                                                tmp_path: Path) -> None:
    """A table logged and a span with a 40 KB attribute just before the end of the script
    (no finish()): both uploads complete in the exit hook."""
    spool = tmp_path / "spool"
    done = _run_script(collector, MEDIA_AND_EVIDENCE_AT_EXIT, spool, tmp_path / "unused")
    assert done.returncode == 0, done.stderr
    assert _versions(collector, "media-sample") == [1]
    items = _get(collector, f"/api/v1/media?workspace={collector.workspace}&project="
                            f"{collector.project}&runId=exit-run&step=3")["items"]
    assert [i["mediaKey"] for i in items] == ["sample"]
    status, _, body = request("POST", collector.url + "/api/v1/query/spans",
                              {"projectId": collector.project, "runId": "exit-run"},
                              api_key=collector.api_key)
    assert status == 200 and len(body["spans"]) == 1, body
    ref = json.loads(body["spans"][0]["attrsJson"])["doc"]
    assert ref["kind"] == "rundial.evidence_ref", ref
    assert _versions(collector, f"trace-evidence-{body['spans'][0]['spanId']}") == [1]
