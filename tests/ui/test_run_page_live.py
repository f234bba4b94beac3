"""The run page's side of three sibling modules, in a real browser against the real collector:
the run editor (the edit button opens it with this run), the live feed (the tail follows only at the bottom, the level filter applies to live lines,
the state badge and live status change, live spans join the tree) and the chart grids of the
Charts and System tabs (the options they are given).
"""

from __future__ import annotations

from typing import Any

from tests.ui.runpage_data import TIMEOUT_MS, LoggedRun, active, logged, page, wait_lines

__all__ = ["logged", "page"]  # fixtures used by the tests below


# Stand-ins for sibling modules other helpers build (live feed, chart grid, run editor):
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


FAKE_EDITOR = """
export function openRunEditor(run, onDone) {
  window.__edited = run.runId;
  onDone();
}
"""


def _serve(page: Any, pattern: str, body: str) -> None:
    page.route(pattern, lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=body))


def test_live_feed_tail_state_spans_and_chart_grids(page: Any, logged: LoggedRun) -> None:
    _serve(page, "**/ui/live/feed.js", FAKE_FEED)
    _serve(page, "**/ui/charts/grid.js", FAKE_GRID)
    _serve(page, "**/ui/runs/edit.js", FAKE_EDITOR)
    page.goto(logged.path(query="?tab=charts"), timeout=TIMEOUT_MS)
    active(page, "charts")
    page.click('[role=tab][data-tab="system"]')
    active(page, "system")
    page.wait_for_function("() => (window.__grids ?? []).length === 2", timeout=TIMEOUT_MS)
    grids = page.evaluate("window.__grids")
    assert [g["runs"][0]["runId"] for g in grids] == [logged.run_id] * 2
    assert [(g["keyPrefix"], g["excludePrefix"]) for g in grids] == [
        (None, "system/"), ("system/", None)]
    feed = page.evaluate("({runs: window.__feed.runs.map(r => r.runId)})")
    assert feed["runs"] == [logged.run_id]
    edit = page.locator(".run-header .run-edit")
    edit.wait_for(state="visible", timeout=TIMEOUT_MS)  # the editor module loaded
    edit.click()
    page.wait_for_function("() => window.__edited !== undefined", timeout=TIMEOUT_MS)
    assert page.evaluate("window.__edited") == logged.run_id

    page.click('[role=tab][data-tab="logs"]')
    active(page, "logs")
    wait_lines(page, "true")
    push = ("([runId, message, level]) => window.__feed.handlers.onLogs(runId, [{timestampMs: "
            "Date.now(), sequence: 1e6 + message.length, level, message, truncated: false}])")
    page.evaluate(push, [logged.run_id, "live line one", "info"])
    wait_lines(page, "true")
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
    wait_lines(page, "l.dataset.level !== 'info'")
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
    traces = active(page, "traces")
    traces.locator(".span-row").first.wait_for(timeout=TIMEOUT_MS)
    page.evaluate("""(runId) => window.__feed.handlers.onSpans(runId, [{
        traceId: "ab".repeat(16), spanId: "00000000000000a3", parentSpanId: "00000000000000a1",
        name: "live-child", kind: "internal", startNs: String(BigInt(Date.now()) * 1000000n),
        endNs: null, status: "unset", attrsJson: "{}", events: [], children: []}])""",
                  logged.run_id)
    child = traces.locator(".span-row", has_text="live-child")
    child.wait_for(timeout=TIMEOUT_MS)
    assert child.get_attribute("aria-level") == "2"
    # a redraw from live spans (or open bars growing) keeps the keyboard focus in the tree
    traces.locator(".span-row").first.focus()
    page.evaluate("""(runId) => window.__feed.handlers.onSpans(runId, [{
        traceId: "cd".repeat(16), spanId: "00000000000000b1", parentSpanId: null,
        name: "another-live-root", kind: "internal", startNs: String(BigInt(Date.now()) *
        1000000n), endNs: null, status: "unset", attrsJson: "{}", events: [], children: []}])""",
                  logged.run_id)
    traces.locator(".span-row", has_text="another-live-root").wait_for(timeout=TIMEOUT_MS)
    page.keyboard.press("ArrowDown")
    assert traces.locator(".span-row").nth(1).get_attribute("aria-selected") == "true"
    # a step-focus naming another run is not this page's
    page.evaluate("() => import('/ui/core/bus.js').then((bus) => bus.emit('step-focus', "
                  "{runId: 'run_other', key: 'train/loss', step: 3, timeMs: null}))")
    assert page.locator("#step-focus").is_hidden()
