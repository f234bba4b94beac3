"""The chart grid in a real browser (issue 15): what the charts were given against what the SDK
logged, drag-to-zoom refetching at full resolution, double-click reset, the smoothing slider,
a URL round trip, the key search and empty states. Runs are selected through the URL field
``runs`` (the grid reads it when no runs table selection has come)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.ui.conftest import Recorded
from tests.ui.test_browser import TIMEOUT_MS, _login

SHORT_STEPS = 120  # raw at any chart width
LONG_STEPS = 6000  # bucketed
SAME_STEP_LOGS = 5000  # one step logged again and again: one resolved point


@pytest.fixture(scope="module")
def chart_collector(tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[tuple[CollectorProcess, list[str]]]:
    """Two finished runs logged by the SDK: a short raw one and a long bucketed one."""
    base = tmp_path_factory.mktemp("chart-collector")
    proc = CollectorProcess(base / "data")
    proc.start()
    try:
        ids = []
        for name, steps in (("short", SHORT_STEPS), ("long", LONG_STEPS)):
            run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                          api_key=proc.api_key, spool_directory=str(base / f"spool-{name}"),
                          name=name)
            assert isinstance(run, rd.Run)
            for step in range(steps):
                run.log({"train/loss": 10.0 / (step + 1) + (step % 10) * 0.01,
                         "eval/acc": step / steps}, step=step)
            run.finish()
            ids.append(run.run_id)
        odd = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                      api_key=proc.api_key, spool_directory=str(base / "spool-odd"), name="odd")
        assert isinstance(odd, rd.Run)
        odd.log({"odd/single": 4.0}, step=3)
        for i in range(SAME_STEP_LOGS):
            odd.log({"odd/same": float(i)}, step=7)
        odd.finish()
        ids.append(odd.run_id)
        yield proc, ids
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def logged_in(browser: Any, chart_collector: tuple[CollectorProcess, list[str]]
              ) -> dict[str, Any]:
    """The cookies and storage of a browser logged in through the login page, once per module
    (the login itself is tested in test_browser.py)."""
    proc, _ids = chart_collector
    context = browser.new_context(base_url=proc.url)
    try:
        _login(context.new_page(), proc.api_key)
        state: dict[str, Any] = context.storage_state()
    finally:
        context.close()
    return state


@pytest.fixture
def page(browser: Any, chart_collector: tuple[CollectorProcess, list[str]],
         logged_in: dict[str, Any]) -> Iterator[tuple[Any, Recorded]]:
    """A fresh context holding the module's login (no cache, no page loaded yet)."""
    proc, _ids = chart_collector
    context = browser.new_context(base_url=proc.url, viewport={"width": 1400, "height": 1000},
                                  storage_state=logged_in)
    recorded = Recorded()
    context.on("request", lambda req: recorded.requests.append(
        req.url + " " + (req.post_data or "")))
    context.on("console", lambda msg: recorded.console.append(f"{msg.type}: {msg.text}"))
    tab = context.new_page()
    try:
        yield tab, recorded
    finally:
        context.close()


def open_grid(tab: Any, proc: CollectorProcess, query: str) -> None:
    tab.goto(f"/p/{proc.workspace}/{proc.project}?{query}", timeout=TIMEOUT_MS)
    tab.wait_for_selector('#chart-grid[data-state="ready"]', state="attached",
                          timeout=TIMEOUT_MS)


def select_runs(tab: Any, runs: list[dict[str, Any]]) -> None:
    """Announce a selection as the runs table does, once the table made its own."""
    tab.wait_for_selector('#runs-table[data-state="ready"]', state="attached",
                          timeout=TIMEOUT_MS)
    tab.evaluate("(runs) => window.__rundialSelect(runs)", runs)


def drawn(tab: Any, key: str) -> Any:
    selector = f'.chart[data-key="{key}"][data-state="drawn"]'
    tab.wait_for_selector(selector, timeout=TIMEOUT_MS)
    return tab.locator(selector)


def given(tab: Any, key: str) -> dict[str, Any]:
    return tab.evaluate("(key) => JSON.parse(JSON.stringify(window.__rundialCharts.get(key)))",
                        key)


def show_loss(page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]],
              runs: list[int], extra: str = "") -> tuple[Any, Recorded, list[str]]:
    """Open the grid on the runs ``runs`` (indexes into the fixture's run ids) and wait for
    the train/loss chart; returns (tab, recorded, run ids)."""
    tab, recorded = page
    proc, ids = chart_collector
    open_grid(tab, proc, "runs=" + ",".join(ids[i] for i in runs) + extra)
    drawn(tab, "train/loss")
    return tab, recorded, ids


