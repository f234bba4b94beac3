"""The UI live, end to end (issue 15, "Live"): the real collector, runs logged by the real SDK,
Debian's Chromium on the real pages. A point logged by ``run.log`` reaches an open chart over
the run's WebSocket with no chart request; points logged while the page opens are charted
exactly once; the run page's charts, logs, spans, state badge and live status follow the run
to its end; a killed collector never leaves the page claiming ``live``, and after a restart
every step is charted exactly once. Also: a URL naming an unknown run says so."""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until
from tests.ui.conftest import CSP_LISTENER, log_in, module_collector
from tests.ui.heldsocket import HeldSocket

TIMEOUT_MS = 30_000
KEY = "train/loss"
# The socket's silence bound: 2.5 keepalive intervals (10 s by default) plus 1 s.
KEEPALIVE_BOUND_MS = 27_000
# Counts the run stream's metrics frames as the page receives them (a listener added before
# the page's own ``onmessage``, so that one has run once the count moved).
FRAME_COUNTER = """
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      if (JSON.parse(event.data).type === "metrics") {
        window.__metricFrames = (window.__metricFrames ?? 0) + 1;
      }
    });
  }
};
"""


@pytest.fixture(scope="module")
def live_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector of this module alone: the reconnect test kills and restarts it."""
    yield from module_collector(tmp_path_factory, "live-e2e")


class Tab:
    """A logged-in page that records every chart request (its body)."""

    def __init__(self, page: Any, proc: CollectorProcess) -> None:
        self.page = page
        self.proc = proc
        self.chart_bodies: list[dict[str, Any]] = []
        page.on("request", self._record)

    def _record(self, req: Any) -> None:
        if req.url.endswith("/api/v1/query/chart") and req.post_data:
            self.chart_bodies.append(json.loads(req.post_data))

    def chart_reads(self, key: str) -> int:
        """The chart grid's reads of ``key`` (not the parallel-coordinates panel's buckets=1)."""
        return sum(1 for body in self.chart_bodies if body["buckets"] > 1
                   and any(s["metricKey"] == key for s in body["series"]))

    def steps(self, key: str = KEY) -> list[int]:
        steps: list[int] = self.page.evaluate(
            "(key) => window.__rundialCharts.get(key)?.series[0]?.steps ?? []", key)
        return steps

    def wait_step(self, step: int, key: str = KEY) -> float:
        """Wait until the chart of ``key`` was given ``step``; the page's clock then (ms)."""
        handle = self.page.wait_for_function(
            """([key, step]) => {
              const g = window.__rundialCharts?.get(key);
              return g && g.series.some((s) => s.steps.includes(step)) ? Date.now() : false;
            }""", arg=[key, step], timeout=TIMEOUT_MS)
        return float(handle.json_value())

    def wait_steps(self, steps: list[int], key: str = KEY) -> None:
        self.page.wait_for_function(
            "([key, n]) => (window.__rundialCharts?.get(key)?.series[0]?.steps.length ?? 0) >= n",
            arg=[key, len(steps)], timeout=TIMEOUT_MS)
        assert self.steps(key) == steps

    def live_status(self, scope: str = "") -> Any:
        return self.page.locator(f"{scope} .live-status".strip()).first


@pytest.fixture
def tab(browser: Any, live_collector: CollectorProcess) -> Iterator[Tab]:
    context = browser.new_context(base_url=live_collector.url,
                                  viewport={"width": 1400, "height": 900})
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    log_in(page, live_collector, TIMEOUT_MS)
    try:
        yield Tab(page, live_collector)
    finally:
        context.close()


def _start(proc: CollectorProcess, spool: Path, **options: Any) -> Any:
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(spool), name="live-e2e",
                  system_metrics=False, **options)
    assert isinstance(run, rd.Run)
    wait_until(lambda: request(
        "GET", f"{proc.url}/api/v1/workspaces/{proc.workspace}/projects/{proc.project}"
        f"/runs/{run.run_id}", api_key=proc.api_key)[0] == 200, message="the run started")
    return run


def _project_page(tab: Tab, run_id: str) -> None:
    tab.page.goto(f"/p/{tab.proc.workspace}/{tab.proc.project}?runs={run_id}",
                  timeout=TIMEOUT_MS)


