"""The runs table in a real browser (issue 15): rows from SDK-logged runs, sort, filter,
selection on the bus and in the URL (a reload restores it), keyboard shortcuts, the theme
toggle and a rename through the row editor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until
from tests.ui.conftest import CSP_LISTENER

TIMEOUT_MS = 15_000
LEARNING_RATES = (0.1, 0.03, 0.003, 0.001, 0.0003)


@pytest.fixture(scope="module")
def runs_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector with five finished SDK runs (lr varies, one of them failed)."""
    base = tmp_path_factory.mktemp("runs-ui")
    proc = CollectorProcess(base / "data")
    proc.start()
    try:
        for index, lr in enumerate(LEARNING_RATES):
            run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                          api_key=proc.api_key, spool_directory=str(base / f"spool{index}"),
                          name=f"lr-{lr}", tags=["sweep", f"t{index}"],
                          group="even" if index % 2 == 0 else "odd",
                          config={"lr": lr, "batch": 32, "opt": "adam" if index else "sgd"})
            assert isinstance(run, rd.Run)
            run.log({"train/loss": lr}, step=0)
            if index == 1:
                run.fail("diverged")
            else:
                run.finish()
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def page(browser: Any, runs_collector: CollectorProcess) -> Iterator[Any]:
    """A logged-in page (session cookie) on the project page, with the bus's ``selection``
    events recorded in ``window.__selections``."""
    context = browser.new_context(base_url=runs_collector.url)
    context.add_init_script(CSP_LISTENER)
    tab = context.new_page()
    tab.goto("/login", timeout=TIMEOUT_MS)
    tab.fill("#api-key", runs_collector.api_key)
    tab.click("button[type=submit]")
    tab.wait_for_url(lambda url: url.endswith("/"), timeout=TIMEOUT_MS)
    try:
        yield tab
    finally:
        context.close()


def _open(page: Any, collector: CollectorProcess, query: str = "") -> None:
    page.goto(f"/p/{collector.workspace}/{collector.project}{query}", timeout=TIMEOUT_MS)
    page.wait_for_selector('#runs-table[data-state="ready"]', timeout=TIMEOUT_MS)


def _names(page: Any) -> list[str]:
    return [str(n) for n in page.locator(
        "#runs-table tr[data-run-id] td:nth-child(2)").all_inner_texts()]


def _wait_rows(page: Any, count: int) -> None:
    page.wait_for_selector(f'#runs-table[data-rows="{count}"]', timeout=TIMEOUT_MS)


def test_rows_sort_and_filter(page: Any, runs_collector: CollectorProcess,
                              tmp_path: Path) -> None:
    """Rows come from the SDK runs (newest first, varying config as columns, states as
    badges); a header click sorts by lr; ``config.lr < 0.01`` narrows; a bad filter says why."""
    _open(page, runs_collector)
    _wait_rows(page, 5)
    assert _names(page) == [f"lr-{lr}" for lr in reversed(LEARNING_RATES)]
    assert page.locator('th[data-sort="config.lr"]').count() == 1
    assert page.locator('th[data-sort="config.batch"]').count() == 0  # same in every run
    failed = page.locator('tr[data-run-id] .state-failed')
    assert failed.inner_text() == "failed" and failed.locator("..").get_attribute("title") == "diverged"
    page.click('th[data-sort="config.lr"] button')
    page.wait_for_selector('th[data-sort="config.lr"][aria-sort="ascending"]', timeout=TIMEOUT_MS)
    assert _names(page) == [f"lr-{lr}" for lr in sorted(LEARNING_RATES)]
    page.click('th[data-sort="config.lr"] button')
    page.wait_for_selector('th[data-sort="config.lr"][aria-sort="descending"]', timeout=TIMEOUT_MS)
    assert _names(page) == [f"lr-{lr}" for lr in sorted(LEARNING_RATES, reverse=True)]
    page.fill("#runs-filter", "config.lr < 0.01")
    _wait_rows(page, 3)
    assert _names(page) == ["lr-0.003", "lr-0.001", "lr-0.0003"]
    assert page.inner_text("#runs-filter-error") == ""
    page.screenshot(path=str(tmp_path / "runs-filtered.png"), full_page=True)
    page.fill("#runs-filter", "config.lr <")
    page.wait_for_selector('#runs-filter[aria-invalid="true"]', timeout=TIMEOUT_MS)
    assert "needs a value" in page.inner_text("#runs-filter-error")
    page.fill("#runs-filter", "nothing-matches-this")
    _wait_rows(page, 0)
    assert page.inner_text("#runs-table .empty") == "No run matches this filter."
    # the URL follows just after the frame that shows the change (runs/table.js deferState)
    page.wait_for_function("() => location.search.includes('sort=-config.lr')"
                           " && location.search.includes('q=nothing-matches-this')",
                           timeout=TIMEOUT_MS)
    assert page.evaluate("window.__cspViolations") == []