def drag(tab: Any, key: str, start: float, end: float) -> None:
    """Drag across a chart's plot from ``start`` to ``end`` (fractions of its width)."""
    box = tab.locator(f'.chart[data-key="{key}"] .u-over').bounding_box()
    y = box["y"] + box["height"] / 2
    tab.mouse.move(box["x"] + box["width"] * start, y)
    tab.mouse.down()
    tab.mouse.move(box["x"] + box["width"] * end, y, steps=4)
    tab.mouse.up()


def chart_requests(recorded: Recorded) -> list[dict[str, Any]]:
    return [json.loads(r.split(" ", 1)[1]) for r in recorded.requests
            if "/api/v1/query/chart " in r]


def grid_requests(recorded: Recorded) -> list[dict[str, Any]]:
    return [body for body in chart_requests(recorded) if body["buckets"] > 1]


def test_chart_draws_what_the_sdk_logged(page: tuple[Any, Recorded],
                                         chart_collector: tuple[CollectorProcess, list[str]],
                                         tmp_path: Path) -> None:
    tab, recorded = page
    proc, (short, long, _odd) = chart_collector
    open_grid(tab, proc, f"runs={short},{long}")
    chart = drawn(tab, "train/loss")
    data = given(tab, "train/loss")
    by_run = {s["runId"]: s for s in data["series"]}
    assert by_run[short]["mode"] == "raw"
    assert by_run[short]["x"] == list(range(SHORT_STEPS))
    assert by_run[short]["y"] == [10.0 / (s + 1) + (s % 10) * 0.01 for s in range(SHORT_STEPS)]
    bucketed = by_run[long]
    assert bucketed["mode"] == "buckets" and data["bucketSize"] > 1
    assert bucketed["x"][-1] == LONG_STEPS - 1 and max(bucketed["max"]) == 10.0  # step 0's spike
    assert len(bucketed["min"]) == len(bucketed["y"]) < LONG_STEPS
    points = SHORT_STEPS + len(bucketed["y"])
    assert chart.get_attribute("data-points") == str(points)
    assert "steps/bucket" in (chart.locator(".fidelity").text_content() or "")
    assert chart.locator("table tr").count() == 2  # the text alternative: a row per run
    # the charts in view came in one request (a series per run and key), the others only
    # once scrolled into view
    charts = tab.locator(".chart").count()
    # (the parallel-coordinates panel reads each run's last value with buckets=1: not the grid's)
    (first,) = grid_requests(recorded)
    assert {s["metricKey"] for s in first["series"]} >= {"train/loss", "eval/acc"}
    assert len(first["series"]) < 2 * charts
    tab.locator(".chart").last.scroll_into_view_if_needed()
    tab.wait_for_function("""() => [...document.querySelectorAll('.chart')]
        .every((c) => c.dataset.state !== "loading")""", timeout=TIMEOUT_MS)
    assert sum(len(r["series"]) for r in grid_requests(recorded)) == 2 * charts
    sections = [s.text_content() for s in tab.locator(".chart-section > summary").all()]
    assert sections[:2] == ["train (1)", "eval (1)"]
    tab.screenshot(path=str(tmp_path / "charts.png"), full_page=True)


