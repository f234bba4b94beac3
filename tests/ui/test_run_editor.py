"""The runs table's row editor in a real browser against a real collector: a click on a row's
⋯ is not lost to a re-render of the table between its mousedown and mouseup, and the editor
opens at once, before the run's notes arrive (read-only until then), and says so when they
cannot be read, without blanking them on save."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.ui.conftest import CSP_LISTENER, log_in

TIMEOUT_MS = 15_000
RUNS = 3
# Finish a frame, then the next: a scroll's rAF re-render has run when this resolves.
TWO_FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
NOTES_BOX = "document.getElementById('run-edit-notes')"


@dataclass
class Project:
    """The collector and the notes stored for each run (by run id)."""

    proc: CollectorProcess
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Tab:
    """A page and the uncaught errors it reported (an unhandled rejection among them)."""

    page: Any
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A collector with three finished SDK runs whose config varies (so the table has config
    columns and is wider than its pane) and whose notes were set with PATCH."""
    base = tmp_path_factory.mktemp("run-editor")
    proc = CollectorProcess(base / "data")
    proc.start()
    made = Project(proc)
    try:
        for index in range(RUNS):
            run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                          api_key=proc.api_key, spool_directory=str(base / f"spool{index}"),
                          name=f"run-{index}", tags=["editor"],
                          config={"lr": 10.0 ** -index, "opt": f"opt-{index}",
                                  "layers": index + 2, "dropout": index / 10})
            assert isinstance(run, rd.Run)
            run.log({"train/loss": 1.0}, step=0)
            run.finish()
            made.notes[run.run_id] = f"notes of run {index}\nsecond line"
            status, _, reply = request("PATCH", _run_url(proc, run.run_id),
                                       {"notes": made.notes[run.run_id]}, api_key=proc.api_key)
            assert status == 200, reply
        yield made
    finally:
        proc.stop()


@pytest.fixture
def tab(browser: Any, project: Project) -> Iterator[Tab]:
    """A logged-in page on the project's runs table, recording its uncaught errors."""
    context = browser.new_context(base_url=project.proc.url)
    context.add_init_script(CSP_LISTENER)
    opened = Tab(context.new_page())
    opened.page.on("pageerror", lambda exc: opened.errors.append(str(exc)))
    page = opened.page
    log_in(page, project.proc, TIMEOUT_MS)
    page.goto(f"/p/{project.proc.workspace}/{project.proc.project}", timeout=TIMEOUT_MS)
    page.wait_for_selector(f'#runs-table[data-state="ready"][data-rows="{RUNS}"]',
                           timeout=TIMEOUT_MS)
    try:
        yield opened
    finally:
        context.close()


def _run_url(proc: CollectorProcess, run_id: str) -> str:
    return f"{proc.url}/api/v1/workspaces/{proc.workspace}/projects/{proc.project}/runs/{run_id}"


def _stored(proc: CollectorProcess, run_id: str) -> dict[str, Any]:
    status, _, reply = request("GET", _run_url(proc, run_id), api_key=proc.api_key)
    assert status == 200, reply
    return dict(reply)


def _first_row(page: Any) -> tuple[Any, str]:
    row = page.locator("tr[data-run-id]").nth(0)
    return row, str(row.get_attribute("data-run-id"))


def test_a_click_survives_a_re_render_between_mousedown_and_mouseup(tab: Tab) -> None:
    """The table scrolls sideways while the button is held (as when Playwright or the user
    scrolls the ⋯ into view just before the click): the scroll re-renders the virtual window,
    and the row under the pointer must stay the same element, so the click still opens the
    editor."""
    page = tab.page
    row, _ = _first_row(page)
    menu = row.locator(".row-menu")
    menu.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    page.evaluate(TWO_FRAMES)  # the scroll's own re-render is over
    scroll = page.locator("#runs-table .runs-scroll")
    assert scroll.evaluate("(el) => el.scrollLeft > 0"), "the table should be wider than its pane"
    box = menu.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    scroll.evaluate("(el) => { el.scrollLeft -= 1; }")
    page.evaluate(TWO_FRAMES)
    page.mouse.up()
    page.wait_for_selector("dialog.run-editor[open]", timeout=TIMEOUT_MS)
    assert tab.errors == []


def test_the_editor_opens_before_the_notes_arrive(tab: Tab, project: Project) -> None:
    """While the run's GET is held the dialog is already open with the notes field read-only
    and busy; once the reply is let through the notes fill in and become editable."""
    page = tab.page
    row, run_id = _first_row(page)
    seen: dict[str, Any] = {}

    def hold_the_read(route: Any) -> None:
        if route.request.method != "GET" or seen:
            route.continue_()
            return
        seen.update(page.evaluate(f"""() => {{
            const box = {NOTES_BOX};
            return {{open: !!document.querySelector('dialog.run-editor[open]'),
                     readOnly: box?.readOnly, busy: box?.getAttribute('aria-busy'),
                     value: box?.value}};
        }}"""))
        route.continue_()

    page.route(lambda url: url.endswith(f"/runs/{run_id}"), hold_the_read)
    row.locator(".row-menu").click()
    page.wait_for_selector("dialog.run-editor[open]", timeout=TIMEOUT_MS)
    page.wait_for_function(f"(notes) => {NOTES_BOX}.value === notes && !{NOTES_BOX}.readOnly",
                           arg=project.notes[run_id], timeout=TIMEOUT_MS)
    assert seen == {"open": True, "readOnly": True, "busy": "true", "value": ""}
    assert page.get_attribute("#run-edit-notes", "aria-busy") is None
    assert page.inner_text("dialog.run-editor [role=alert]") == ""
    assert tab.errors == []


def test_a_failed_notes_read_is_shown_and_a_save_keeps_the_notes(
        tab: Tab, project: Project, tmp_path: Path) -> None:
    """The run's GET fails (503): the dialog opens anyway and its alert says the notes could
    not be loaded and why; the notes field stays read-only, and a rename saves the name but
    leaves the stored notes as they were."""
    page = tab.page
    row, run_id = _first_row(page)
    assert _stored(project.proc, run_id)["notes"] == project.notes[run_id]

    def fail_the_read(route: Any) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        route.fulfill(status=503, json={"error": {"code": "UNAVAILABLE",
                                                  "message": "store is not ready"}})

    page.route(lambda url: url.endswith(f"/runs/{run_id}"), fail_the_read)
    row.locator(".row-menu").click()
    page.wait_for_selector("dialog.run-editor[open]", timeout=TIMEOUT_MS)
    alert = "document.querySelector('dialog.run-editor [role=alert]').textContent"
    page.wait_for_function(f"() => {alert}.includes('store is not ready')", timeout=TIMEOUT_MS)
    assert "notes could not be loaded" in page.inner_text("dialog.run-editor [role=alert]")
    assert page.evaluate(f"{NOTES_BOX}.readOnly") is True
    page.screenshot(path=str(tmp_path / "editor-notes-failed.png"))
    page.fill("#run-edit-name", "renamed-without-notes")
    page.click("dialog.run-editor button[type=submit]")
    page.wait_for_selector("dialog.run-editor", state="detached", timeout=TIMEOUT_MS)
    after = _stored(project.proc, run_id)
    assert after["runName"] == "renamed-without-notes"
    assert after["notes"] == project.notes[run_id]
    assert tab.errors == []
