"""The published rundial 1.0.0rc1 SDK in its own cached venv (it shares our import name), and
the real trackers (wandb, neptune, goodseed) in theirs.

The venvs live in ``.cache/rc1-venv`` and ``.cache/trackers-venv`` and are built once from PyPI
(tests/helpers/venvs.py; two xdist workers asking at once build one, the other waits).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.venvs import RC1_REQUIREMENT, cached_venv, trackers_python


@pytest.fixture(scope="session")
def rc1_python() -> Path:
    """Path to a Python interpreter that imports the published rundial 1.0.0rc1."""
    return cached_venv("rc1-venv", [RC1_REQUIREMENT])


@pytest.fixture(scope="session")
def trackers() -> Path:
    """Path to the interpreter of ``.cache/trackers-venv``: the real wandb, neptune and
    goodseed (skipped, or failed in CI, when it cannot be built)."""
    return trackers_python()


def run_rc1(python: Path, script: str, env: dict[str, str], cwd: Path,
            timeout_seconds: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under the rc1 interpreter with a clean environment plus ``env``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RUNDIAL_", "PYTHON"))}
    base["HOME"] = str(cwd)
    return subprocess.run([str(python), "-c", script], env={**base, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout_seconds)


def run_rc1_against(python: Path, script: str, collector: Any, cwd: Path) -> Any:
    """Run ``script`` under rc1 with ``WS``/``PROJ``/``URL``/``KEY`` naming ``collector``;
    asserts it exits 0 and returns the JSON it printed last."""
    env = {"WS": collector.workspace, "PROJ": collector.project, "URL": collector.url,
           "KEY": collector.api_key}
    proc = run_rc1(python, script, env, cwd)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
