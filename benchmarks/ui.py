"""The web UI's figures (issue 15), in Debian's Chromium against a real collector.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python benchmarks/ui.py`` (``--quick``
for small sizes, ``--only <figure>`` for one figure (repeatable), ``--repeats N``,
``--running also|only|no``). Figures, medians of
``--repeats`` (each repetition a fresh navigation in the same browser context, so the browser's
cache is warm and the collector's too, after one untimed warm-up):

* ``size``: every JS + CSS file the pages load, each gzip-compressed (``benchmarks/ui_size.py``;
  needs no browser); goal ≤ 250 KB.
* ``chart-1m``: one chart of a 1M-point series (10% of its points re-log earlier steps),
  navigation → drawn: the chart's ``data-drawn-ms``, which is ``performance.now()`` at its
  draw, i.e. milliseconds since the navigation started (``page.goto`` only starts it). The
  harness learns it from a console message of an init script's mutation observer, so it
  evaluates nothing in the page while it loads (Playwright's ``wait_for_function`` injects its
  own script into each new document: main-thread work, 50-100 ms on a loaded machine, that
  earlier figures counted). Baseline: the same key of a 1,000-point run; goal ≤ 300 ms.
* ``dashboard``: 20 runs × 16 keys × 100k steps, all charts drawn: the largest ``data-drawn-ms``
  once every chart of the grid is ``drawn`` with a series of every run. The grid draws only charts near the viewport, so
  this figure uses a 1600 × 6000 px viewport that holds all 16. Baseline: one chart of one of
  those runs; goal ≤ 1.5 s.
* ``chart-1m (running)``, ``dashboard (running)`` (and their baselines): the same with the
  chart runs still running, so the page follows each of them live (one WebSocket per run)
  before it reads its charts. ``--running also`` (the default) measures these first, then
  marks the runs completed and measures the finished figures; ``only`` stops after them;
  ``no`` completes the runs before any figure.
* ``zoom``: drag-zoom into 1% of the 1M series: from the ``mouseup`` (``performance.now()`` in
  a capture listener on window, which runs before the chart's) to the ``data-drawn-ms`` of the
  draw of the refetched data (``data-zoom`` set and a bucket size under a tenth of the full
  view's); goal ≤ 250 ms.
* ``live``: a point logged by the SDK (default client options: it batches up to 1 s) visible on
  an open chart: from before ``run.log`` (Python's wall clock) to the animation frame in which
  ``window.__rundialCharts`` holds its step (``performance.timeOrigin + performance.now()``, the
  same clock); goal ≤ 2 s.
* ``table``: 10,000 runs × 20 config keys: first paint (``#runs-table`` ``ready`` with a row,
  ms since navigation start), then a sort (click on a ``th[data-sort]``, until ``aria-sort``
  changes) and a filter (typing into ``#runs-filter``, until ``data-rows`` changes), from the
  event (capture listener) to the animation frame where it shows (a mutation observer armed
  before the interaction stamps that frame); goals ≤ 1 s / ≤ 100 ms.

Browser times are read from the page's own clock inside the frame where the DOM contract of
docs/ui.md says the state is reached (``wait_for_function`` polls on animation frames). A
figure whose page never reaches that state within ``--wait-seconds`` (default 30) prints ``n/a (reason)``
instead of failing. Without ``/usr/bin/chromium`` or the ``playwright`` package, every browser
figure prints ``n/a`` with the reason and the script exits 0. Benchmarks never assert.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import ui_data
from benchmarks.ui_harness import NotReached, Pages, measure
from benchmarks.ui_size import crawl, print_size, session_fetcher
from tests.helpers.collector_proc import CollectorProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FIGURES = ("size", "chart-1m", "dashboard", "zoom", "live", "table")
SIZE_GOAL_BYTES = 250 * 1024
WAIT_SECONDS = 30.0
DASHBOARD_VIEWPORT_PX = 6000
TABLE_PROJECT = "ui-bench-table"


def repeat(repeats: int, fn: Callable[[], float]) -> list[float]:
    fn()  # warm-up: collector caches, module cache, first JIT
    return [fn() for _ in range(repeats)]


def chart_figures(pages: Pages, sizes: ui_data.Sizes, repeats: int, wanted: list[str],
                  suffix: str = "") -> None:
    """The chart figures in ``wanted``; ``suffix`` names the runs' state (" (running)")."""
    project = pages.proc.project
    one = pages.project_url(project, runs="big", keys="train/loss")
    if "chart-1m" in wanted:
        small = pages.project_url(project, runs="small", keys="train/loss")
        base = measure(f"chart-1k{suffix or ' (baseline)'}",
                       lambda: repeat(repeats, lambda: pages.chart_drawn_ms(small, "train/loss")))
        if measure(f"chart-1m{suffix}", lambda: repeat(
                repeats, lambda: pages.chart_drawn_ms(one, "train/loss")), base) is not None:
            print(f"    last load: {pages.timeline()}", flush=True)
    if "dashboard" in wanted:
        runs, keys = ui_data.dash_runs(sizes), ui_data.dash_keys(sizes)
        first = pages.project_url(project, runs=runs[0], keys=keys[0])
        base = measure(f"dashboard 1 chart{suffix}", lambda: repeat(
            repeats, lambda: pages.chart_drawn_ms(first, keys[0])))
        grid = pages.project_url(project, runs=",".join(runs), keys="train/")
        pages.tall_viewport(DASHBOARD_VIEWPORT_PX)  # every chart in view, so all are drawn
        try:
            if measure(f"dashboard{suffix}", lambda: repeat(repeats, lambda: pages.all_drawn_ms(
                    grid, len(keys), len(runs))), base) is not None:
                print(f"    last load: {pages.timeline()}", flush=True)
        finally:
            pages.tall_viewport(1000)
    if "zoom" in wanted:
        measure("zoom", lambda: repeat(repeats, lambda: zoom_ms(pages, one, "train/loss")))


