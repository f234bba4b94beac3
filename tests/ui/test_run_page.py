"""The run page in a real browser (issue 15): tabs with ``?tab=`` round-tripping a reload and
arrow keys, the overview (config, summary, state), the virtualized logs with paging, level
filter and search, the span tree with nesting, an open span of a running run, keyboard use
and an evidence download, the linked timeline (a ``step-focus`` scrolls the logs to that step
and opens the "around step" drawer; ``?step=`` reopens it), and the empty states of an
unknown run and of a run without logs or spans, and the Edit button opening the runs area's editor. The
data: tests/ui/runpage_data.py.
"""

from __future__ import annotations

import socket

from pathlib import Path
from typing import Any

from tests.ui.runpage_data import (FOCUS_STEP, EVIDENCE_TEXT, STEPS, TIMEOUT_MS, LoggedRun,
                                   active, logged, page, wait_lines)

__all__ = ["logged", "page"]  # fixtures used by the tests below


def test_tabs_overview_logs_traces_and_step_focus(page: Any, logged: LoggedRun,
                                                  tmp_path: Path) -> None:
    page.goto(logged.path(), timeout=TIMEOUT_MS)
    overview = active(page, "overview")
    assert page.locator(".run-header h1").inner_text() == "runpage-run"
    page.locator('.run-header .state-badge[data-state="running"]').wait_for(timeout=TIMEOUT_MS)
    # the tabs open once the run's stream is live (their reads then miss nothing)
    assert page.locator(".run-header .live-status").get_attribute("data-status") == "live"
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
    # the host our SDK reports at run start (docs/protocol.md §4.12)
    assert overview.locator('tr[data-field="host"] td').inner_text() == socket.gethostname()
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.click('[role=tab][data-tab="logs"]')
    active(page, "logs")
    assert "tab=logs" in page.url
    page.reload(timeout=TIMEOUT_MS)
    active(page, "logs")  # ?tab= survives a reload
    lines = wait_lines(page, "l.dataset.step !== ''")  # once the step <-> time map is in
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
    warned = wait_lines(page, "['warn', 'error', 'fatal'].includes(l.dataset.level)")
    assert any("slow batch" in line["text"] for line in warned)
    page.select_option("#log-level", "trace")
    page.fill("#log-search", "NaN loss")
    found = wait_lines(page, "l.textContent.includes('NaN loss')")
    assert [line["level"] for line in found] == ["error"]
    assert found[0]["step"] == str(FOCUS_STEP)
    page.fill("#log-search", "")
    page.wait_for_function("() => document.querySelectorAll('[data-tab=logs] .log-line').length > 5",
                           timeout=TIMEOUT_MS)

    # the linked timeline: a chart point's step-focus scrolls the logs to that step
    page.evaluate("([runId, step]) => import('/ui/core/bus.js').then((bus) => bus.emit("
                  "'step-focus', {runId, key: 'train/loss', step, timeMs: null}))",
                  [logged.run_id, FOCUS_STEP])
    selector = f'[data-tab=logs] .log-line.focused[data-step="{FOCUS_STEP}"]'
    focused = page.locator(selector)
    page.wait_for_function("(sel) => document.querySelectorAll(sel).length === 3", arg=selector,
                           timeout=TIMEOUT_MS)
    # one snapshot of the text (innerText changes with layout: two reads raced before)
    texts = focused.evaluate_all("(lines) => lines.map((line) => line.textContent)")
    for message in (f"step {FOCUS_STEP} done", f"slow batch at step {FOCUS_STEP}",
                    f"NaN loss detected at step {FOCUS_STEP}"):
        assert sum(message in text for text in texts) == 1, texts
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
    # after the jump, pages load downwards too (newer lines, up to the tail)
    loaded = int(scroll.get_attribute("data-lines"))
    scroll.evaluate("(box) => { box.scrollTop = box.scrollHeight; }")
    page.wait_for_function("(n) => Number(document.querySelector('[data-tab=logs] .logs-scroll')"
                           ".dataset.lines) > n", arg=loaded, timeout=TIMEOUT_MS)

    page.focus('[role=tab][data-tab="logs"]')
    page.keyboard.press("ArrowRight")
    traces = active(page, "traces")
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

    # a chart point clicked while another tab is open: the logs are there when opened
    page.evaluate("([runId, step]) => import('/ui/core/bus.js').then((bus) => bus.emit("
                  "'step-focus', {runId, key: 'train/loss', step, timeMs: null}))",
                  [logged.run_id, 300])
    page.locator('#step-focus[data-step="300"]').wait_for(timeout=TIMEOUT_MS)
    focused_span = page.locator("[data-tab=traces] .span-row.focused")
    focused_span.first.wait_for(timeout=TIMEOUT_MS)  # the open tab follows the focus too
    assert focused_span.locator(".span-name").all_inner_texts() == ["long-eval"]
    page.locator("#step-focus button", has_text="Open in Logs").click()
    active(page, "logs")
    later = page.locator('[data-tab=logs] .log-line.focused[data-step="300"]')
    later.first.wait_for(timeout=TIMEOUT_MS)
    box = page.locator("[data-tab=logs] .logs-scroll").bounding_box()
    row = later.first.bounding_box()
    assert box["y"] <= row["y"] and row["y"] + row["height"] <= box["y"] + box["height"]
    assert page.evaluate("window.__cspViolations") == []