def _measure(tab: Tab, run: Any, steps: range) -> list[float]:
    """Log each step and wait for the chart to be given it; the latencies (ms)."""
    latencies_ms = []
    for step in steps:
        logged_ms = time.time() * 1000
        run.log({KEY: float(step)}, step=step)
        latencies_ms.append(tab.wait_step(step) - logged_ms)
    return latencies_ms


@pytest.mark.serial
def test_a_logged_point_reaches_the_open_chart_without_a_chart_request(
        tab: Tab, tmp_path: Path, capsys: Any) -> None:
    """Points committed around the chart's first read are charted exactly once: one delivered
    over the socket before the read (so also in it) and one committed after the read but
    delivered before its reply (in the socket only). Then each point logged by the SDK joins
    the chart through the WebSocket, with no chart request, within 2 s."""
    run = _start(tab.proc, tmp_path / "spool")
    for step in range(10):
        run.log({KEY: float(step)}, step=step)
    assert run.flush()
    page = tab.page
    page.add_init_script(FRAME_COUNTER)
    held = {"done": False}

    def log_and_wait(step: int) -> None:
        seen = page.evaluate("window.__metricFrames ?? 0")
        run.log({KEY: float(step)}, step=step)
        assert run.flush()
        page.wait_for_function("(n) => (window.__metricFrames ?? 0) > n", arg=seen,
                               timeout=TIMEOUT_MS)

    def first_read(route: Any) -> None:
        if held["done"]:
            route.continue_()
            return
        held["done"] = True
        log_and_wait(10)  # delivered live before the read: the read holds it too
        response = route.fetch()
        log_and_wait(11)  # committed after the read, delivered before its reply
        route.fulfill(response=response)

    page.route("**/api/v1/query/chart", first_read)
    _project_page(tab, run.run_id)
    tab.wait_steps(list(range(12)))
    page.locator('#charts-pane .live-status[data-status="live"]').wait_for(timeout=TIMEOUT_MS)
    chart = page.locator(f'.chart[data-key="{KEY}"]')
    assert chart.locator(".fidelity").inner_text() == "12 of 12 pts · raw"  # none counted twice
    reads = tab.chart_reads(KEY)
    latencies_ms = _measure(tab, run, range(12, 17))
    assert tab.steps() == list(range(17))
    assert tab.chart_reads(KEY) == reads, "a live point refetched the chart"
    assert chart.get_attribute("data-points") == "17"
    page.screenshot(path=str(tmp_path / "project-live.png"))
    with capsys.disabled():
        print(f"\nSDK run.log -> point on the open chart (flush interval 1 s): median "
              f"{statistics.median(latencies_ms):.0f} ms, max {max(latencies_ms):.0f} ms, "
              f"all {[round(v) for v in latencies_ms]}")
    assert statistics.median(latencies_ms) <= 2_000, latencies_ms
    run.finish()
    page.locator('#charts-pane .live-status[data-status="finished"]').wait_for(
        timeout=TIMEOUT_MS)
    tab.wait_steps(list(range(17)))


def _release_and_wait_live(page: Any, held: HeldSocket) -> None:
    """Release the held (routed) socket's frames to the collector; wait until the grid is
    live."""
    page.wait_for_function("() => true")  # let Playwright hand over the routed socket
    assert len(held.routes) == 1
    held.release()
    page.locator('#charts-pane .live-status[data-status="live"]').wait_for(timeout=TIMEOUT_MS)


def _grid_read(req: Any) -> bool:
    """A chart grid's read (not the parallel-coordinates panel's buckets=1 one)."""
    return bool(req.url.endswith("/api/v1/query/chart") and req.post_data
                and json.loads(req.post_data)["buckets"] > 1)


