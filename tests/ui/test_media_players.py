"""The run page's Media tab plays video and audio inline, in a real browser: a WebM clip and a
WAV clip logged through the W&B shim load in ``<video controls>``/``<audio controls>`` straight
from the same-origin file route (their metadata is read: the source is playable), keep their
download links and captions, html stays a download link, and the page's CSP stays strict
(``media-src 'self'`` only: no ``blob:``, no frames)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rundial.compat.wandb as wandb
from tests.helpers.collector_proc import CollectorProcess
from tests.ui.conftest import CSP_LISTENER, module_collector
from tests.ui.test_assets import TIMEOUT_MS
from tests.ui.test_media_files import open_media_tab

AUDIO_SAMPLES, AUDIO_RATE = 800, 8000  # 0.1 s
# Chromium records a few frames of a canvas as VP8 WebM: a tiny valid video, made here.
RECORD_WEBM = """async () => {
  const canvas = document.createElement('canvas');
  canvas.width = 16; canvas.height = 16;
  document.body.append(canvas);
  const ctx = canvas.getContext('2d');
  const recorder = new MediaRecorder(canvas.captureStream(10), {mimeType: 'video/webm;codecs=vp8'});
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  for (let i = 0; i < 6; i++) {
    ctx.fillStyle = i % 2 ? '#c00' : '#00c';
    ctx.fillRect(0, 0, 16, 16);
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 40)));
  }
  recorder.stop();
  await stopped;
  return Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer()));
}"""
# Resolves once the media element of the key has read its file's metadata (or failed).
LOADED = """(key) => {
  const m = document.querySelector(`[data-media-key=${key}] .media-player`);
  return m !== null && (m.readyState >= 1 || m.error !== null);
}"""
STATE = """(key) => {
  const m = document.querySelector(`[data-media-key=${key}] .media-player`);
  return {tag: m.tagName, controls: m.controls, readyState: m.readyState, duration: m.duration,
          error: m.error && m.error.code, origin: new URL(m.currentSrc).origin,
          page: location.origin, src: m.getAttribute('src')};
}"""


def _webm(browser: Any) -> bytes:
    page = browser.new_page()
    try:
        page.goto("about:blank")
        data = bytes(page.evaluate(RECORD_WEBM))
    finally:
        page.close()
    assert data[:4] == b"\x1a\x45\xdf\xa3", data[:16]  # EBML: a WebM file
    return data


@pytest.fixture(scope="module")
def seeded(browser: Any, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[CollectorProcess, str]]:
    """A collector holding one run with a WebM video, a WAV clip and a page at step 1."""
    for proc in module_collector(tmp_path_factory, "ui-media-players"):
        home = tmp_path_factory.mktemp("media-players-home")
        movie = home / "movie.webm"
        movie.write_bytes(_webm(browser))
        tone = np.sin(np.arange(AUDIO_SAMPLES) / 4.0) * 0.5
        run = wandb.init(project=proc.project, entity=proc.workspace, endpoint=proc.url,
                         api_key=proc.api_key, spool_directory=str(home / "spool"),
                         system_metrics=False)
        wandb.log({"movie": wandb.Video(str(movie), caption="a movie"),
                   "tone": wandb.Audio(tone, sample_rate=AUDIO_RATE, caption="a tone"),
                   "page": wandb.Html("<p>hi</p>", inject=False)}, step=1)
        wandb.finish()
        yield proc, run.id


def _directives(csp: str) -> dict[str, str]:
    pairs = (part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    return {name: value for name, value in pairs}


def test_video_and_audio_play_inline_from_the_same_origin(
        browser: Any, seeded: tuple[CollectorProcess, str], tmp_path: Path) -> None:
    proc, run_id = seeded
    context = browser.new_context(base_url=proc.url)
    context.add_init_script(CSP_LISTENER)
    try:
        page = context.new_page()
        reply = open_media_tab(page, proc, run_id, ("movie", "tone", "page"))
        for key in ("movie", "tone"):
            page.wait_for_function(LOADED, arg=key, timeout=TIMEOUT_MS)
        movie, tone = page.evaluate(STATE, "movie"), page.evaluate(STATE, "tone")
        assert (movie["tag"], tone["tag"]) == ("VIDEO", "AUDIO")
        for state in (movie, tone):
            assert state["controls"] and state["error"] is None and state["readyState"] >= 1
            assert state["origin"] == state["page"] and "inline=true" in state["src"]
        assert tone["duration"] == pytest.approx(AUDIO_SAMPLES / AUDIO_RATE, abs=0.01)

        audio_file = page.request.get(str(tone["src"]))
        assert audio_file.headers["content-type"] == "audio/wav"
        assert audio_file.headers["content-disposition"].startswith("inline;")
        assert audio_file.headers["x-content-type-options"] == "nosniff"
        links = {key: page.locator(f"[data-media-key={key}] a.media-download")
                 for key in ("movie", "tone", "page")}
        assert links["movie"].inner_text() == "Download video (movie.webm)"
        assert links["tone"].get_attribute("download") == "audio.wav"
        assert page.locator("[data-media-key=movie] figcaption").inner_text() == "a movie"
        assert page.locator("[data-media-key=tone] figcaption").inner_text() == "a tone"

        assert page.locator("[data-media-key=page] .media-player").count() == 0
        assert page.locator("iframe, object, embed").count() == 0
        html_href = str(links["page"].get_attribute("href"))
        html_file = page.request.get(html_href + "&inline=true")  # html is never inline
        assert html_file.headers["content-disposition"].startswith("attachment;")
        assert html_file.headers["content-type"] == "application/octet-stream"

        assert reply is not None
        csp = _directives(reply.headers["content-security-policy"])
        assert csp["media-src"] == "'self'" and csp["default-src"] == "'self'"
        assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
        assert "frame-src" not in csp and "child-src" not in csp
        assert page.evaluate("window.__cspViolations") == []
        page.screenshot(path=str(tmp_path / "media-players.png"), full_page=True)
    finally:
        context.close()
