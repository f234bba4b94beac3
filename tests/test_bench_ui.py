"""The UI benchmark's parts that need no browser (benchmarks/ui_size.py, benchmarks/ui_data.py):
the module-graph crawl behind the size figure, and the data set-up, against a real collector."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from benchmarks import ui, ui_data
from benchmarks.ui_size import crawl, references, session_fetcher, unreached
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

TINY = ui_data.Sizes(dash_runs=2, dash_keys=2, dash_points=300, big_points=2000,
                     small_points=100, table_runs=30, table_config_keys=20)


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    proc = CollectorProcess(tmp_path_factory.mktemp("ui-bench") / "data")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_references_follow_imports_not_comments() -> None:
    js = b'''// import { x } from "./commented.js";
/** @typedef {import("./types.js").T} T */
import uPlot from "uplot";
import { a,
  b as c } from "../core/bus.js";
import "./side.js";
export { d } from './reexport.js';
const lazy = () => import("./lazy.js");
fetch("https://example.com/not-a-module.js");
'''
    found = references("/ui/pages/page.js", js, {"uplot": "/ui/vendor/uplot/uPlot.esm.js"})
    assert found == ["/ui/vendor/uplot/uPlot.esm.js", "/ui/core/bus.js", "/ui/pages/side.js",
                     "/ui/pages/reexport.js", "/ui/pages/lazy.js"]
    css = b'@import url("./theme.css"); @import "https://fonts.example/x.css"; a { color: red }'
    assert references("/ui/runs/runs.css", css, {}) == ["/ui/runs/theme.css"]
    html = (b'<link rel="stylesheet" href="/ui/style.css"><link rel="icon" href="/f.ico">'
            b'<script type="module" src="/ui/app.js"></script>')
    assert references("/", html, {}) == ["/ui/style.css", "/ui/app.js"]


def test_crawl_fetches_every_file_once() -> None:
    files = {"/": b'<script type="importmap">{"imports": {"lib": "/ui/lib.js"}}</script>'
                  b'<script type="module" src="/ui/app.js"></script>',
             "/ui/app.js": b'import "./a.js"; import "./b.js"; import x from "lib";',
             "/ui/a.js": b'import "./b.js";', "/ui/b.js": b'import "./a.js";',
             "/ui/lib.js": b"export default 1;" * 50}
    fetched: list[str] = []

    def fetch(path: str) -> bytes:
        fetched.append(path)
        return files[path]

    assets = crawl(fetch, ["/"])
    assert [a.path for a in assets] == ["/ui/app.js", "/ui/a.js", "/ui/b.js", "/ui/lib.js"]
    assert sorted(fetched) == sorted(files)
    lib = assets[-1]
    assert lib.raw_bytes == 17 * 50 and 0 < lib.gzip_bytes < lib.raw_bytes


def test_crawl_of_the_real_pages(collector: CollectorProcess) -> None:
    """The shell (with a session) and the login page reach the app's modules, the CSS and uPlot;
    what they do not reach is listed apart."""
    assets = crawl(session_fetcher("127.0.0.1", collector.port, collector.api_key),
                   ["/", "/login"])
    paths = {a.path for a in assets}
    assert {"/ui/app.js", "/ui/login.js", "/ui/style.css", "/ui/pages/project.js",
            "/ui/parcoords/layout.js", "/ui/core/bus.js"} <= paths, paths
    if (Path(__file__).resolve().parents[1] / "collector/rundial_collector/ui/vendor").is_dir():
        assert {"/ui/vendor/uplot/uPlot.esm.js", "/ui/vendor/uplot/uPlot.min.css"} <= paths
    assert all(0 < a.gzip_bytes and a.path.startswith("/ui/") for a in assets)
    assert not paths & {a.path for a in unreached(assets)}


def test_chart_data_runs_and_series(collector: CollectorProcess) -> None:
    pid = ui_data.load_chart_data(collector, TINY)
    series = [{"runId": "big", "metricKey": "train/loss"},
              {"runId": "small", "metricKey": "train/loss"},
              *({"runId": r, "metricKey": k} for r in ui_data.dash_runs(TINY)
                for k in ui_data.dash_keys(TINY))]
    status, _, reply = request("POST", collector.url + "/api/v1/query/chart",
                               {"projectId": pid, "buckets": 100, "series": series},
                               api_key=collector.api_key)
    assert status == 200, reply
    found = {(s["runId"], s["metricKey"]): s for s in reply["series"]}
    big = found["big", "train/loss"]
    assert (big["pointsLogged"], big["pointsInRange"], big["duplicatesResolved"]) == \
        (2000, 1800, 200)
    assert big["mode"] == "buckets"
    assert found["small", "train/loss"]["pointsLogged"] == 100
    assert [s["pointsLogged"] for s in reply["series"][2:]] == [300] * 4
    status, _, run = request("GET", f"{collector.url}/api/v1/workspaces/{collector.workspace}"
                                    f"/projects/{collector.project}/runs/big",
                             api_key=collector.api_key)
    assert status == 200 and run["runName"] == "big"


def test_table_runs_have_twenty_config_keys(collector: CollectorProcess) -> None:
    ui_data.load_table_runs(collector, TINY, "bench-table")
    status, _, reply = request("GET", f"{collector.url}/api/v1/workspaces/{collector.workspace}"
                                      "/projects/bench-table/runs/query?limit=100",
                               api_key=collector.api_key)
    assert status == 200, reply
    assert len(reply["runs"]) == 30
    assert all(len(run["config"]) == 20 for run in reply["runs"])
    assert {type(v) for run in reply["runs"] for v in run["config"].values()} == \
        {float, int, str, bool}


def test_without_chromium_every_browser_figure_says_na(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    """No browser: each browser figure prints ``n/a`` with the reason, nothing is loaded."""
    monkeypatch.setattr(ui, "CHROMIUM", tmp_path / "no-chromium")
    args = argparse.Namespace(only=None, repeats=1, wait_seconds=1.0)
    ui.browser_figures(cast(CollectorProcess, None), TINY, args, tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(ui.FIGURES[1:])
    assert all(f"n/a ({tmp_path / 'no-chromium'} is not installed)" in line for line in lines)
