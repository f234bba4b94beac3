"""Spooled eval result batches (``eval_<hex>``, ``rows`` of objects under ``evalRunId``) are
intact batches for ``rundial-spool verify`` and ``rundial sync``'s check, and ``export`` lists
their rows as ``eval`` records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import rundial as rd
from rundial._spool.verify import load_batch
from tests.spool_tools.conftest import SpoolResult

ENDPOINT = "http://127.0.0.1:8787"


def _offline_eval_run(spool: Path) -> str:
    run = rd.init(project="p", run_id="run_offline_eval", mode="offline", endpoint=ENDPOINT,
                  spool_directory=str(spool), system_metrics=False, handle_sigterm=False)
    run.log({"loss": 1.0})
    run.log_eval_result("evr_1", "ex1", scores={"exact": True, "judge": 0.5}, passed=True,
                        trace="c" * 32, meta={"k": 1})
    assert run.finish(timeout_s=5)
    return run.run_id


def test_eval_batches_verify_and_export(spool_cli: Callable[..., SpoolResult],
                                        spool: Path) -> None:
    run_id = _offline_eval_run(spool)
    eval_files = sorted(spool.rglob("*eval_*"))
    assert eval_files, sorted(p.name for p in spool.rglob("*") if p.is_file())
    body = load_batch(eval_files[0], run_id)
    assert body["evalRunId"] == "evr_1" and len(body["rows"]) == 2
    verified = spool_cli("verify", "--spool-dir", str(spool), "--json")
    assert verified.code == 0 and verified.json()["ok"] is True, verified.out
    exported = spool_cli("export", "--spool-dir", str(spool), "--kind", "eval")
    assert exported.code == 0, exported.err
    rows = exported.lines()
    assert sorted((r["evalRunId"], r["exampleId"], r["scorer"], r["score"]) for r in rows) == [
        ("evr_1", "ex1", "exact", 1.0), ("evr_1", "ex1", "judge", 0.5)]
