"""``wandb.plot`` charts, ``Audio`` and ``Html`` built from the same inputs
(tests/compat/wandb_plot_cases.py) by the real wandb 0.31 and by ``rundial.compat.wandb``: the
chart tables (W&B's table key, columns, every row exactly), specs, WAV samples and HTML must be
the same. The real wandb runs in its own cached venv with numpy, pandas, scikit-learn and
soundfile (what its charts and raw audio need); without PyPI the test skips (fails in CI).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

import rundial.compat.wandb as wandb
from tests.compat import wandb_plot_cases as cases
from tests.helpers.venvs import trackers_python
from tests.sdk.wandb_support import Recorder, make_run

np = pytest.importorskip("numpy")
pytest.importorskip("sklearn")

# wandb injects a stylesheet from its own site; rundial leaves it out (docs/wandb-compat.md)
WANDB_STYLESHEET = ('<link rel="stylesheet" type="text/css" '
                    'href="https://app.wandb.ai/normalize.css" />')

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def real() -> dict[str, Any]:
    python = trackers_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "PYTHON"))}
    out = subprocess.run([str(python), cases.__file__], capture_output=True, text=True,
                         timeout=600, env={**env, "WANDB_SILENT": "true"}, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    parsed: dict[str, Any] = json.loads(out.stdout)
    return parsed


def _shim_table(key: str, chart: Any) -> tuple[str, Any]:
    recorder = Recorder()
    make_run(recorder).log({key: chart})
    [(table_key, table)] = [item for _step, row in recorder.calls for item in row.items()]
    return table_key, table


def test_chart_tables_match_the_real_wandb(real: dict[str, Any]) -> None:
    shim = cases.charts(wandb, np)
    assert sorted(shim) == sorted(real["charts"])
    for key, chart in shim.items():
        want = real["charts"][key]
        table_key, table = _shim_table(key, chart)
        assert table_key == want["tableKey"], key
        assert table.columns == want["columns"], key
        assert len(table.rows) == len(want["rows"]), key
        assert table.rows == want["rows"], key
        assert (table.metadata["spec"], table.metadata["fields"],
                table.metadata["stringFields"]) == (
            want["spec"], want["fields"], want["stringFields"]), key


def test_audio_samples_match_the_real_wandb(real: dict[str, Any], tmp_path: Path) -> None:
    for key, sound in cases.audio(wandb, np).items():
        path = tmp_path / f"{key}.wav"
        path.write_bytes(sound.render().data or b"")
        want = real["audio"][key]
        assert cases.wav(str(path)) == {k: want[k] for k in ("rate", "channels", "width",
                                                             "samples")}, key
        assert sound.metadata["durationSeconds"] == want["duration"], key


def test_html_matches_the_real_wandb_but_for_its_stylesheet(real: dict[str, Any]) -> None:
    for key, page in cases.html(wandb).items():
        assert page.html == real["html"][key].replace(WANDB_STYLESHEET, ""), key