def test_a_slow_socket_delays_only_its_own_run_and_loses_no_point(
        tab: Tab, tmp_path: Path) -> None:
    """Two running runs on the project's one socket, the second one's subscription held: the
    first run's chart is read at once (the read waits for no other run's stream); the second
    run's is read once its wait is over (READY_WAIT_MS), still before its stream is live. A point of the second
    run committed between that read and its stream going live is charted exactly once:
    neither lost between read and stream nor doubled."""
    fast = _start(tab.proc, tmp_path / "spool-fast")
    slow = _start(tab.proc, tmp_path / "spool-slow")
    try:
        for run in (fast, slow):
            for step in range(5):
                run.log({KEY: float(step)}, step=step)
            assert run.flush()
        page = tab.page
        # the project's one socket: the slow run's subscribe is held, the fast one's goes
        held = HeldSocket(lambda frame: slow.run_id not in frame)
        page.route_web_socket("**/events/ws*", held.take)
        with page.expect_request(_grid_read, timeout=TIMEOUT_MS) as first:
            page.goto(f"/p/{tab.proc.workspace}/{tab.proc.project}?runs={fast.run_id},"
                      f"{slow.run_id}&keys={KEY}", timeout=TIMEOUT_MS)
        read = json.loads(first.value.post_data)
        assert [s["runId"] for s in read["series"]] == [fast.run_id]  # no wait for the slow one
        with page.expect_request(lambda req: _grid_read(req) and slow.run_id in req.post_data,
                                 timeout=TIMEOUT_MS):
            pass  # the slow run's read, its socket still held
        slow.log({KEY: 5.0}, step=5)  # committed after that read, before the slow stream is live
        assert slow.flush()
        _release_and_wait_live(page, held)  # one socket for both runs: the project's
        assert f"/api/v1/projects/{fast.project_id}/events/ws" in held.routes[0].url
        fast.log({KEY: 5.0}, step=5)
        slow.log({KEY: 6.0}, step=6)
        assert fast.flush() and slow.flush()
        page.wait_for_function("""([key, runs]) => {
            const given = window.__rundialCharts?.get(key)?.series ?? [];
            const steps = (id) => given.find((s) => s.runId === id)?.steps.length ?? 0;
            return steps(runs[0]) >= 6 && steps(runs[1]) >= 7; }""",
                               arg=[KEY, [fast.run_id, slow.run_id]], timeout=TIMEOUT_MS)
        given = {s["runId"]: s["steps"] for s in page.evaluate(
            "(key) => window.__rundialCharts.get(key).series", KEY)}
        assert given == {fast.run_id: list(range(6)), slow.run_id: list(range(7))}
    finally:
        fast.finish()
        slow.finish()


def test_a_key_first_logged_before_the_stream_is_live_gets_its_chart(
        tab: Tab, tmp_path: Path) -> None:
    """The grid reads a running run's keys without waiting for its stream; a key first logged
    after that read but before the stream is live (so never streamed) is found by the read
    made once the stream is live, and charted."""
    run = _start(tab.proc, tmp_path / "spool")
    try:
        run.log({KEY: 0.0}, step=0)
        assert run.flush()
        page = tab.page
        held = HeldSocket()
        page.route_web_socket("**/events/ws*", held.take)
        with page.expect_request("**/api/v1/query/keys", timeout=TIMEOUT_MS):
            _project_page(tab, run.run_id)
        run.log({"eval/acc": 0.5}, step=0)  # after the keys read, before the stream is live
        assert run.flush()
        _release_and_wait_live(page, held)
        tab.wait_steps([0], key="eval/acc")
    finally:
        run.finish()