def test_a_header_click_survives_a_re_render_between_mousedown_and_mouseup(
        page: Any, runs_collector: CollectorProcess) -> None:
    """The filter changes while a sort button is held (as when the 15 s refresh of a running
    project lands mid-click): the table recomputes, and the header under the pointer must
    stay the same element, so the click still sorts."""
    _open(page, runs_collector)
    _wait_rows(page, 5)
    button = page.locator('th[data-sort="config.lr"] button')
    button.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => "
                  "requestAnimationFrame(done)))")  # the scroll's own re-render is over
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest("
                         "'th[data-sort=\"config.lr\"]') !== null", [x, y])
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate("""() => {
        const filter = document.querySelector('#runs-filter');
        filter.value = 'config.lr > 0';
        filter.dispatchEvent(new Event('input', {bubbles: true}));
    }""")
    page.wait_for_function("() => location.search.includes('q=config.lr')", timeout=TIMEOUT_MS)
    page.mouse.up()
    page.wait_for_selector('th[data-sort="config.lr"][aria-sort="ascending"]', timeout=TIMEOUT_MS)
    assert _names(page) == [f"lr-{lr}" for lr in sorted(LEARNING_RATES)]


def test_selection_emits_and_persists(page: Any, runs_collector: CollectorProcess,
                                      tmp_path: Path) -> None:
    """All five runs are selected by default (≤ 10 most recent); click toggles, shift-click
    selects a range, the header box selects all visible; every change goes on the bus and into
    ``?runs=``, and a reload restores the selection, filter, sort and group."""
    # the page's import map (read at parse time) maps /ui/ to its versioned modules, so the bus
    # is imported once it is parsed; the table's first selection needs its fetches, later still
    page.add_init_script("""
      window.__selections = [];
      document.addEventListener('DOMContentLoaded', () => import('/ui/core/bus.js').then(({on}) =>
        on('selection', (d) => window.__selections.push(d.runs.map((r) => r.runId)))));
    """)
    _open(page, runs_collector)
    page.wait_for_function("() => window.__selections.length > 0", timeout=TIMEOUT_MS)
    ids = page.evaluate("window.__selections.at(-1)")
    assert len(ids) == 5
    assert page.locator('tr[data-run-id][aria-selected="true"]').count() == 5
    rows = page.locator("tr[data-run-id]")
    first, third = rows.nth(0).get_attribute("data-run-id"), rows.nth(2).get_attribute("data-run-id")
    page.click('th.col-select input')  # all visible selected → none
    page.wait_for_function("() => window.__selections.at(-1).length === 0", timeout=TIMEOUT_MS)
    rows.nth(0).locator("td").nth(2).click()
    rows.nth(2).locator("td").nth(2).click(modifiers=["Shift"])
    page.wait_for_function("() => window.__selections.at(-1).length === 3", timeout=TIMEOUT_MS)
    selected = page.evaluate("window.__selections.at(-1)")
    assert selected[0] == first and selected[-1] == third
    rows.nth(1).locator("td").nth(2).click()
    page.wait_for_function("() => window.__selections.at(-1).length === 2", timeout=TIMEOUT_MS)
    page.select_option("#runs-group", "config.opt")
    page.wait_for_selector("tr.group-row", timeout=TIMEOUT_MS)
    page.wait_for_function("() => location.search.includes('runs=')"
                           " && location.search.includes('group=config.opt')",
                           timeout=TIMEOUT_MS)
    url = page.url
    page.reload()
    page.wait_for_selector('#runs-table[data-state="ready"]', timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.__selections.length > 0", timeout=TIMEOUT_MS)
    assert page.url == url
    assert sorted(page.evaluate("window.__selections.at(-1)")) == sorted([first, third])
    assert sorted(page.locator('tr[data-run-id][aria-selected="true"]').evaluate_all(
        "rows => rows.map((r) => r.dataset.runId)")) == sorted([first, third])
    assert page.locator("tr.group-row").all_inner_texts()[0].startswith("▼ adam")
    page.screenshot(path=str(tmp_path / "runs-grouped.png"), full_page=True)


def test_keyboard_shortcuts(page: Any, runs_collector: CollectorProcess, tmp_path: Path) -> None:
    """``/`` focuses the filter (and keys typed there are text), j/k move the focused row,
    space toggles its selection, ``e`` opens its editor, ``?`` lists the shortcuts and Esc
    closes it, ``o`` opens the focused run's page."""
    _open(page, runs_collector)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "runs-filter"
    page.keyboard.type("jk")
    assert page.input_value("#runs-filter") == "jk"
    page.fill("#runs-filter", "")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") != "runs-filter"
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    cursor = page.locator("tr.cursor")
    assert cursor.get_attribute("data-index") == "1"
    run_id = cursor.get_attribute("data-run-id")
    assert cursor.get_attribute("aria-selected") == "true"
    page.keyboard.press(" ")
    page.wait_for_selector(f'tr[data-run-id="{run_id}"][aria-selected="false"]',
                           timeout=TIMEOUT_MS)
    page.keyboard.press("e")
    page.wait_for_selector("dialog.run-editor[open]", timeout=TIMEOUT_MS)
    assert page.input_value("#run-edit-name") == cursor.locator("td").nth(1).inner_text()
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.run-editor", state="detached", timeout=TIMEOUT_MS)
    page.keyboard.press("?")
    page.wait_for_selector("dialog#shortcuts[open]", timeout=TIMEOUT_MS)
    listed = page.inner_text("dialog#shortcuts")
    for key in ("/", "j", "k", "o", "?"):
        assert f"\n{key}\n" in f"\n{listed}\n" or key in listed.split(), listed
    page.screenshot(path=str(tmp_path / "shortcuts.png"))
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog#shortcuts[open]", state="detached", timeout=TIMEOUT_MS)
    page.keyboard.press("o")
    page.wait_for_url(f"**/r/{run_id}", timeout=TIMEOUT_MS)


def test_theme_toggle(page: Any, runs_collector: CollectorProcess, tmp_path: Path) -> None:
    """The toggle beats the system setting both ways and is remembered across a reload."""
    page.emulate_media(color_scheme="dark")
    _open(page, runs_collector)
    background = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(13, 17, 23)"
    page.click("#theme-toggle")
    page.wait_for_function(f"() => {background} === 'rgb(255, 255, 255)'", timeout=TIMEOUT_MS)
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.reload()
    page.wait_for_selector('#runs-table[data-state="ready"]', timeout=TIMEOUT_MS)
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.screenshot(path=str(tmp_path / "light.png"))
    page.click("#theme-toggle")
    page.wait_for_function(f"() => {background} === 'rgb(13, 17, 23)'", timeout=TIMEOUT_MS)
    page.emulate_media(color_scheme="light")
    assert page.evaluate(background) == "rgb(13, 17, 23)"
    page.screenshot(path=str(tmp_path / "dark.png"))


def test_rename_through_the_dialog(page: Any, runs_collector: CollectorProcess,
                                   tmp_path: Path) -> None:
    """The row's ⋯ opens the editor; a blank name is refused inline by the server's 400; a
    new name and tags are saved, shown in the table and kept after a reload."""
    _open(page, runs_collector)
    row = page.locator("tr[data-run-id]").nth(0)
    run_id = row.get_attribute("data-run-id")
    row.locator(".row-menu").click()
    page.wait_for_selector("dialog.run-editor[open]", timeout=TIMEOUT_MS)
    page.fill("#run-edit-name", "   ")
    page.evaluate("document.getElementById('run-edit-name').required = false")
    page.click("dialog.run-editor button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('dialog.run-editor [role=alert]')?.textContent"
        ".includes('runName')",
        timeout=TIMEOUT_MS)
    page.fill("#run-edit-name", "renamed-run")
    page.fill("#run-edit-tags", "sweep, best")
    page.screenshot(path=str(tmp_path / "editor.png"))
    page.click("dialog.run-editor button[type=submit]")
    page.wait_for_selector("dialog.run-editor", state="detached", timeout=TIMEOUT_MS)
    renamed = page.locator(f'tr[data-run-id="{run_id}"]')
    assert renamed.locator("td").nth(1).inner_text() == "renamed-run"
    assert renamed.locator("td").nth(5).inner_text() == "sweep, best"
    _open(page, runs_collector, "?q=renamed")
    _wait_rows(page, 1)
    assert page.locator("tr[data-run-id]").get_attribute("data-run-id") == run_id


def test_live_state_and_empty_project(page: Any, runs_collector: CollectorProcess,
                                      tmp_path: Path) -> None:
    """A project without runs says so; a running SDK run shows the running badge, and after
    ``finish()`` a reload (↻) shows it completed and re-announces the selection."""
    status, _, payload = request("POST", f"{runs_collector.url}/api/v1/workspaces/"
                                 f"{runs_collector.workspace}/projects", {"slug": "live"},
                                 api_key=runs_collector.api_key)
    assert status == 201, payload
    page.goto(f"/p/{runs_collector.workspace}/live", timeout=TIMEOUT_MS)
    page.wait_for_selector('#runs-table[data-state="ready"][data-rows="0"]', timeout=TIMEOUT_MS)
    assert "no runs yet" in page.inner_text("#runs-table .empty")
    run = rd.init(workspace=runs_collector.workspace, project="live", endpoint=runs_collector.url,
                  api_key=runs_collector.api_key, spool_directory=str(tmp_path / "spool"),
                  name="live-run")
    assert isinstance(run, rd.Run)
    try:
        run.log({"train/loss": 1.0}, step=0)
        wait_until(lambda: _listed(runs_collector, "live") == 1, timeout_seconds=15)
        page.reload()
        page.wait_for_selector("tr[data-run-id] .state-running", timeout=TIMEOUT_MS)
    finally:
        run.finish()
    page.evaluate("""() => import('/ui/core/bus.js').then(({on}) => {
        window.__states = [];
        on('selection', (d) => window.__states.push(d.runs.map((r) => r.status)));
    })""")
    page.click(".runs-refresh")
    page.wait_for_selector("tr[data-run-id] .state-completed", timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.__states.at(-1)?.[0] === 'completed'",
                           timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "live.png"))


def _listed(collector: CollectorProcess, project: str) -> int:
    status, _, payload = request("GET", f"{collector.url}/api/v1/workspaces/"
                                 f"{collector.workspace}/projects/{project}/runs-table",
                                 api_key=collector.api_key)
    assert status == 200, payload
    return int(payload["count"])