def zoom_ms(pages: Pages, url: str, key: str) -> float:
    """Drag over 1% of the plot's width in its middle; ms from mouseup to the refetched draw."""
    pages.chart_drawn_ms(url, key)
    full = pages.page.evaluate("(k) => window.__rundialCharts?.get(k)?.bucketSize ?? null", key)
    if not full:
        raise NotReached("window.__rundialCharts has no bucketSize for the full view")
    box = pages.page.locator(f'.chart[data-key="{key}"] .u-over').bounding_box()
    if box is None:
        raise NotReached("the chart has no .u-over plot area")
    x0 = box["x"] + box["width"] * 0.5
    y = box["y"] + box["height"] * 0.5
    mouse = pages.page.mouse
    mouse.move(x0, y)
    mouse.down()
    mouse.move(x0 + max(2.0, box["width"] * 0.01), y, steps=3)
    mouse.up()
    drawn = pages.until("""([key, full]) => {
        const chart = document.querySelector(`.chart[data-key="${CSS.escape(key)}"]`);
        const given = window.__rundialCharts?.get(key);
        const drawn = Number(chart?.dataset.drawnMs);
        return chart?.dataset.zoom && given && given.bucketSize <= full / 10
          && drawn > window.__bench_mouseup && drawn; }""", [key, full], "zoomed redraw")
    return float(drawn) - float(pages.page.evaluate("window.__bench_mouseup"))


def live_figure(pages: Pages, repeats: int, spool: Path) -> None:
    import rundial as rd

    proc = pages.proc
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, name="live", spool_directory=str(spool),
                  system_metrics=False)
    key = "live/loss"
    try:
        for step in range(100):
            run.log({key: 1.0 / (step + 1)}, step=step)
        run.flush()

        def one_point(step: int) -> float:
            started_ms = time.time() * 1000
            run.log({key: 0.5}, step=step)
            seen_ms = pages.until("""([key, step]) => {
                const given = window.__rundialCharts?.get(key);
                const found = given?.series.some((s) => s.x.length && s.x[s.x.length - 1] >= step);
                return found && performance.timeOrigin + performance.now(); }""",
                                  [key, step], f"step {step} on the chart")
            return float(seen_ms) - started_ms

        def samples() -> list[float]:
            pages.chart_drawn_ms(pages.project_url(proc.project, runs=run.run_id, keys=key), key)
            return [one_point(100 + i) for i in range(repeats)]

        measure("live", samples)
    finally:
        run.finish()