def test_the_run_page_follows_a_running_run_to_its_end(tab: Tab, tmp_path: Path) -> None:
    """Charts tab, logs tab (print and logging lines captured by the SDK), traces tab, state
    badge and live status, all over the run's WebSocket."""
    logger = logging.getLogger("rundial-e2e")
    handler = logging.StreamHandler(sys.stdout)  # configured before rd.init: captured too
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    run = _start(tab.proc, tmp_path / "spool", capture_console=True)
    try:
        for step in range(10):
            run.log({KEY: float(step)}, step=step)
        print("before the page opened")
        assert run.flush()
        page = tab.page
        page.goto(f"/p/{tab.proc.workspace}/{tab.proc.project}/r/{run.run_id}?tab=charts",
                  timeout=TIMEOUT_MS)
        page.locator('.run-header .live-status[data-status="live"]').wait_for(timeout=TIMEOUT_MS)
        page.locator('.run-header .state-badge[data-state="running"]').wait_for(
            timeout=TIMEOUT_MS)
        tab.wait_steps(list(range(10)))
        reads = tab.chart_reads(KEY)
        run.log({KEY: 10.0}, step=10)
        tab.wait_step(10)
        assert tab.chart_reads(KEY) == reads

        page.click('[role=tab][data-tab="logs"]')
        logs = page.locator('[role=tabpanel][data-tab="logs"]')
        logs.locator(".log-line", has_text="before the page opened").wait_for(timeout=TIMEOUT_MS)
        print("a printed line, live")
        logger.warning("a logging warning, live")
        logs.locator('.log-line[data-level="info"]', has_text="a printed line, live").wait_for(
            timeout=TIMEOUT_MS)
        logs.locator('.log-line[data-level="warn"]', has_text="a logging warning, live").wait_for(
            timeout=TIMEOUT_MS)
        assert logs.locator(".log-line", has_text="a printed line, live").count() == 1

        page.click('[role=tab][data-tab="traces"]')
        traces = page.locator('[role=tabpanel][data-tab="traces"]')
        traces.locator(".traces-empty, .span-row").first.wait_for(timeout=TIMEOUT_MS)
        with run.trace("live-span", attrs={"k": 1}):
            pass
        traces.locator(".span-row", has_text="live-span").wait_for(timeout=TIMEOUT_MS)
        page.screenshot(path=str(tmp_path / "run-page-live.png"), full_page=True)
    finally:
        run.finish()
        logger.removeHandler(handler)
    page.locator('.run-header .state-badge[data-state="completed"]').wait_for(timeout=TIMEOUT_MS)
    page.locator('.run-header .live-status[data-status="finished"]').wait_for(timeout=TIMEOUT_MS)


def test_a_killed_collector_is_never_shown_live_and_nothing_is_charted_twice(
        tab: Tab, tmp_path: Path) -> None:
    proc = tab.proc
    run = _start(proc, tmp_path / "spool")
    try:
        for step in range(5):
            run.log({KEY: float(step)}, step=step)
        assert run.flush()
        _project_page(tab, run.run_id)
        status = tab.page.locator("#charts-pane .live-status")
        tab.page.locator('#charts-pane .live-status[data-status="live"]').wait_for(
            timeout=TIMEOUT_MS)
        tab.wait_steps(list(range(5)))
        proc.kill()
        tab.page.wait_for_function(
            "() => document.querySelector('#charts-pane .live-status').dataset.status !== 'live'",
            timeout=KEEPALIVE_BOUND_MS)
        assert status.get_attribute("data-status") in ("reconnecting", "connecting")
        for step in range(5, 10):  # the SDK sends them once the collector is back
            run.log({KEY: float(step)}, step=step)
        proc.start()
        for step in range(10, 15):
            run.log({KEY: float(step)}, step=step)
        assert run.flush()
        tab.page.locator('#charts-pane .live-status[data-status="live"]').wait_for(
            timeout=TIMEOUT_MS)
        tab.wait_steps(list(range(15)))
        given = tab.page.evaluate(
            "(key) => window.__rundialCharts.get(key).series[0]", KEY)
        assert given["y"] == [float(step) for step in range(15)]
    finally:
        run.finish()


def test_an_unknown_run_in_the_url_says_unknown_run(tab: Tab, tmp_path: Path) -> None:
    """The runs table keeps a URL run id the collector does not know in its selection, so the
    charts say "Unknown run" (not "No runs selected"), beside a known run's charts."""
    run = _start(tab.proc, tmp_path / "spool")
    run.log({KEY: 1.0}, step=0)
    run.finish()
    message = tab.page.locator("#charts-pane .grid-message")
    _project_page(tab, "run_nope")
    tab.page.wait_for_selector('#runs-table[data-state="ready"]', state="attached",
                               timeout=TIMEOUT_MS)
    tab.page.wait_for_function("() => /Unknown run/.test(document.querySelector("
                               "'#charts-pane .grid-message')?.textContent ?? '')",
                               timeout=TIMEOUT_MS)
    assert "run_nope" in message.inner_text() and "No runs selected" not in message.inner_text()
    _project_page(tab, f"{run.run_id},run_nope")
    tab.page.wait_for_selector('#runs-table[data-state="ready"]', state="attached",
                               timeout=TIMEOUT_MS)
    tab.wait_steps([0])
    tab.page.wait_for_function("() => /Unknown run.*run_nope/.test(document.querySelector("
                               "'#charts-pane .grid-message')?.textContent ?? '')",
                               timeout=TIMEOUT_MS)
    assert "run_nope" in tab.page.url