def test_zoom_refetches_raw_and_double_click_resets(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    tab, recorded, _ids = show_loss(page, chart_collector, [1])
    before = len(chart_requests(recorded))
    drag(tab, "train/loss", 0.50, 0.52)
    tab.wait_for_function("""() => { const g = window.__rundialCharts.get("train/loss");
        return g && g.series[0].mode === "raw"; }""", timeout=TIMEOUT_MS)
    zoomed = [r for r in chart_requests(recorded)[before:] if "startStep" in r]
    assert zoomed and zoomed[0]["endStep"] - zoomed[0]["startStep"] < LONG_STEPS // 10
    data = given(tab, "train/loss")["series"][0]
    assert data["x"] == list(range(zoomed[0]["startStep"], zoomed[0]["endStep"] + 1))
    assert tab.locator('.chart[data-key="eval/acc"]').get_attribute("data-zoom")  # synced
    assert "zoom=" in tab.url
    tab.locator('.chart[data-key="train/loss"] .u-over').dblclick()
    tab.wait_for_function("""() => window.__rundialCharts.get("train/loss").series[0].mode
        === "buckets" """, timeout=TIMEOUT_MS)
    assert "zoom=" not in tab.url
    assert tab.locator('.chart[data-key="train/loss"]').get_attribute("data-zoom") is None


def test_smoothing_slider_and_url_round_trip(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    tab, recorded, (short, long, _odd) = show_loss(page, chart_collector, [0, 1], "&x=step")
    tab.locator("#chart-smooth").fill("0.9")
    tab.wait_for_function("""() => window.__rundialCharts.get("train/loss").series
        .every((s) => Array.isArray(s.smoothed))""", timeout=TIMEOUT_MS)
    by_run = {s["runId"]: s for s in given(tab, "train/loss")["series"]}
    y, smoothed = by_run[short]["y"], by_run[short]["smoothed"]
    assert smoothed[0] == pytest.approx(y[0]) and smoothed[5] != pytest.approx(y[5])
    server = [r for r in chart_requests(recorded) if r.get("smoothedOnly")]
    assert server and server[-1]["smoothing"] == {"kind": "ema", "weight": 0.9}
    assert len(by_run[long]["smoothed"]) == len(by_run[long]["y"])
    tab.locator("#chart-search").fill("loss")
    tab.wait_for_function("""() => !document.querySelector('.chart[data-key="eval/acc"]')""",
                          timeout=TIMEOUT_MS)
    assert "smooth=0.9" in tab.url and "keys=loss" in tab.url
    tab.reload(timeout=TIMEOUT_MS)
    tab.wait_for_selector('#chart-grid[data-state="ready"]', timeout=TIMEOUT_MS)
    drawn(tab, "train/loss")
    assert tab.locator("#chart-search").input_value() == "loss"
    assert tab.locator("#chart-smooth").input_value() == "0.9"
    assert tab.locator('.chart[data-key="eval/acc"]').count() == 0
    tab.wait_for_function("""() => window.__rundialCharts.get("train/loss").series
        .every((s) => Array.isArray(s.smoothed))""", timeout=TIMEOUT_MS)


def test_search_errors_and_empty_states(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    tab, _recorded = page
    proc, (short, _long, _odd) = chart_collector
    open_grid(tab, proc, f"runs={short}&keys=train/nope")
    empty = tab.locator('.chart[data-key="train/nope"][data-state="empty"]')
    empty.wait_for(timeout=TIMEOUT_MS)
    assert "Unknown key" in (empty.locator(".empty-reason").text_content() or "")
    tab.locator("#chart-search").fill("/(bad/")
    assert "bad regex" in (tab.locator(".chart-search-error").text_content() or "")
    select_runs(tab, [{"runId": "run-that-does-not-exist", "name": "ghost", "color": "#0072B2",
                       "status": "completed", "startedAtMs": None}])
    message = tab.locator(".grid-message", has_text="Unknown run")
    message.wait_for(timeout=TIMEOUT_MS)
    assert message.text_content() == ("Unknown run (not in this project): "
                                      "run-that-does-not-exist. No metrics logged yet.")


def test_click_focuses_the_step_on_every_chart(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    tab, _recorded = page
    proc, (short, _long, _odd) = chart_collector
    open_grid(tab, proc, f"runs={short}")
    drawn(tab, "train/loss")
    drawn(tab, "eval/acc")
    tab.evaluate("""async () => { const bus = await import("/ui/core/bus.js");
        window.__focus = []; bus.on("step-focus", (d) => window.__focus.push(d)); }""")
    tab.locator('.chart[data-key="train/loss"] .u-over').click()
    tab.wait_for_function("() => window.__focus.length > 0", timeout=TIMEOUT_MS)
    focus = tab.evaluate("window.__focus[0]")
    assert focus["runId"] == short and focus["key"] == "train/loss"
    assert 0 < focus["step"] < SHORT_STEPS and focus["timeMs"] > 0
    other = tab.locator('.chart[data-key="eval/acc"]')
    assert other.get_attribute("data-focus-step") == str(focus["step"])
    assert f"step={focus['step']}" in tab.url


def test_live_points_redraw_one_chart_without_a_refetch(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    tab, recorded = page
    proc, (short, _long, _odd) = chart_collector
    open_grid(tab, proc, f"runs={short}")
    loss, acc = drawn(tab, "train/loss"), drawn(tab, "eval/acc")
    before = (loss.get_attribute("data-drawn-ms"), acc.get_attribute("data-drawn-ms"))
    requests = len(chart_requests(recorded))
    tab.evaluate("""(runId) => window.__rundialGrid.applyPoints(runId, "train/loss",
        {steps: [500], timestampsMs: [1800000000000], values: [0.5]})""", short)
    tab.wait_for_function("""(ms) => Number(document.querySelector('.chart[data-key="train/loss"]')
        .dataset.drawnMs) > ms""", arg=float(before[0] or 0), timeout=TIMEOUT_MS)
    assert acc.get_attribute("data-drawn-ms") == before[1]
    assert len(chart_requests(recorded)) == requests


def test_a_single_point_and_one_step_logged_many_times_still_draw(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    """Selected through the runs-table event (the test hook), not the URL."""
    tab, _recorded = page
    proc, (_short, _long, odd) = chart_collector
    open_grid(tab, proc, "keys=odd/")
    select_runs(tab, [{"runId": odd, "name": "odd", "color": "#0072B2", "status": "completed",
                       "startedAtMs": None}])
    single, same = drawn(tab, "odd/single"), drawn(tab, "odd/same")
    assert given(tab, "odd/single")["series"][0]["x"] == [3]
    assert given(tab, "odd/same")["series"][0] == {
        "runId": odd, "mode": "raw", "steps": [7], "x": [7], "y": [float(SAME_STEP_LOGS - 1)]}
    assert single.get_attribute("data-points") == same.get_attribute("data-points") == "1"
    assert (same.locator(".fidelity").text_content() or "") == "1 of 5k pts · raw · 5k dup steps resolved"


def test_x_axis_and_zoom_survive_a_reload(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    tab, recorded, _ids = show_loss(page, chart_collector, [1])
    tab.select_option("#chart-x", "relative")
    # seconds since the run started: the SDK logged every step within a few seconds
    tab.wait_for_function("""() => { const x = window.__rundialCharts.get('train/loss').series[0].x;
        return x[0] >= 0 && x[x.length - 1] < 600; }""", timeout=TIMEOUT_MS)
    drag(tab, "train/loss", 0.40, 0.45)
    tab.wait_for_function("() => document.querySelector('.chart[data-key=\"train/loss\"]')"
                          ".dataset.zoom !== undefined", timeout=TIMEOUT_MS)
    assert "x=relative" in tab.url and "zoom=" in tab.url
    zoom = tab.locator('.chart[data-key="train/loss"]').get_attribute("data-zoom")
    before = len(chart_requests(recorded))
    tab.reload(timeout=TIMEOUT_MS)
    drawn(tab, "train/loss")
    assert tab.locator("#chart-x").input_value() == "relative"
    tab.wait_for_function("""(zoom) => {
        const c = document.querySelector('.chart[data-key="train/loss"]');
        return c.dataset.zoom === zoom && window.__rundialCharts.get("train/loss").series[0]
          .x.length > 0; }""", arg=zoom, timeout=TIMEOUT_MS)
    again = [r for r in chart_requests(recorded)[before:] if "startStep" in r]
    assert again and again[-1]["endStep"] - again[-1]["startStep"] < LONG_STEPS // 5


def test_full_screen_chart_refetches_for_its_width(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    tab, recorded, _ids = show_loss(page, chart_collector, [1])
    chart = tab.locator('.chart[data-key="train/loss"]')
    narrow = len(given(tab, "train/loss")["series"][0]["x"])
    before = len(chart_requests(recorded))
    chart.locator(".chart-expand").click()
    tab.wait_for_function("""(n) => window.__rundialCharts.get("train/loss").series[0].x.length
        > n * 1.5""", arg=narrow, timeout=TIMEOUT_MS)
    wider = [r for r in chart_requests(recorded)[before:]
             if any(s["metricKey"] == "train/loss" for s in r["series"])]
    assert len(wider) == 1 and wider[0]["buckets"] > narrow * 1.5
    assert chart.locator(".chart-expand").get_attribute("aria-pressed") == "true"
    chart.locator(".chart-expand").press("Escape")
    assert chart.locator(".chart-expand").get_attribute("aria-pressed") == "false"


def test_nan_only_buckets_still_draw(
        page: tuple[Any, Recorded], chart_collector: tuple[CollectorProcess, list[str]]) -> None:
    """Our wire never carries NaN (the SDK drops non-finite values), but the chart route answers
    ``null`` min/max/last for a bucket of NaN-only points (docs/protocol.md §4.8): a reply whose
    first half of buckets is all NaN still draws its other half, with gaps, and no error."""
    tab, recorded = page
    proc, (_short, long_run, _odd) = chart_collector

    def nan_first_half(route: Any) -> None:
        reply = route.fetch()
        body = reply.json()
        for entry in body["series"]:
            if entry.get("mode") == "buckets":
                half = len(entry["last"]) // 2
                for name in ("min", "max", "last"):
                    entry[name][:half] = [None] * half
        route.fulfill(response=reply, json=body)

    tab.route("**/api/v1/query/chart", nan_first_half)
    try:
        open_grid(tab, proc, f"runs={long_run}&keys=train/loss")
        chart = drawn(tab, "train/loss")
        series = given(tab, "train/loss")["series"][0]
        half = len(series["y"]) // 2
        assert series["mode"] == "buckets" and half > 0
        assert series["y"][:half] == [None] * half
        assert all(v is not None for v in series["y"][half:])
        assert int(chart.get_attribute("data-points") or 0) == len(series["y"])
        assert not [c for c in recorded.console if c.startswith("error")]
    finally:
        # waits for a chart read still inside the handler (a late refetch): closing the context
        # under it made its fulfill fail at teardown ("Route is already handled")
        tab.unroute_all(behavior="wait")
