"""The run page in a real browser (issue 15): tabs with ``?tab=`` round-tripping a reload and
arrow keys, the overview (config, summary, state), the virtualized logs with level filter and
search, the span tree with nesting and an open span of a running run, the linked timeline
(a ``step-focus`` scrolls the logs to that step and opens the "around step" drawer), and the
empty states of an unknown run and of a run without logs or spans.

The run is logged through the real SDK (metrics, ``log_text``, console capture, ``run.trace``)
and left running. The SDK sends a span only when it ends, so the open span comes over the
wire protocol the way another client (rc1, an OpenTelemetry bridge) sends one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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


def _active(page: Any, tab: str) -> Any:
    page.locator(f'[role=tab][data-tab="{tab}"][aria-selected="true"]').wait_for(
        timeout=TIMEOUT_MS)
    page.locator(f'[role=tabpanel][data-tab="{tab}"]:not([hidden])').wait_for(
        state="attached", timeout=TIMEOUT_MS)
    assert page.locator("[role=tabpanel]:not([hidden])").count() == 1
    return page.locator(f'[role=tabpanel][data-tab="{tab}"]')


def _wait_lines(page: Any, predicate: str) -> list[dict[str, str]]:
    """Wait until every rendered log line satisfies ``predicate`` (JS on ``l``, at least one
    line), then return the rendered lines."""
    page.wait_for_function(
        "() => { const ls = [...document.querySelectorAll('[data-tab=logs] .log-line')];"
        f" return ls.length > 0 && ls.every((l) => {predicate}); }}", timeout=TIMEOUT_MS)
    return list(page.eval_on_selector_all(
        "[data-tab=logs] .log-line",
        "ls => ls.map(l => ({step: l.dataset.step, level: l.dataset.level, text: l.textContent,"
        " focused: String(l.classList.contains('focused'))}))"))


def test_tabs_overview_logs_traces_and_step_focus(page: Any, logged: LoggedRun,
                                                  tmp_path: Path) -> None:
    page.goto(logged.path(), timeout=TIMEOUT_MS)
    overview = _active(page, "overview")
    assert page.locator(".run-header h1").inner_text() == "runpage-run"
    page.locator('.run-header .state-badge[data-state="running"]').wait_for(timeout=TIMEOUT_MS)
    assert page.locator(".run-header .live-status").get_attribute("data-status") == "connecting"
    lr = overview.locator('.config-entry[data-key="optim.lr"]')
    assert lr.locator(".config-value").inner_text() == "0.01"
    assert overview.locator('.config-entry[data-key="summary.best_loss"]').count() == 0
    assert "best_loss" in overview.locator(".kv").first.inner_text()
    assert "0.125" in overview.locator(".kv").first.inner_text()
    page.fill("#config-search", "betas")
    page.wait_for_function("() => document.querySelectorAll('.config-entry').length === 1",
                           timeout=TIMEOUT_MS)
    assert overview.locator(".config-entry").get_attribute("data-key") == "optim.betas"
    started = overview.locator('tr[data-field="started"] td span')
    assert started.inner_text().endswith("ago") and "UTC" in started.get_attribute("title")
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.click('[role=tab][data-tab="logs"]')
    _active(page, "logs")
    assert "tab=logs" in page.url
    page.reload(timeout=TIMEOUT_MS)
    _active(page, "logs")  # ?tab= survives a reload
    lines = _wait_lines(page, "l.dataset.step !== ''")  # once the step <-> time map is in
    total = STEPS + STEPS // 50 + 2
    assert len(lines) < 120, f"{len(lines)} of {total} lines in the DOM: not virtualized"
    assert any("hello from captured stdout" in line["text"] for line in lines)
    assert any(line["step"] == str(STEPS - 1) for line in lines), lines[-3:]
    scroll = page.locator("[data-tab=logs] .logs-scroll")
    assert scroll.get_attribute("data-lines") == "200"  # the newest page only
    scroll.evaluate("(box) => { box.scrollTop = 0; }")  # near the top: the older page loads
    page.wait_for_function("() => Number(document.querySelector('[data-tab=logs] .logs-scroll')"
                           ".dataset.lines) > 200", timeout=TIMEOUT_MS)
    page.wait_for_function("() => document.querySelector('[data-tab=logs] .logs-scroll')"
                           ".scrollTop > 0", timeout=TIMEOUT_MS)  # the view stays put
    page.select_option("#log-level", "warn")
    warned = _wait_lines(page, "['warn', 'error', 'fatal'].includes(l.dataset.level)")
    assert any("slow batch" in line["text"] for line in warned)
    page.select_option("#log-level", "trace")
    page.fill("#log-search", "NaN loss")
    found = _wait_lines(page, "l.textContent.includes('NaN loss')")
    assert [line["level"] for line in found] == ["error"]
    assert found[0]["step"] == str(FOCUS_STEP)
    page.fill("#log-search", "")
    page.wait_for_function("() => document.querySelectorAll('[data-tab=logs] .log-line').length > 5",
                           timeout=TIMEOUT_MS)

    # the linked timeline: a chart point's step-focus scrolls the logs to that step
    page.evaluate("([runId, step]) => import('/ui/core/bus.js').then((bus) => bus.emit("
                  "'step-focus', {runId, key: 'train/loss', step, timeMs: null}))",
                  [logged.run_id, FOCUS_STEP])
    focused = page.locator(f'[data-tab=logs] .log-line.focused[data-step="{FOCUS_STEP}"]')
    focused.first.wait_for(timeout=TIMEOUT_MS)
    # "step 100 done", "slow batch at step 100" and the NaN error: all three at step 100
    assert sorted(focused.all_inner_texts()) == sorted(
        t for t in focused.all_inner_texts() if str(FOCUS_STEP) in t)
    assert focused.count() == 3
    box = page.locator("[data-tab=logs] .logs-scroll").bounding_box()
    row = focused.first.bounding_box()
    assert box["y"] <= row["y"] and row["y"] + row["height"] <= box["y"] + box["height"]
    drawer = page.locator("#step-focus")
    drawer.wait_for(state="visible", timeout=TIMEOUT_MS)
    page.wait_for_function("() => document.querySelector('#step-focus .focus-log') !== null",
                           timeout=TIMEOUT_MS)
    assert f"Around step {FOCUS_STEP}" in drawer.inner_text()
    assert f"step {FOCUS_STEP} done" in drawer.inner_text()
    # every span started minutes after that step: the drawer names the nearest one instead
    assert "Nearest span (none was running then)" in drawer.inner_text()
    assert drawer.locator(".focus-span").all_inner_texts() == ["long-eval · open"]
    page.screenshot(path=str(tmp_path / "logs-focus.png"), full_page=True)

    page.focus('[role=tab][data-tab="logs"]')
    page.keyboard.press("ArrowRight")
    traces = _active(page, "traces")
    assert "tab=traces" in page.url
    traces.locator(".span-row").first.wait_for(timeout=TIMEOUT_MS)
    names = traces.locator(".span-row .span-name").all_inner_texts()
    for name in ("episode", "plan", "tool:search", "judge", "long-eval", "load-batch"):
        assert name in names, names
    plan = traces.locator(".span-row", has_text="plan")
    assert plan.get_attribute("aria-level") == "2"
    open_row = traces.locator(".span-row.open")
    assert open_row.count() == 1
    assert "long-eval" in open_row.inner_text() and "open" in open_row.inner_text()
    assert traces.locator(".span-row", has_text="load-batch").get_attribute("aria-level") == "2"
    open_row.click()
    assert "open (still running" in traces.locator(".span-details").inner_text()
    traces.locator(".span-row", has_text="plan").click()
    details = traces.locator(".span-details").inner_text()
    assert "thought" in details and "look it up" in details
    traces.locator(".span-row").first.focus()
    page.keyboard.press("ArrowDown")  # the tree is usable from the keyboard
    assert traces.locator(".span-row").nth(1).get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft")  # collapse the first root
    assert traces.locator(".span-row").first.get_attribute("aria-expanded") == "false"
    traces.locator(".span-row", has_text="judge").click()
    download_button = traces.locator(".span-details .evidence-download")
    assert "evidence/" in download_button.inner_text()
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        download_button.click()
    saved = tmp_path / "evidence.txt"
    download.value.save_as(str(saved))
    assert saved.read_text() == EVIDENCE_TEXT
    page.screenshot(path=str(tmp_path / "traces.png"), full_page=True)
    assert page.evaluate("window.__cspViolations") == []


def test_unknown_run_and_a_run_without_logs_or_spans(page: Any, logged: LoggedRun,
                                                     tmp_path: Path) -> None:
    page.goto(logged.path("run_that_does_not_exist"), timeout=TIMEOUT_MS)
    missing = page.locator('.run-missing[data-state="not-found"]')
    missing.wait_for(timeout=TIMEOUT_MS)
    assert "404" in missing.inner_text()
    page.goto(logged.path(logged.empty_run_id, "?tab=logs"), timeout=TIMEOUT_MS)
    logs = _active(page, "logs")
    empty = logs.locator(".logs-empty")
    empty.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "No log lines" in empty.inner_text()
    page.click('[role=tab][data-tab="traces"]')
    traces = _active(page, "traces")
    traces.locator(".traces-empty").wait_for(timeout=TIMEOUT_MS)
    page.click('[role=tab][data-tab="overview"]')
    overview = _active(page, "overview")
    assert "tab=" not in page.url
    overview.locator(".diagnostics").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("() => !document.querySelector('.diagnostics').textContent"
                           ".includes('Loading')", timeout=TIMEOUT_MS)
    assert "No client diagnostics" in overview.locator(".diagnostics").inner_text()
    page.screenshot(path=str(tmp_path / "empty-run.png"), full_page=True)


def test_a_step_in_the_url_reopens_the_focus(page: Any, logged: LoggedRun) -> None:
    """A copied link with ``?step=`` opens the logs at that step, and the drawer."""
    page.goto(logged.path(query=f"?step={FOCUS_STEP}&tab=logs"), timeout=TIMEOUT_MS)
    _active(page, "logs")
    focused = page.locator(f'[data-tab=logs] .log-line.focused[data-step="{FOCUS_STEP}"]')
    focused.first.wait_for(timeout=TIMEOUT_MS)
    assert focused.count() == 3
    page.locator('#step-focus[data-step="100"]').wait_for(state="visible", timeout=TIMEOUT_MS)


# Stand-ins for two sibling modules other helpers build (the live feed and the chart grid):
# they record what the run page hands them, so the page's side of those interfaces is
# checked against the real collector before those modules land.
FAKE_FEED = """
export function followRuns(projectId, runs, handlers) {
  window.__feed = { projectId, runs, handlers };
  return { close() {} };
}
"""
FAKE_GRID = """
export function mountChartGrid(container, options) {
  (window.__grids ??= []).push({ runs: options.runs, keyPrefix: options.keyPrefix ?? null,
    excludePrefix: options.excludePrefix ?? null, projectId: options.projectId });
  return { setRuns() {}, destroy() {} };
}
"""


def _serve(page: Any, pattern: str, body: str) -> None:
    page.route(pattern, lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=body))


def test_live_feed_tail_state_spans_and_chart_grids(page: Any, logged: LoggedRun) -> None:
    _serve(page, "**/ui/live/feed.js", FAKE_FEED)
    _serve(page, "**/ui/charts/grid.js", FAKE_GRID)
    page.goto(logged.path(query="?tab=charts"), timeout=TIMEOUT_MS)
    _active(page, "charts")
    page.click('[role=tab][data-tab="system"]')
    _active(page, "system")
    page.wait_for_function("() => (window.__grids ?? []).length === 2", timeout=TIMEOUT_MS)
    grids = page.evaluate("window.__grids")
    assert [g["runs"][0]["runId"] for g in grids] == [logged.run_id] * 2
    assert [(g["keyPrefix"], g["excludePrefix"]) for g in grids] == [
        (None, "system/"), ("system/", None)]
    feed = page.evaluate("({runs: window.__feed.runs.map(r => r.runId)})")
    assert feed["runs"] == [logged.run_id]

    page.click('[role=tab][data-tab="logs"]')
    _active(page, "logs")
    _wait_lines(page, "true")
    push = ("([runId, message, level]) => window.__feed.handlers.onLogs(runId, [{timestampMs: "
            "Date.now(), sequence: 1e6 + message.length, level, message, truncated: false}])")
    page.evaluate(push, [logged.run_id, "live line one", "info"])
    _wait_lines(page, "true")
    page.locator("[data-tab=logs] .log-line", has_text="live line one").wait_for(
        timeout=TIMEOUT_MS)  # at the bottom: the view follows the tail
    scroll = page.locator("[data-tab=logs] .logs-scroll")
    count = int(scroll.get_attribute("data-lines"))
    scroll.evaluate("(box) => { box.scrollTop = box.scrollHeight / 2; }")
    top = scroll.evaluate("(box) => box.scrollTop")
    page.evaluate(push, [logged.run_id, "live line two, scrolled up", "info"])
    page.wait_for_function(f"() => document.querySelector('[data-tab=logs] .logs-scroll')"
                           f".dataset.lines === '{count + 1}'", timeout=TIMEOUT_MS)
    assert scroll.evaluate("(box) => box.scrollTop") == top  # scrolled up: the view stays
    assert page.locator(".log-line", has_text="live line two").count() == 0
    page.select_option("#log-level", "warn")
    _wait_lines(page, "l.dataset.level !== 'info'")
    lines_before = scroll.get_attribute("data-lines")
    page.evaluate(push, [logged.run_id, "live debug line, filtered out", "debug"])
    page.evaluate(push, [logged.run_id, "live warning kept", "warn"])
    page.locator(".log-line", has_text="live warning kept").wait_for(timeout=TIMEOUT_MS)
    assert int(scroll.get_attribute("data-lines")) == int(lines_before) + 1

    page.evaluate("(runId) => window.__feed.handlers.onStatus(runId, 'live', '')",
                  logged.run_id)
    page.locator('.live-status[data-status="live"]').wait_for(timeout=TIMEOUT_MS)
    page.evaluate("(runId) => window.__feed.handlers.onState(runId, {status: 'failed', "
                  "reason: 'CUDA out of memory'})", logged.run_id)
    badge = page.locator('.run-header .state-badge[data-state="failed"]')
    badge.wait_for(timeout=TIMEOUT_MS)
    assert badge.get_attribute("title") == "CUDA out of memory"
    page.evaluate("(runId) => window.__feed.handlers.onState(runId, {status: 'lost'})",
                  logged.run_id)
    page.locator('.run-header .state-badge.state-amber[data-state="lost"]').wait_for(
        timeout=TIMEOUT_MS)

    page.click('[role=tab][data-tab="traces"]')
    traces = _active(page, "traces")
    traces.locator(".span-row").first.wait_for(timeout=TIMEOUT_MS)
    page.evaluate("""(runId) => window.__feed.handlers.onSpans(runId, [{
        traceId: "ab".repeat(16), spanId: "00000000000000a3", parentSpanId: "00000000000000a1",
        name: "live-child", kind: "internal", startNs: String(BigInt(Date.now()) * 1000000n),
        endNs: null, status: "unset", attrsJson: "{}", events: [], children: []}])""",
                  logged.run_id)
    child = traces.locator(".span-row", has_text="live-child")
    child.wait_for(timeout=TIMEOUT_MS)
    assert child.get_attribute("aria-level") == "2"
    # a step-focus naming another run is not this page's
    page.evaluate("() => import('/ui/core/bus.js').then((bus) => bus.emit('step-focus', "
                  "{runId: 'run_other', key: 'train/loss', step: 3, timeMs: null}))")
    assert page.locator("#step-focus").is_hidden()
