"""End to end: the SDK's warnings name the user's line, or no location — never rundial's own
files (issue 13, CLI defects: "Warnings point at internal lines (_control.py:79)")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers.collector_proc import CollectorProcess

SCRIPT = textwrap.dedent("""
    import sys
    import rundial as rd
    url, key, ws, spool = sys.argv[1:5]
    run = rd.init(workspace=ws, project="no-such-project", endpoint=url, api_key=key,
                  spool_directory=spool, distributed="all")  # line 5: no run_id with "all"
    run.log({"loss": "high"}, step=0)
    run.finish(timeout_s=10)
    run.log({"loss": 1.0})  # line 9: after finish
""")


def test_warnings_point_at_the_script_or_nowhere(shared_collector: CollectorProcess,
                                                 tmp_path: Path) -> None:
    """Registration refused (worker thread), a non-numeric value (worker thread), distributed
    without a run id and log after finish (user calls): each warning names script.py or has no
    location; none names a file of the rundial package."""
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, "-W", "always", str(script), shared_collector.url,
                           shared_collector.api_key, shared_collector.workspace,
                           str(tmp_path / "spool")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HOME": str(tmp_path), "RUNDIAL_RUN_ID": ""})
    assert done.returncode == 0, done.stderr
    locations = re.findall(r"^(\S+):(\d+): RuntimeWarning: (.*)$", done.stderr, re.M)
    by_place = {(Path(f).name, int(n)): m for f, n, m in locations}
    assert len(locations) == 4, done.stderr
    assert "distributed='all'" in by_place[("script.py", 5)]
    assert "after finish" in by_place[("script.py", 9)]
    unlocated = sorted(m for f, _, m in locations if f == "rundial")
    assert len(unlocated) == 2 and "not registered" in " ".join(unlocated), done.stderr
    assert {Path(f).name for f, _, _ in locations} == {"script.py", "rundial"}, done.stderr
    assert not re.search(r"rundial/\w+\.py:\d+", done.stderr), done.stderr