def test_unknown_run_and_a_run_without_logs_or_spans(page: Any, logged: LoggedRun,
                                                     tmp_path: Path) -> None:
    page.goto(logged.path("run_that_does_not_exist"), timeout=TIMEOUT_MS)
    missing = page.locator('.run-missing[data-state="not-found"]')
    missing.wait_for(timeout=TIMEOUT_MS)
    assert "404" in missing.inner_text()
    page.goto(logged.path(logged.empty_run_id, "?tab=logs"), timeout=TIMEOUT_MS)
    logs = active(page, "logs")
    empty = logs.locator(".logs-empty")
    empty.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "No log lines" in empty.inner_text()
    page.click('[role=tab][data-tab="traces"]')
    traces = active(page, "traces")
    traces.locator(".traces-empty").wait_for(timeout=TIMEOUT_MS)
    page.click('[role=tab][data-tab="overview"]')
    overview = active(page, "overview")
    assert "tab=" not in page.url
    overview.locator(".diagnostics").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("() => !document.querySelector('.diagnostics').textContent"
                           ".includes('Loading')", timeout=TIMEOUT_MS)
    assert "No client diagnostics" in overview.locator(".diagnostics").inner_text()
    page.screenshot(path=str(tmp_path / "empty-run.png"), full_page=True)


def test_the_edit_button_opens_the_real_editor_on_this_run(page: Any, logged: LoggedRun) -> None:
    """The runs area's editor (runs/edit.js) opened from the run page edits this run: its form
    holds the run's name, a rename is saved and shown in the header (then undone)."""
    page.goto(logged.path(), timeout=TIMEOUT_MS)
    title = page.locator(".run-header h1")
    for old, new in (("runpage-run", "runpage-run renamed"), ("runpage-run renamed", "runpage-run")):
        page.wait_for_function("(name) => document.querySelector('.run-header h1')?"
                               ".textContent === name", arg=old, timeout=TIMEOUT_MS)
        edit = page.locator(".run-header .run-edit")
        edit.wait_for(state="visible", timeout=TIMEOUT_MS)
        edit.click()
        dialog = page.locator("dialog.run-editor[open]")
        dialog.wait_for(timeout=TIMEOUT_MS)
        assert dialog.locator("h2").inner_text() == f"Edit {logged.run_id}"
        name = dialog.locator("#run-edit-name")
        assert name.input_value() == old
        name.fill(new)
        dialog.locator("button[type=submit]").click()
        dialog.wait_for(state="detached", timeout=TIMEOUT_MS)
        page.wait_for_function("(name) => document.querySelector('.run-header h1')?"
                               ".textContent === name", arg=new, timeout=TIMEOUT_MS)
    assert title.inner_text() == "runpage-run"


def test_a_step_in_the_url_reopens_the_focus(page: Any, logged: LoggedRun) -> None:
    """A copied link with ``?step=`` opens the logs at that step, and the drawer."""
    page.goto(logged.path(query=f"?step={FOCUS_STEP}&tab=logs"), timeout=TIMEOUT_MS)
    active(page, "logs")
    focused = page.locator(f'[data-tab=logs] .log-line.focused[data-step="{FOCUS_STEP}"]')
    focused.first.wait_for(timeout=TIMEOUT_MS)
    assert focused.count() == 3
    page.locator('#step-focus[data-step="100"]').wait_for(state="visible", timeout=TIMEOUT_MS)
