"""The UI benchmark's browser harness (benchmarks/ui.py, ui_harness.py) against stand-in pages
that follow the DOM contract of docs/ui.md: each figure's wait ends on the contract's state and
reads the page's clock; a page that never gets there prints ``n/a (reason)``.

The project pages are answered by Playwright's router with small stand-ins (the real grid and
table are separate components); the login still goes to the real collector."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks import ui_data
from benchmarks.ui import TABLE_PROJECT, chart_figures, table_figures
from benchmarks.ui_harness import Pages, measure
from tests.helpers.collector_proc import CollectorProcess

SIZES = ui_data.Sizes(dash_runs=2, dash_keys=2)
DRAW_DELAY_MS, ZOOM_DELAY_MS, TABLE_DELAY_MS = 30, 20, 10
CHARTS = """<!doctype html><div id="chart-grid" data-state="loading"></div><script>
const params = new URLSearchParams(location.search);
const keys = params.get("keys") === "train/" ? ["train/m00", "train/m01"] : [params.get("keys")];
const series = (params.get("runs") ?? "").split(",").map((runId) => ({runId}));
window.__rundialCharts = new Map();
setTimeout(() => {
  const grid = document.getElementById("chart-grid");
  for (const key of keys) {
    const chart = Object.assign(document.createElement("div"), {className: "chart"});
    const over = Object.assign(document.createElement("div"), {className: "u-over"});
    over.style.width = "800px"; over.style.height = "200px";
    chart.append(over);
    grid.append(chart);
    chart.dataset.key = key;
    chart.dataset.state = "drawn";
    chart.dataset.drawnMs = String(performance.now());
    window.__rundialCharts.set(key, {series, bucketSize: 1000});
    over.addEventListener("mouseup", () => setTimeout(() => {
      chart.dataset.zoom = "10,20";
      window.__rundialCharts.set(key, {series, bucketSize: 1});
      chart.dataset.drawnMs = String(performance.now());
    }, %(zoom)d));
  }
  grid.dataset.state = "ready";
}, %(draw)d);
</script>""" % {"zoom": ZOOM_DELAY_MS, "draw": DRAW_DELAY_MS}
TABLE = """<!doctype html><input id="runs-filter"><div id="runs-table" data-state="loading"
  data-rows="50"><table><tr><th data-sort="config.lr" aria-sort="none">lr</th></tr>
  <tr data-run-id="t00001"><td>1</td></tr></table></div><script>
const table = document.getElementById("runs-table");
setTimeout(() => { table.dataset.state = "ready"; }, %(delay)d);
const th = document.querySelector("th");
th.addEventListener("click", () => setTimeout(() => th.setAttribute("aria-sort", "ascending"),
  %(delay)d));
document.getElementById("runs-filter").addEventListener("input",
  () => setTimeout(() => { table.dataset.rows = "7"; }, %(delay)d));
</script>""" % {"delay": TABLE_DELAY_MS}


@pytest.fixture
def pages(browser: Any, ui_collector: CollectorProcess) -> Iterator[Pages]:
    """A harness context logged in on the shared UI test collector, project pages stood in."""
    pages = Pages(browser, ui_collector, wait_ms=5000)

    def stand_in(route: Any) -> None:
        url = route.request.url
        body = TABLE if f"/{TABLE_PROJECT}" in url else "" if "/never" in url else CHARTS
        route.fulfill(status=200, content_type="text/html", body=body)

    pages.context.route("**/p/**", stand_in)
    try:
        yield pages
    finally:
        pages.context.close()


def _figures(out: str) -> dict[str, str]:
    """Figure name → its text (the indented per-load timeline lines left out)."""
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines()
            if line.strip() and not line.startswith("    ")]
    return {row[0]: row[1] if len(row) > 1 else "" for row in rows}


def test_chart_figures_read_the_charts_clock(pages: Pages, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    chart_figures(pages, SIZES, repeats=2, wanted=["chart-1m", "dashboard", "zoom"])
    out = capsys.readouterr().out
    assert re.search(r"^    last load: HTML \d+; modules \d+ \(\d+ fetched\) by \d+; "
                     r"DOMContentLoaded \d+; API ", out, re.MULTILINE), out
    figures = _figures(out)
    assert set(figures) == {"chart-1k (baseline)", "chart-1m", "dashboard 1 chart",
                            "dashboard", "zoom"}, figures
    for name, text in figures.items():
        assert not text.startswith("n/a"), (name, text)
        median = float(text.split()[0])
        delay = ZOOM_DELAY_MS if name == "zoom" else DRAW_DELAY_MS
        assert median >= delay - 1, (name, text)  # the wait covers the page's own delay


def test_running_chart_figures_are_named_apart(pages: Pages,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """``--running``: the same chart figures, named for runs still running, with their goals."""
    chart_figures(pages, SIZES, repeats=1, wanted=["chart-1m", "dashboard"], suffix=" (running)")
    figures = _figures(capsys.readouterr().out)
    assert set(figures) == {"chart-1k (running)", "chart-1m (running)",
                            "dashboard 1 chart (running)", "dashboard (running)"}, figures
    assert "of the 300 ms goal" in figures["chart-1m (running)"]
    assert "of the 1500 ms goal" in figures["dashboard (running)"]


def test_the_dashboard_waits_for_every_run_of_every_chart(
        pages: Pages, capsys: pytest.CaptureFixture[str]) -> None:
    """A grid whose charts are drawn with fewer runs than the URL names is not "all drawn"."""
    url = pages.project_url(pages.proc.project, runs="dash-00", keys="train/")
    assert measure("dashboard", lambda: [pages.all_drawn_ms(url, 2, runs=1)]) is not None
    pages.wait_ms = 300
    assert measure("dashboard", lambda: [pages.all_drawn_ms(url, 2, runs=2)]) is None
    assert "n/a (2 charts of 2 runs drawn not reached" in capsys.readouterr().out


def test_table_figures_time_sort_and_filter(pages: Pages,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    table_figures(pages, repeats=2, rows=50)
    figures = _figures(capsys.readouterr().out)
    assert set(figures) == {"table first paint", "table sort", "table filter"}, figures
    for name, text in figures.items():
        assert not text.startswith("n/a"), (name, text)
        assert float(text.split()[0]) >= TABLE_DELAY_MS - 1, (name, text)


def test_a_page_that_never_draws_prints_na(pages: Pages,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    pages.wait_ms = 300
    url = pages.project_url("never", runs="x", keys="train/loss")
    result = measure("chart-1m", lambda: [pages.chart_drawn_ms(url, "train/loss")])
    assert result is None
    out = capsys.readouterr().out
    assert "chart-1m" in out and "n/a (chart train/loss drawn not reached in 0.3 s" in out, out

