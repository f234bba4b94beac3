"""The run page's Media tab gives video, audio and html media items (logged through the W&B
shim to a real collector) download links that fetch the file's bytes, in a real browser; a GIF
video is shown as an animated image (tests/ui/test_media_players.py: the inline players)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial.compat.wandb as wandb
from tests.helpers.collector_proc import CollectorProcess
from tests.ui.conftest import log_in, module_collector
from tests.ui.test_assets import RENDER, TIMEOUT_MS

GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CollectorProcess, str]]:
    """A collector holding one run with a video, an audio clip and a page at step 2."""
    for proc in module_collector(tmp_path_factory, "ui-media-files"):
        home = tmp_path_factory.mktemp("media-files-home")
        clip = home / "clip.gif"
        clip.write_bytes(GIF_BYTES)
        run = wandb.init(project=proc.project, entity=proc.workspace, endpoint=proc.url,
                         api_key=proc.api_key, spool_directory=str(home / "spool"),
                         system_metrics=False)
        wandb.log({"clip": wandb.Video(str(clip), caption="a clip"),
                   "voice": wandb.Audio(np.zeros(8), sample_rate=8000),
                   "page": wandb.Html("<p>hi</p>", inject=False)}, step=2)
        wandb.finish()
        yield proc, run.id


def open_media_tab(page: Any, proc: CollectorProcess, run_id: str, keys: tuple[str, ...]
                   ) -> Any:
    """Log in, open the run's Media tab and wait until every key in ``keys`` is shown;
    returns the page's response."""
    log_in(page, proc)
    reply = page.goto(f"/p/{proc.workspace}/{proc.project}/r/{run_id}?tab=media",
                      timeout=TIMEOUT_MS)
    page.wait_for_selector("#view h1", timeout=TIMEOUT_MS)
    page.evaluate(RENDER, ["/ui/runpage/media.js", "renderMediaTab", run_id])
    for key in keys:
        page.wait_for_selector(f"[data-media-key={key}][data-state=shown]", timeout=TIMEOUT_MS)
    return reply


def test_file_media_are_download_links(browser: Any, seeded: tuple[CollectorProcess, str],
                                       tmp_path: Path) -> None:
    proc, run_id = seeded
    context = browser.new_context(base_url=proc.url)
    try:
        page = context.new_page()
        open_media_tab(page, proc, run_id, ("clip", "voice", "page"))
        links = {key: page.locator(f"[data-media-key={key}] a.media-download")
                 for key in ("clip", "voice", "page")}
        assert links["clip"].inner_text() == "Download video (clip.gif)"
        assert links["voice"].get_attribute("download") == "audio.wav"
        assert page.locator("[data-media-key=clip] figcaption").inner_text() == "a clip"
        gif = page.locator("[data-media-key=clip] img.media-player")
        assert gif.count() == 1 and "inline=true" in str(gif.get_attribute("src"))
        page.wait_for_function("document.querySelector('[data-media-key=clip] img')"
                               ".naturalWidth === 1", timeout=TIMEOUT_MS)  # the 1x1 GIF
        assert page.locator("[data-media-key=page] img, [data-media-key=page] iframe"
                            ).count() == 0  # html is never shown
        reply = page.request.get(str(links["clip"].get_attribute("href")))
        assert reply.status == 200 and reply.body() == GIF_BYTES
        assert page.request.get(str(links["page"].get_attribute("href"))).body() == b"<p>hi</p>"
        page.screenshot(path=str(tmp_path / "media-files.png"), full_page=True)
    finally:
        context.close()
