"""``run.dir`` of the W&B shim is the directory of one process (one ``init``), as in W&B: a
resumed run started by a second process gets a fresh directory, so a file an earlier process
left in its own is never uploaded again. Two real processes against the real collector."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.e2e.test_compat_wandb import _get, env  # noqa: F401  (the env fixture)
from tests.helpers.collector_proc import CollectorProcess

_SCRIPT = textwrap.dedent("""
    import os, sys
    import rundial.compat.wandb as wandb
    endpoint, api_key, spool, run_id, write = sys.argv[1:6]
    run = wandb.init(id=run_id, resume="allow", endpoint=endpoint, api_key=api_key,
                     spool_directory=spool, system_metrics=False)
    assert os.path.isdir(run.dir) and os.access(run.dir, os.W_OK), run.dir
    if write == "yes":
        path = os.path.join(run.dir, "notes.txt")
        with open(path, "w") as f:
            f.write("from the first process")
        wandb.save(path)
    wandb.log({"loss": 1.0})
    print(run.dir)
    wandb.finish()
""")


def _process(c: CollectorProcess, env: dict[str, Any],  # noqa: F811
             tmp: Path, run_id: str, write: bool) -> str:
    """Run the script in a new interpreter (temporary directory ``tmp``); returns its
    ``run.dir``."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, c.url, c.api_key, env["spool_directory"], run_id,
         "yes" if write else "no"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "TMPDIR": str(tmp)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _run_files(c: CollectorProcess, run_id: str) -> list[tuple[str, int]]:
    lineage = _get(c, f"/api/v1/artifacts/lineage?workspace={c.workspace}"
                      f"&project={c.project}&runId={run_id}")
    return sorted((v["name"], v["version"]) for v in lineage["produced"]
                  if v["artifactType"] == "run_file")


def test_a_resumed_process_gets_its_own_run_dir(collector: CollectorProcess,
                                                env: dict[str, Any],  # noqa: F811
                                                tmp_path: Path) -> None:
    run_id, tmp = "wandb-run-dir-resumed", tmp_path / "tmp"
    tmp.mkdir()
    first_dir = _process(collector, env, tmp, run_id, write=True)
    assert Path(first_dir, "notes.txt").read_text() == "from the first process"
    assert _run_files(collector, run_id) == [("file-notes.txt", 1)]

    second_dir = _process(collector, env, tmp, run_id, write=False)
    assert _run_files(collector, run_id) == [("file-notes.txt", 1)]  # not uploaded again
    assert second_dir != first_dir and list(Path(second_dir).iterdir()) == []
    assert Path(first_dir, "notes.txt").exists()  # the earlier process's files are left alone