def test_the_run_page_tabs_read_only_once_the_stream_is_live(tab: Tab, tmp_path: Path) -> None:
    """A line committed after the page loaded but before its run's stream was live is shown:
    the logs tab reads after the subscription, never before it (a slow socket here)."""
    run = _start(tab.proc, tmp_path / "spool", capture_console=True)
    try:
        print("logged before the page opened")
        assert run.flush()
        page = tab.page
        sockets: list[Any] = []
        page.route_web_socket("**/events/ws*", lambda ws: sockets.append(ws))  # held: see below
        page.goto(f"/p/{tab.proc.workspace}/{tab.proc.project}/r/{run.run_id}?tab=logs",
                  timeout=TIMEOUT_MS)
        page.locator(".run-header").wait_for(timeout=TIMEOUT_MS)
        # a page that reads before it is live has read its logs by now
        page.wait_for_function("""() => !document.querySelector('[role=tabpanel][data-tab=logs]')
            || document.querySelector('[data-tab=logs] .log-line')""", timeout=TIMEOUT_MS)
        print("committed while the stream was connecting")
        assert run.flush()
        page.wait_for_function("() => true")  # let Playwright hand over the routed socket
        assert len(sockets) == 1
        sockets[0].connect_to_server()
        page.locator('.run-header .live-status[data-status="live"]').wait_for(timeout=TIMEOUT_MS)
        logs = page.locator('[role=tabpanel][data-tab="logs"]')
        logs.locator(".log-line", has_text="committed while the stream was connecting").wait_for(
            timeout=TIMEOUT_MS)
        assert logs.locator(".log-line", has_text="logged before the page opened").count() == 1
    finally:
        run.finish()


def test_a_stale_bucket_is_read_again_and_a_zoomed_chart_keeps_its_range(
        tab: Tab, tmp_path: Path) -> None:
    """A bucketed chart: a step re-logged inside a bucket cannot be merged exactly (the entry
    comes back stale), so that chart is read again and shows the new value. A zoomed chart
    merges only the tail points inside its range, with no chart request."""
    run = _start(tab.proc, tmp_path / "spool")
    try:
        for step in range(2000):
            run.log({KEY: float(step % 7)}, step=step)
        assert run.flush()
        page = tab.page
        _project_page(tab, run.run_id)
        page.locator('#charts-pane .live-status[data-status="live"]').wait_for(timeout=TIMEOUT_MS)
        tab.wait_step(1999)
        series = page.evaluate("(key) => window.__rundialCharts.get(key).series[0]", KEY)
        assert series["mode"] == "buckets"
        inside = next(s for s in range(1000, 1100) if s not in series["steps"])  # not a bucket end
        reads = tab.chart_reads(KEY)
        run.log({KEY: 100.0}, step=inside)
        page.wait_for_function(
            "(key) => window.__rundialCharts.get(key).series[0].max.includes(100)", arg=KEY,
            timeout=TIMEOUT_MS)
        assert tab.chart_reads(KEY) == reads + 1  # read again, once

        page.goto(f"/p/{tab.proc.workspace}/{tab.proc.project}?runs={run.run_id}&zoom=100,200",
                  timeout=TIMEOUT_MS)
        page.locator('#charts-pane .live-status[data-status="live"]').wait_for(timeout=TIMEOUT_MS)
        tab.wait_step(200)
        assert tab.steps() == list(range(100, 201))
        reads = tab.chart_reads(KEY)
        run.log({KEY: 42.0}, step=150)
        run.log({KEY: 1.0}, step=2000)
        page.wait_for_function(
            "(key) => window.__rundialCharts.get(key).series[0].y[50] === 42", arg=KEY,
            timeout=TIMEOUT_MS)
        assert tab.steps() == list(range(100, 201))  # step 2000 is outside the zoom
        assert tab.chart_reads(KEY) == reads
    finally:
        run.finish()
