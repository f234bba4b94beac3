"""Live updates in a real browser (issue 15, "Live"): live/feed.js ``followRuns`` on a running
run of a real collector, fed by the real SDK: latency of a logged point, spans and state, and a
collector restart (reconnect with the cursor: status reconnecting → live, nothing lost or
doubled)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until
from tests.ui.conftest import Recorded

TIMEOUT_MS = 30_000
KEY = "train/loss"

# Loads the feed module in the page and records what its handlers see (Date.now() is the same
# clock as the test's time.time(): both run on this machine).
FOLLOW = """async ({projectId, runId}) => {
  const { followRuns } = await import("/ui/live/feed.js");
  const { mountLiveStatus } = await import("/ui/live/status.js");
  const badge = mountLiveStatus(document.body);
  const seen = {points: [], statuses: [], states: [], spans: []};
  window.__live = seen;
  const run = {runId, name: "live", color: "#000", status: "running", startedAtMs: 0};
  window.__feed = followRuns(projectId, [run], {
    onPoints: (r, key, p) => p.steps.forEach((step, i) =>
      seen.points.push({key, step, value: p.values[i], atMs: Date.now()})),
    onStatus: (r, status, detail) => {
      seen.statuses.push(status);
      badge.set(r, status, detail);
    },
    onState: (r, state) => seen.states.push(state.status),
    onSpans: (r, spans) => spans.forEach((s) => seen.spans.push(s)),
  });
}"""


@pytest.fixture(scope="module")
def live_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector of this module alone: the reconnect test restarts it."""
    proc = CollectorProcess(tmp_path_factory.mktemp("live-collector") / "data")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def page(browser: Any, live_collector: CollectorProcess) -> Iterator[Any]:
    context = browser.new_context(base_url=live_collector.url)
    recorded = Recorded()
    context.on("console", lambda msg: recorded.console.append(f"{msg.type}: {msg.text}"))
    page = context.new_page()
    page.goto("/", timeout=TIMEOUT_MS)
    page.wait_for_url("**/login", timeout=TIMEOUT_MS)
    page.fill("#api-key", live_collector.api_key)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/"), timeout=TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


def _start(proc: CollectorProcess, spool: Path) -> tuple[Any, str]:
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(spool), name="live-run")
    assert isinstance(run, rd.Run)

    def started() -> dict[str, Any] | None:  # the SDK starts the run in the background
        status, _, details = request(
            "GET", f"{proc.url}/api/v1/workspaces/{proc.workspace}/projects/{proc.project}"
            f"/runs/{run.run_id}", api_key=proc.api_key)
        return details if status == 200 else None

    return run, str(wait_until(started)["projectId"])


def _follow(page: Any, project_id: str, run_id: str) -> None:
    page.evaluate(FOLLOW, {"projectId": project_id, "runId": run_id})
    page.wait_for_selector('.live-status[data-status="live"]', timeout=TIMEOUT_MS)


def _steps(page: Any) -> list[int]:
    steps: list[int] = page.evaluate(
        f"window.__live.points.filter((p) => p.key === {KEY!r}).map((p) => p.step)")
    return steps


def _wait_steps(page: Any, count: int) -> None:
    page.wait_for_function(
        f"() => window.__live.points.filter((p) => p.key === {KEY!r}).length >= {count}",
        timeout=TIMEOUT_MS)


@pytest.mark.serial
def test_logged_point_reaches_the_page_live(page: Any, live_collector: CollectorProcess,
                                            tmp_path: Path, capsys: Any) -> None:
    """From now (no replay of what was logged before), each point logged by the SDK reaches
    the page once, within 2 s; spans arrive; the run's end gives its state then finished."""
    run, project_id = _start(live_collector, tmp_path / "spool")
    for step in range(20):
        run.log({KEY: 1.0 / (step + 1)}, step=step)
    assert run.flush()
    _follow(page, project_id, run.run_id)
    latencies_ms = []
    for step in range(20, 25):
        logged_ms = time.time() * 1000
        run.log({KEY: float(step)}, step=step)
        _wait_steps(page, step - 19)
        seen = page.evaluate(
            f"window.__live.points.filter((p) => p.key === {KEY!r}).at(-1)")
        assert seen["step"] == step and seen["value"] == float(step)
        latencies_ms.append(seen["atMs"] - logged_ms)
    assert _steps(page) == list(range(20, 25))  # nothing replayed from before following
    with run.trace("live-span", attrs={"k": 1}):
        pass
    page.wait_for_function("() => window.__live.spans.length === 1", timeout=TIMEOUT_MS)
    span = page.evaluate("window.__live.spans[0]")
    assert span["name"] == "live-span" and span["endNs"] is not None
    run.finish()
    page.wait_for_function("() => window.__live.statuses.at(-1) === 'finished'", timeout=TIMEOUT_MS)
    assert page.evaluate("window.__live.states") == ["running", "completed"]
    page.screenshot(path=str(tmp_path / "live.png"))
    with capsys.disabled():
        print(f"\nlive latency SDK log -> page handler (flush interval 1 s): "
              f"median {statistics.median(latencies_ms):.0f} ms, "
              f"max {max(latencies_ms):.0f} ms over {len(latencies_ms)} points")
    assert max(latencies_ms) <= 2_000, latencies_ms


def test_restarted_collector_reconnects_with_cursor(page: Any, live_collector: CollectorProcess,
                                                    tmp_path: Path) -> None:
    """A killed collector: status goes reconnecting at once; after the restart the feed
    replays what it missed, goes live, and every step arrives exactly once, in order."""
    run, project_id = _start(live_collector, tmp_path / "spool")
    _follow(page, project_id, run.run_id)
    for step in range(5):
        run.log({KEY: float(step)}, step=step)
    _wait_steps(page, 5)
    live_collector.kill()
    page.wait_for_selector('.live-status[data-status="reconnecting"]', timeout=TIMEOUT_MS)
    for step in range(5, 10):  # the SDK retries them once the collector is back
        run.log({KEY: float(step)}, step=step)
    live_collector.start()
    try:
        for step in range(10, 15):
            run.log({KEY: float(step)}, step=step)
        _wait_steps(page, 15)
        page.wait_for_selector('.live-status[data-status="live"]', timeout=TIMEOUT_MS)
        assert run.flush()
        statuses = page.evaluate("window.__live.statuses")
        drop = statuses.index("reconnecting")
        assert statuses[:drop] == ["connecting", "replaying", "live"], statuses
        assert "live" in statuses[drop:] and "finished" not in statuses
        assert _steps(page) == list(range(15))
    finally:
        run.finish()