def table_figures(pages: Pages, repeats: int, rows: int) -> None:
    """First paint, then a sort and a filter in the same page load, ``repeats`` loads."""
    url = pages.project_url(TABLE_PROJECT)
    found: dict[str, list[float]] = {"table first paint": [], "table sort": [],
                                     "table filter": []}
    missed: dict[str, str] = {}

    def phase(name: str, fn: Callable[[], float]) -> None:
        if name in missed:
            return
        try:
            found[name].append(fn())
        except NotReached as exc:
            missed[name] = str(exc)

    def sort_ms() -> float:
        column = pages.page.evaluate("""() => (document.querySelector('th[data-sort*="lr"]')
            ?? document.querySelector("th[data-sort]"))?.dataset.sort ?? null""")
        if column is None:
            raise NotReached("no th[data-sort] header")
        header = pages.page.locator(f'th[data-sort="{column}"]')
        before = header.get_attribute("aria-sort")
        pages.arm_shown(f'th[data-sort="{column}"]', "aria-sort", before)
        header.click()
        shown = pages.until("window.__bench_shown", None, "aria-sort changed")
        return float(shown) - float(pages.page.evaluate("window.__bench_click"))

    def filter_ms() -> float:
        pages.arm_shown("#runs-table", "data-rows", str(rows))
        pages.page.fill("#runs-filter", "config.lr < 0.001", timeout=pages.wait_ms)
        shown = pages.until("window.__bench_shown", None, "data-rows changed")
        return float(shown) - float(pages.page.evaluate("window.__bench_input"))

    def once() -> None:
        pages.page.goto(url, wait_until="commit")
        phase("table first paint", lambda: float(pages.until("""() => {
            const table = document.querySelector("#runs-table");
            return table?.dataset.state === "ready" && table.querySelector("[data-run-id]")
              && performance.now(); }""", None, "#runs-table ready with rows")))
        if "table first paint" not in missed:
            phase("table sort", sort_ms)
            phase("table filter", filter_ms)

    for index in range(repeats + 1):  # the first load is the warm-up
        once()
        if index == 0:
            for samples in found.values():
                samples.clear()
    for name, samples in found.items():
        reason = missed.get(name) or missed.get("table first paint")
        measure(name, lambda: _or_missed(samples, reason))


def _or_missed(samples: list[float], reason: str | None) -> list[float]:
    if reason or not samples:
        raise NotReached(reason or "no sample")
    return samples


def browser_figures(proc: CollectorProcess, sizes: ui_data.Sizes, args: argparse.Namespace,
                    tmp: Path) -> None:
    wanted = [f for f in FIGURES[1:] if not args.only or f in args.only]
    reason = None if CHROMIUM.exists() else f"{CHROMIUM} is not installed"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = reason or "the playwright package is not installed"
    if reason:
        for name in wanted:
            print(f"  {name:<28} n/a ({reason})")
        return
    charts = [f for f in ("chart-1m", "dashboard", "zoom") if f in wanted]
    if charts:
        started = time.perf_counter()
        ui_data.load_chart_data(proc, sizes, with_dashboard="dashboard" in wanted,
                                finished=args.running == "no")
        print(f"  (chart data written in {time.perf_counter() - started:.1f} s)", flush=True)
    if "table" in wanted:
        ui_data.load_table_runs(proc, sizes, TABLE_PROJECT)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            pages = Pages(browser, proc, args.wait_seconds * 1000)
            if charts and args.running != "no":
                chart_figures(pages, sizes, args.repeats, [f for f in charts if f != "zoom"],
                              " (running)")
                ui_data.finish_runs(proc, ui_data.chart_runs(sizes, "dashboard" in wanted))
            if args.running != "only":
                chart_figures(pages, sizes, args.repeats, charts)
            if "live" in wanted:
                live_figure(pages, args.repeats, tmp / "spool")
            if "table" in wanted:
                table_figures(pages, args.repeats, sizes.table_runs)
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=FIGURES, action="append",
                        help="measure this figure (repeat the option for several)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--running", choices=("also", "only", "no"), default="also",
                        help="measure chart-1m and dashboard with the chart runs still running "
                             "too (also), only so (only), or not (no)")
    parser.add_argument("--wait-seconds", type=float, default=WAIT_SECONDS,
                        help="how long a figure waits for its page state before n/a")
    args = parser.parse_args()
    sizes = ui_data.QUICK if args.quick else ui_data.Sizes()
    print(f"UI figures ({'quick' if args.quick else 'full'} sizes: {sizes}), medians of "
          f"{args.repeats}", flush=True)
    with tempfile.TemporaryDirectory(prefix="rundial-ui-bench-") as tmp:
        proc = CollectorProcess(Path(tmp) / "data")
        proc.start()
        try:
            if not args.only or "size" in args.only:
                print_size(crawl(session_fetcher("127.0.0.1", proc.port, proc.api_key),
                                 ["/", "/login"]), SIZE_GOAL_BYTES)
            if args.only != ["size"]:
                browser_figures(proc, sizes, args, Path(tmp))
        finally:
            proc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
