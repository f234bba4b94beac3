"""The run page's Artifacts and Media tabs in a real browser (issue 15), against a real collector
holding runs logged through the real SDK (tests/collector/ui_assets_seed.py).

The run page's tab shell is built elsewhere, so each test opens the run page and calls the tab
function directly with a context it builds (as the shell will)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.collector.ui_assets_seed import (DATA_FILES, MANY_FILES, MODEL_BYTES, Seeded,
                                            seeded_collector, step_pixel)
from tests.helpers.collector_proc import CollectorProcess
from tests.ui.conftest import CSP_LISTENER

TIMEOUT_MS = 15_000
RENDER = """async ([module, fn, runId]) => {
  const tab = await import(module);
  const bus = await import('/ui/core/bus.js');
  const parts = location.pathname.split('/').map(decodeURIComponent);
  const [ws, project] = [parts[2], parts[3]];
  const base = `/api/v1/workspaces/${encodeURIComponent(ws)}/projects/${encodeURIComponent(project)}`;
  const reply = await fetch(`${base}/runs/${encodeURIComponent(runId)}`);
  const run = reply.ok ? await reply.json() : {runId, projectId: 'unknown'};
  const view = document.querySelector('#view');
  await tab[fn](view, {ws, project, projectId: run.projectId, run, emit: bus.emit, on: bus.on});
}"""


@pytest.fixture(scope="module")
def assets_collector(tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[tuple[CollectorProcess, Seeded]]:
    with seeded_collector(tmp_path_factory.mktemp("ui-assets")) as seeded:
        yield seeded


@pytest.fixture
def page(browser: Any, assets_collector: tuple[CollectorProcess, Seeded]) -> Iterator[Any]:
    """A logged-in page (fresh context) on the collector, recording CSP violations."""
    proc, _ = assets_collector
    context = browser.new_context(base_url=proc.url, accept_downloads=True)
    context.add_init_script(CSP_LISTENER)
    try:
        p = context.new_page()
        p.goto("/login", timeout=TIMEOUT_MS)
        p.fill("#api-key", proc.api_key)
        p.click("button[type=submit]")
        p.wait_for_url(lambda url: url.endswith("/"), timeout=TIMEOUT_MS)
        yield p
    finally:
        context.close()


def _open(page: Any, proc: CollectorProcess, run_id: str, tab: str) -> None:
    page.goto(f"/p/{proc.workspace}/{proc.project}/r/{run_id}?tab={tab}", timeout=TIMEOUT_MS)
    page.wait_for_selector("#view h1", timeout=TIMEOUT_MS)  # the shell finished its own draw
    module, fn = {"artifacts": ("/ui/runpage/artifacts.js", "renderArtifactsTab"),
                  "media": ("/ui/runpage/media.js", "renderMediaTab")}[tab]
    page.evaluate(RENDER, [module, fn, run_id])


def _no_csp_violation(page: Any) -> None:
    assert page.evaluate("window.__cspViolations") == []


def test_artifacts_tab_lists_versions_downloads_and_draws_lineage(
        page: Any, assets_collector: tuple[CollectorProcess, Seeded], tmp_path: Path) -> None:
    proc, runs = assets_collector
    _open(page, proc, runs.consumer, "artifacts")
    page.wait_for_selector("#view[data-assets=ready]", timeout=TIMEOUT_MS)
    used = page.locator('[data-group=used] .artifact-version[data-name="data"]')
    assert used.get_attribute("data-version") == "1"
    assert sorted(used.locator(".alias").all_inner_texts()) == ["golden", "latest"]
    assert "dataset" in used.locator(".artifact-facts").inner_text()
    assert page.locator('[data-group=produced] .artifact-version[data-name="model"]').count() == 1
    lineage = page.evaluate("window.__rundialLineage.nodes.map(n => [n.id, n.layer])")
    assert sorted(lineage) == sorted([[f"run:{runs.producer}", 0], ["ver:" + used.get_attribute(
        "data-artifact-id"), 1], [f"run:{runs.consumer}", 2], [
        "ver:" + page.locator('.artifact-version[data-name="model"]').get_attribute(
            "data-artifact-id"), 3]])
    assert page.locator("canvas.lineage-canvas").get_attribute("data-nodes") == "4"
    assert page.locator(".lineage-list li").count() == 2
    link = used.locator('tr[data-path="sub/b.bin"] a.download')
    link.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        link.click()
    assert Path(info.value.path()).read_bytes() == DATA_FILES["sub/b.bin"]
    assert info.value.suggested_filename == "b.bin"
    page.screenshot(path=str(tmp_path / "artifacts.png"), full_page=True)
    _no_csp_violation(page)
    producer = page.evaluate(f"window.__rundialLineage.nodes.find(n => n.id === "
                             f"'run:{runs.producer}')")
    box = page.locator("canvas.lineage-canvas").bounding_box()
    page.mouse.click(box["x"] + producer["x"] + 10, box["y"] + producer["y"] + 10)
    page.wait_for_url(f"**/r/{runs.producer}", timeout=TIMEOUT_MS)


def test_many_files_are_paged(page: Any, assets_collector: tuple[CollectorProcess, Seeded],
                              tmp_path: Path) -> None:
    from playwright.sync_api import expect  # the browser fixture skips when it is missing
    proc, runs = assets_collector
    _open(page, proc, runs.producer, "artifacts")
    many = page.locator('.artifact-version[data-name="many"]')
    status = many.locator(".files-status")
    expect(status).to_have_text(f"1–100 of {MANY_FILES}", timeout=TIMEOUT_MS)
    assert many.locator("tbody tr").count() == 100
    many.get_by_role("button", name="Next").click()
    expect(status).to_have_text(f"101–200 of {MANY_FILES}", timeout=TIMEOUT_MS)
    assert many.locator("tbody tr").first.get_attribute("data-path") == "part-00100.txt"
    consumers = page.locator('.lineage-list a[data-run-id="%s"]' % runs.consumer)
    assert consumers.count() == 1
    page.screenshot(path=str(tmp_path / "many.png"), full_page=True)
    _no_csp_violation(page)


def _shown_grey(page: Any) -> int:
    """The grey level of the first image shown under ``samples`` (drawn to a canvas)."""
    return int(page.evaluate("""() => {
      const img = document.querySelector('[data-media-key=samples] img');
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext('2d'); g.drawImage(img, 0, 0);
      return g.getImageData(1, 1, 1, 1).data[0];
    }"""))


def _wait_step(page: Any, step: int) -> None:
    page.wait_for_function(
        "s => { const k = document.querySelector('[data-media-key=samples]');"
        " const img = k?.querySelector(`figure[data-step='${s}'] img`);"
        " return k?.dataset.state === 'shown' && img?.complete && img.naturalWidth > 0; }",
        arg=step, timeout=TIMEOUT_MS)


def test_media_slider_and_sortable_table(page: Any,
                                         assets_collector: tuple[CollectorProcess, Seeded],
                                         tmp_path: Path) -> None:
    proc, runs = assets_collector
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    _open(page, proc, runs.consumer, "media")
    page.wait_for_selector("#view[data-media=ready]", timeout=TIMEOUT_MS)
    _wait_step(page, 20)  # the latest step first
    assert _shown_grey(page) == step_pixel(20)
    # Only the shown step and its neighbours (two each side) are fetched, never step 0 here.
    sample_steps = {parse_qs(urlsplit(u).query)["step"][0] for u in requested
                    if "/api/v1/media?" in u and "mediaKey=samples" in u}
    assert "20" in sample_steps and "0" not in sample_steps, sample_steps
    assert page.locator("[data-media-key=samples] figcaption").inner_text() == "sample at 20"
    slider = page.locator("#media-step")
    slider.focus()
    page.keyboard.press("Home")
    _wait_step(page, 0)
    assert _shown_grey(page) == step_pixel(0)
    page.keyboard.press("ArrowRight")  # step 3 (the table's); the nearest image step is 5
    _wait_step(page, 5)
    assert page.locator("#view .media-tab").get_attribute("data-step") == "3"
    assert _shown_grey(page) == step_pixel(5)
    assert page.locator("[data-media-key=preds] .media-step-label").inner_text() == "step 3"
    assert "null" not in page.locator("#view").inner_text()
    table = page.locator("[data-media-key=preds] table.media-table")
    score = table.locator("th[data-col='2']")
    assert "num" in (score.get_attribute("class") or "")
    score.locator("button").click()
    assert score.get_attribute("aria-sort") == "ascending"
    column = "[...document.querySelectorAll('[data-media-key=preds] tbody tr')].map(r => r.cells[2].textContent)"
    assert page.evaluate(column) == ["0.5", "2.25", "10", ""]
    score.locator("button").click()
    assert page.evaluate(column) == ["10", "2.25", "0.5", ""]
    table.locator("th[data-col='1'] button").click()
    assert page.evaluate(column.replace("cells[2]", "cells[1]")) == ["ant", "bee", "cat", "dog"]
    page.screenshot(path=str(tmp_path / "media.png"), full_page=True)
    _no_csp_violation(page)


def test_empty_states_and_unknown_run(page: Any,
                                      assets_collector: tuple[CollectorProcess, Seeded]) -> None:
    proc, runs = assets_collector
    _open(page, proc, runs.producer, "media")
    page.wait_for_selector("#view[data-media=empty]", timeout=TIMEOUT_MS)
    assert "not logged any media" in page.locator("#view .empty-state").inner_text()
    page.evaluate(RENDER, ["/ui/runpage/artifacts.js", "renderArtifactsTab", "run-nobody"])
    page.wait_for_selector("#view[data-assets=error]", timeout=TIMEOUT_MS)
    assert "run-nobody was not found" in page.locator("#view [role=alert]").inner_text()
    page.evaluate(RENDER, ["/ui/runpage/media.js", "renderMediaTab", "run-nobody"])
    page.wait_for_selector("#view[data-media=error]", timeout=TIMEOUT_MS)
    _no_csp_violation(page)


def test_missing_blob_is_shown_not_linked(page: Any,
                                          assets_collector: tuple[CollectorProcess, Seeded]
                                          ) -> None:
    import hashlib
    proc, runs = assets_collector
    sha = hashlib.sha256(MODEL_BYTES).hexdigest()
    blob = proc.data_dir / "blobs" / "sha256" / sha[:2] / sha[2:4] / sha
    blob.rename(blob.with_name("moved"))
    try:
        _open(page, proc, runs.consumer, "artifacts")
        row = page.locator('.artifact-version[data-name="model"] tr[data-path="model.bin"]')
        row.wait_for(timeout=TIMEOUT_MS)
        assert row.locator("a.download").count() == 0
        assert "no longer stored" in row.inner_text()
    finally:
        blob.with_name("moved").rename(blob)
