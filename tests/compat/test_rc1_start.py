"""The published rc1 SDK sends no start token and no start time: runs/start behaves for it
exactly as in v1 (docs/protocol.md §4.5), a conflicting start under resume="never" included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.conftest import run_rc1_against
from tests.helpers.collector_proc import CollectorProcess

pytestmark = pytest.mark.compat

SCRIPT = r"""
import json, os, time
import rundial as rd

ws, proj, url, key = (os.environ[k] for k in ("WS", "PROJ", "URL", "KEY"))
common = dict(workspace=ws, project=proj, endpoint=url, api_key=key, system_metrics=False)
before = int(time.time() * 1000)
with rd.init(run_id="rc1-collide", **common) as run:
    run.log({"loss": 1.0}, step=0)
out = {"before": before}
try:
    rd.init(run_id="rc1-collide", resume="never", **common)
    out["second"] = "attached"
except Exception as exc:
    out["second"] = f"{type(exc).__name__}: {exc}"
with rd.init(run_id="rc1-resumable", **common) as run:
    run.log({"loss": 1.0}, step=0)
with rd.init(run_id="rc1-resumable", resume="must", **common) as run:
    run.log({"loss": 0.5}, step=1)
client = rd.Client(endpoint=url, api_key=key, system_metrics=False, start_worker_on_init=False)
out["details"] = client.get_run_details(workspace_slug=ws, project_slug=proj, run_id="rc1-collide")
out["resumed"] = client.get_run_details(workspace_slug=ws, project_slug=proj, run_id="rc1-resumable")
client.close()
print(json.dumps(out))
"""


def test_rc1_conflicting_start_is_refused_as_before(rc1_python: Path, collector: CollectorProcess,
                                                    tmp_path: Path) -> None:
    out = run_rc1_against(rc1_python, SCRIPT, collector, tmp_path)
    assert "409" in out["second"], out["second"]
    assert out["details"]["status"] == "completed"
    assert out["details"]["startedAtMs"] >= out["before"]  # the server's clock, as in v1
    assert out["resumed"]["status"] == "completed"
