"""The run logged for the run page's browser tests (tests/ui/test_run_page*.py): a collector,
a run logged through the real SDK (metrics, ``log_text``, console capture, ``run.trace`` with
an evidence upload) and left running, an open span sent over the wire protocol (our SDK sends
a span only when it ends; rc1 or an OpenTelemetry bridge sends open ones), an empty run, and a
logged-in page. Each test module that imports the fixtures gets its own collector.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until
from tests.ui.conftest import CSP_LISTENER

TIMEOUT_MS = 15_000
STEPS = 600  # log lines: one per step plus warnings, far more than one page (200) or the view
FOCUS_STEP = 100  # outside the newest page: the logs must load around it
EVIDENCE_TEXT = "evidence line\n" * 1500  # 21 KB


@dataclass
class LoggedRun:
    proc: CollectorProcess
    run_id: str
    empty_run_id: str

    def path(self, run_id: str | None = None, query: str = "") -> str:
        return (f"/p/{self.proc.workspace}/{self.proc.project}/r/{run_id or self.run_id}"
                + query)


def _open_span(proc: CollectorProcess, run_id: str) -> None:
    now_ns = time.time_ns()
    base = {"projectId": proc.project, "runId": run_id,
            "traceId": "ab" * 16, "kind": "internal", "status": "unset", "attrsJson": "{}",
            "events": []}
    spans = [{**base, "spanId": "00000000000000a1", "parentSpanId": None, "name": "long-eval",
              "startNs": str(now_ns - 5_000_000_000), "endNs": None},
             {**base, "spanId": "00000000000000a2", "parentSpanId": "00000000000000a1",
              "name": "load-batch", "startNs": str(now_ns - 4_000_000_000),
              "endNs": str(now_ns - 3_000_000_000), "status": "ok"}]
    status, _, reply = request("POST", proc.url + "/api/v1/ingest/traces", {"spans": spans},
                               api_key=proc.api_key)
    assert status == 202 and reply["accepted"] == 2, reply


def _has_evidence(proc: CollectorProcess, run_id: str) -> bool:
    status, _, reply = request("POST", proc.url + "/api/v1/query/spans", {
        "projectId": proc.project, "runId": run_id}, api_key=proc.api_key)
    assert status == 200, reply
    return any(span["name"] == "judge" and "rundial.evidence_ref" in span["attrsJson"]
               for span in reply["spans"])


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedRun]:
    base = tmp_path_factory.mktemp("runpage")
    proc = CollectorProcess(base / "data")
    proc.start()
    run: Any = None
    try:
        run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                      api_key=proc.api_key, spool_directory=str(base / "spool"),
                      name="runpage-run", capture_console=True, system_metrics=False,
                      config={"optim": {"lr": 0.01, "betas": [0.9, 0.99]},
                              "model": {"layers": 4}, "seed": 7})
        assert isinstance(run, rd.Run)
        start_ms = int(time.time() * 1000) - STEPS * 1000 - 60_000
        for step in range(STEPS):
            at = start_ms + step * 1000
            run.log({"train/loss": 1.0 / (step + 1)}, step=step, time_ms=at)
            run.log_text(f"step {step} done", time_ms=at + 500)
            if step % 50 == 0:
                run.log_text(f"slow batch at step {step}", level="warn", time_ms=at + 600)
        run.log_text(f"NaN loss detected at step {FOCUS_STEP}", level="error",
                     time_ms=start_ms + FOCUS_STEP * 1000 + 700)
        print("hello from captured stdout")
        with run.trace("episode", attrs={"task": "demo"}):
            with run.trace("plan") as plan:
                plan.event("thought", {"text": "look it up"})
            run.tool_call("search", input="query", output="results")
        with run.trace("judge", attrs={"transcript": EVIDENCE_TEXT}):
            pass  # over 16 KiB: uploaded as a trace_evidence artifact, the span links to it
        run.update_config({"summary.best_loss": 0.125})
        assert run.flush(timeout_s=30)
        wait_until(lambda: _has_evidence(proc, run.id), timeout_seconds=30,
                   message="the judge span with its evidence reference")
        _open_span(proc, run.id)
        status, _, empty = request("POST", proc.url + "/api/v1/runs/start", {
            "projectId": proc.project, "kind": "training", "resume": "never"},
            api_key=proc.api_key)
        assert status == 201, empty
        yield LoggedRun(proc, run.id, empty["runId"])
    finally:
        if run is not None:
            run.finish()
        proc.stop()


@pytest.fixture
def page(browser: Any, logged: LoggedRun) -> Iterator[Any]:
    context = browser.new_context(base_url=logged.proc.url, viewport={"width": 1400,
                                                                       "height": 900})
    context.add_init_script(CSP_LISTENER)
    try:
        tab = context.new_page()
        tab.goto("/login", timeout=TIMEOUT_MS)
        tab.fill("#api-key", logged.proc.api_key)
        tab.click("button[type=submit]")
        tab.wait_for_url(lambda url: url.endswith("/"), timeout=TIMEOUT_MS)
        yield tab
    finally:
        context.close()


def active(page: Any, tab: str) -> Any:
    page.locator(f'[role=tab][data-tab="{tab}"][aria-selected="true"]').wait_for(
        timeout=TIMEOUT_MS)
    page.locator(f'[role=tabpanel][data-tab="{tab}"]:not([hidden])').wait_for(
        state="attached", timeout=TIMEOUT_MS)
    assert page.locator("[role=tabpanel]:not([hidden])").count() == 1
    return page.locator(f'[role=tabpanel][data-tab="{tab}"]')


def wait_lines(page: Any, predicate: str) -> list[dict[str, str]]:
    """Wait until every rendered log line satisfies ``predicate`` (JS on ``l``, at least one
    line), then return the rendered lines."""
    page.wait_for_function(
        "() => { const ls = [...document.querySelectorAll('[data-tab=logs] .log-line')];"
        f" return ls.length > 0 && ls.every((l) => {predicate}); }}", timeout=TIMEOUT_MS)
    return list(page.eval_on_selector_all(
        "[data-tab=logs] .log-line",
        "ls => ls.map(l => ({step: l.dataset.step, level: l.dataset.level, text: l.textContent,"
        " focused: String(l.classList.contains('focused'))}))"))
