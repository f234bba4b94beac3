"""Cached virtual environments for third-party packages our tests compare against (the published
rc1 SDK, the real wandb, neptune or goodseed), each in ``.cache/<name>`` and built once from PyPI.

In CI (``CI`` set) a failure to build one fails the test that asked for it; elsewhere, when PyPI
cannot be reached, that test is skipped with the reason.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache"
BUILD_TIMEOUT_SECONDS = 600


def venv_python(name: str) -> Path:
    """The interpreter of the cached venv ``name`` (which may not be built yet)."""
    return CACHE_DIR / name / "bin" / "python"


def _stamp(name: str) -> Path:
    return CACHE_DIR / name / ".built"


def _build(name: str, requirements: list[str]) -> None:
    venv_dir = CACHE_DIR / name
    wanted = "\n".join(requirements) + "\n"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another xdist worker may be building it
        if _stamp(name).exists() and _stamp(name).read_text() == wanted:
            return
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv_dir)], check=True,
                       timeout=BUILD_TIMEOUT_SECONDS)
        subprocess.run([str(venv_python(name)), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *requirements], check=True,
                       timeout=BUILD_TIMEOUT_SECONDS, capture_output=True)
        _stamp(name).write_text(wanted)


def cached_venv(name: str, requirements: list[str]) -> Path:
    """The interpreter of ``.cache/<name>`` with ``requirements`` installed (built on first use,
    rebuilt when the requirements change). Fails in CI and skips elsewhere when it cannot be built."""
    try:
        _build(name, requirements)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        message = f"could not install {' '.join(requirements)}: {exc} {detail[-2000:]!r}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return venv_python(name)


# The real trackers our shims are compared with, in one venv (one torch install, not three;
# wandb.plot's curves need scikit-learn and pandas, wandb.Audio needs soundfile).
TRACKERS_REQUIREMENTS = ["wandb==0.31.0", "neptune==1.14.0", "goodseed==0.4.0", "numpy",
                         "pillow", "tqdm", "torch==2.13.0", "pandas", "scikit-learn",
                         "soundfile"]


def trackers_python() -> Path:
    """The interpreter of ``.cache/trackers-venv``: the real wandb, neptune and goodseed (see
    :func:`cached_venv` for when it is built, skipped or failed)."""
    return cached_venv("trackers-venv", TRACKERS_REQUIREMENTS)
