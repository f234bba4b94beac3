"""The project page's parallel-coordinates panel in a real browser: for the selected runs it draws
one line per run over the config keys that differ plus the metric's last value, with a table as
its text alternative (issue 15, "Parallel coordinates")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.ui.conftest import CSP_LISTENER

TIMEOUT_MS = 15_000
CONFIGS = [{"lr": 1e-4, "batch_size": 32, "optimizer": "adamw", "layers": 6},
           {"lr": 1e-3, "batch_size": 64, "optimizer": "sgd", "layers": 6},
           {"lr": 1e-1, "batch_size": 64, "optimizer": "adamw", "layers": 6}]
# Sends a selection on the page's own event bus (the same module instance as the app's).
SELECT = """async (runs) => {
  const bus = await import("/ui/core/bus.js");
  bus.emit("selection", {runs});
}"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CollectorProcess,
                                                                      list[str]]]:
    """Three finished runs whose configs differ in lr, batch size and optimizer; the last run
    logs no train/loss (a missing metric value)."""
    base = tmp_path_factory.mktemp("parcoords")
    proc = CollectorProcess(base / "data")
    proc.start()
    try:
        ids = []
        for index, config in enumerate(CONFIGS):
            run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                          api_key=proc.api_key, spool_directory=str(base / "spool"),
                          name=f"pc-{index}", config=config, system_metrics=False)
            key = "train/loss" if index < 2 else "train/acc"
            for step in range(20):
                run.log({key: (index + 1) / (step + 1)}, step=step)
            run.finish()
            ids.append(run.run_id)
        yield proc, ids
    finally:
        proc.stop()


def _refs(ids: list[str]) -> list[dict[str, Any]]:
    colors = ["#0072B2", "#E69F00", "#009E73"]
    return [{"runId": run_id, "name": f"pc-{i}", "color": colors[i], "status": "completed",
             "startedAtMs": None} for i, run_id in enumerate(ids)]


@pytest.fixture
def selected(browser: Any, sweep: tuple[CollectorProcess, list[str]]) -> Iterator[tuple[Any, Any]]:
    """The project page, logged in, once the panel drew the three runs: (page, .parcoords)."""
    proc, ids = sweep
    context = browser.new_context(base_url=proc.url, viewport={"width": 1400, "height": 1000})
    context.add_init_script(CSP_LISTENER)
    try:
        assert context.request.post("/api/v1/ui/session", data={"apiKey": proc.api_key}).ok
        page = context.new_page()
        page.goto(f"/p/{proc.workspace}/{proc.project}", timeout=TIMEOUT_MS)
        page.locator("#parcoords-panel").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        page.evaluate(SELECT, _refs(ids))
        page.locator("#parcoords-panel").scroll_into_view_if_needed(timeout=TIMEOUT_MS)
        plot = page.locator('#parcoords-panel .parcoords[data-lines="3"]')
        plot.wait_for(state="attached", timeout=TIMEOUT_MS)
        yield page, plot
    finally:
        context.close()


def test_draws_one_line_per_selected_run(selected: tuple[Any, Any],
                                         sweep: tuple[CollectorProcess, list[str]],
                                         tmp_path: Path) -> None:
    page, plot = selected
    _, ids = sweep
    # batch_size, lr (numbers first, by name), optimizer, then the metric; "layers" never differs.
    assert plot.get_attribute("data-axes") == "4"
    assert page.locator("#parcoords-metric").input_value() == "train/loss"
    headers = page.locator(".parcoords-text tr").first.locator("th").all_text_contents()
    assert headers == ["run", "batch_size", "lr", "optimizer", "train/loss (last)"]
    rows = {row.get_attribute("data-pc-run"): row.locator("td").all_text_contents()
            for row in page.locator(".parcoords-text tr[data-pc-run]").all()}
    assert rows == {ids[0]: ["32", "1.0e-4", "adamw", "0.05"],
                    ids[1]: ["64", "0.001", "sgd", "0.1"],
                    ids[2]: ["64", "0.1", "adamw", "–"]}
    shot = tmp_path / "parcoords.png"
    page.locator("#parcoords-panel").screenshot(path=str(shot))
    assert shot.stat().st_size > 1000

    page.evaluate(SELECT, _refs(ids)[:2])
    page.locator('#parcoords-panel .parcoords[data-lines="2"]').wait_for(
        state="attached", timeout=TIMEOUT_MS)
    assert page.evaluate("window.__cspViolations") == []


def test_an_unknown_run_is_drawn_with_missing_values(
        selected: tuple[Any, Any], sweep: tuple[CollectorProcess, list[str]]) -> None:
    """A selected run the collector does not know (deleted meanwhile) neither breaks the panel
    nor hides the others: its line goes to the missing slots."""
    page, _ = selected
    _, ids = sweep
    gone = {**_refs(ids)[0], "runId": "run_gone", "name": "gone"}
    page.evaluate(SELECT, [*_refs(ids)[:2], gone])
    page.locator('#parcoords-panel .parcoords[data-lines="3"][data-axes="5"]').wait_for(
        state="attached", timeout=TIMEOUT_MS)
    row = page.locator('.parcoords-text tr[data-pc-run="run_gone"] td')
    assert row.all_text_contents() == ["–"] * 5  # 4 config keys ("layers" is missing there) + metric


def test_hover_highlights_the_run_under_the_pointer(
        selected: tuple[Any, Any], sweep: tuple[CollectorProcess, list[str]]) -> None:
    """Moving along the first axis finds each run's line and names it under the plot."""
    page, plot = selected
    _, ids = sweep
    box = page.locator("#parcoords-panel canvas").bounding_box()
    assert box is not None
    seen = {}
    for dy in range(0, int(box["height"]), 2):  # the first axis sits 70 px from the left
        page.mouse.move(box["x"] + 70, box["y"] + dy)
        run_id = plot.get_attribute("data-highlight")
        if run_id and run_id not in seen:
            seen[run_id] = page.locator(".parcoords-hover").inner_text()
    assert set(seen) == set(ids), seen
    assert seen[ids[0]].startswith("pc-0: batch_size = 32, lr = 1.0e-4"), seen
    page.mouse.move(box["x"] + box["width"] + 50, box["y"] - 50)
    assert plot.get_attribute("data-highlight") == ""


def test_brushing_an_axis_keeps_the_runs_inside(
        selected: tuple[Any, Any], sweep: tuple[CollectorProcess, list[str]]) -> None:
    """A drag over the top of the lr axis (the second; 0.1 sits at its top) keeps that run only;
    a click on the axis clears the brush."""
    page, plot = selected
    _, ids = sweep
    box = page.locator("#parcoords-panel canvas").bounding_box()
    assert box is not None
    x = box["x"] + 70 + (box["width"] - 140) / 3  # axes spread between 70 px margins
    page.mouse.move(x, box["y"] + 24)
    page.mouse.down()
    page.mouse.move(x, box["y"] + 46, steps=4)
    page.mouse.up()
    assert plot.get_attribute("data-brushed") == ids[2]
    page.mouse.click(x, box["y"] + 100)
    assert plot.get_attribute("data-brushed") is None
