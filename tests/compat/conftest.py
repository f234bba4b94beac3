"""The published rundial 1.0.0rc1 SDK in its own cached venv (it shares our import name).

The venv lives in ``.cache/rc1-venv`` and is built once from PyPI. In CI (``CI`` set) a failure
to build it fails the tests; elsewhere, when PyPI cannot be reached, they are skipped.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RC1_REQUIREMENT = "rundial==1.0.0rc1"
REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_DIR = REPO_ROOT / ".cache" / "rc1-venv"
BUILD_TIMEOUT_SECONDS = 300


def _venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def _is_built() -> bool:
    return (VENV_DIR / ".built").exists()


def _build() -> None:
    VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV_DIR.parent / "rc1-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_built():
            return
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV_DIR)], check=True,
                       timeout=BUILD_TIMEOUT_SECONDS)
        subprocess.run([str(_venv_python()), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", RC1_REQUIREMENT], check=True,
                       timeout=BUILD_TIMEOUT_SECONDS, capture_output=True)
        (VENV_DIR / ".built").write_text(RC1_REQUIREMENT + "\n")


@pytest.fixture(scope="session")
def rc1_python() -> Path:
    """Path to a Python interpreter that imports the published rundial 1.0.0rc1."""
    if not _is_built():
        try:
            _build()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            message = f"could not install {RC1_REQUIREMENT}: {exc} {detail[-2000:]!r}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return _venv_python()


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
