"""Cached virtual environments for third-party packages our tests compare against (the published
rc1 SDK, the real wandb, neptune or goodseed), each in ``.cache/<name>`` and built once from PyPI.

In CI (``CI`` set) a failure to build one fails the test that asked for it; elsewhere, when PyPI
cannot be reached, that test is skipped with the reason.

``python -m tests.helpers.venvs`` builds the rc1 and trackers venvs ahead of the tests: ``make
test`` starts it in the background as soon as ``.venv`` has its pip, while the project installs
into ``.venv`` (so this module needs only the standard library until a test calls it: pytest is
imported there), and a test asking for a venv then waits for that build (a file lock) instead of
doing it on one xdist worker while the other waits. A build that fails there is retried (and
reported) by the test that needs the venv.

A venv gets no pip of its own: the test interpreter's pip (22.3 or later, for ``--python``)
installs into it, without compiling bytecode. Seeding pip by ``ensurepip`` cost ~5 s of CPU,
and compiling all of torch, pandas, sympy... ~50 s, where the scripts the tests run import a
quarter of those modules and write their bytecode on first import (their environment drops
``PYTHONDONTWRITEBYTECODE``).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache"
BUILD_TIMEOUT_SECONDS = 600


def venv_python(name: str) -> Path:
    """The interpreter of the cached venv ``name`` (which may not be built yet)."""
    return CACHE_DIR / name / "bin" / "python"


def _stamp(name: str) -> Path:
    return CACHE_DIR / name / ".built"


def _pip(name: str, *args: str) -> None:
    """Our pip run on the venv ``name``; ``CalledProcessError`` (its output kept) on failure."""
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv_python(name)), *args,
                    "--quiet", "--disable-pip-version-check"], check=True,
                   timeout=BUILD_TIMEOUT_SECONDS, capture_output=True)


def _build(name: str, requirements: list[str], removed: tuple[str, ...]) -> None:
    venv_dir = CACHE_DIR / name
    wanted = "\n".join([*requirements, *(f"removed {package}" for package in removed)]) + "\n"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another xdist worker may be building it
        if _stamp(name).exists() and _stamp(name).read_text() == wanted:
            return
        subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(venv_dir)],
                       check=True, timeout=BUILD_TIMEOUT_SECONDS)
        _pip(name, "install", "--no-compile", *requirements)
        if removed:
            _pip(name, "uninstall", "--yes", *removed)
        _stamp(name).write_text(wanted)


BUILD_ERRORS = (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError)


def _failure(requirements: list[str], exc: BaseException) -> str:
    detail = getattr(exc, "stderr", b"") or b""
    return f"could not install {' '.join(requirements)}: {exc} {detail[-2000:]!r}"


def cached_venv(name: str, requirements: list[str], removed: tuple[str, ...] = ()) -> Path:
    """The interpreter of ``.cache/<name>`` with ``requirements`` installed, then the packages
    ``removed`` uninstalled (built on first use, rebuilt when either list changes). Fails in CI
    and skips elsewhere when it cannot be built."""
    try:
        _build(name, requirements, removed)
    except BUILD_ERRORS as exc:
        import pytest  # not at the top: `make test` runs this module before pytest is installed

        message = _failure(requirements, exc)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return venv_python(name)


# The published rundial 1.0.0rc1 SDK (it shares our import name, hence a venv of its own).
RC1_REQUIREMENT = "rundial==1.0.0rc1"

# The real trackers our shims are compared with, in one venv (one torch install, not three;
# wandb.plot's curves need scikit-learn and pandas, wandb.Audio needs soundfile).
TRACKERS_REQUIREMENTS = ["wandb==0.31.0", "neptune==1.14.0", "goodseed==0.4.0", "numpy",
                         "pillow", "tqdm", "torch==2.13.0", "pandas", "scikit-learn",
                         "soundfile"]
# Installed for neptune (bravado-core asks for jsonschema[format-nongpl]) and then removed:
# importing jsonschema builds rfc3987-syntax's Lark grammar, ~2.3 s of CPU in every process that
# imports neptune (each script and each dump). Without it jsonschema only skips its "iri" format
# checks, which bravado's API client would run, and offline Neptune makes no API client.
TRACKERS_REMOVED = ("rfc3987-syntax", "lark")


def trackers_python() -> Path:
    """The interpreter of ``.cache/trackers-venv``: the real wandb, neptune and goodseed (see
    :func:`cached_venv` for when it is built, skipped or failed)."""
    return cached_venv("trackers-venv", TRACKERS_REQUIREMENTS, TRACKERS_REMOVED)


def build_all() -> int:
    """Build (or check) every cached venv the tests use; the failures are printed, exit 1."""
    failed = 0
    for name, requirements, removed in (("rc1-venv", [RC1_REQUIREMENT], ()),
                                        ("trackers-venv", TRACKERS_REQUIREMENTS,
                                         TRACKERS_REMOVED)):
        try:
            _build(name, requirements, removed)
        except BUILD_ERRORS as exc:
            print(f"{name}: {_failure(requirements, exc)}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(build_all())
