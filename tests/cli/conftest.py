"""Fixtures for the CLI tests: an isolated HOME, an in-process runner, seeded runs.

``cli(...)`` runs :func:`rundial.cli.main` in-process (fast) with captured stdout/stderr;
``cli_proc(...)`` runs ``python -m rundial.cli`` as a real subprocess for the tests that must
see a real process (tracebacks, signals, TTY-less output).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rundial.cli import main
from tests.cli.clirun import CliResult, cli_env
from tests.cli.seeding import seed_run
from tests.helpers.collector_proc import CollectorProcess


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME with no RUNDIAL_* variables set."""
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    monkeypatch.setenv("HOME", str(home_dir))
    for name in list(os.environ):
        if name.startswith("RUNDIAL_"):
            monkeypatch.delenv(name)
    return home_dir


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run ``rundial <args>`` in-process; ``env=`` adds environment variables for that call."""
    def run(*args: str, env: dict[str, str] | None = None) -> CliResult:
        capsys.readouterr()
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)
    return run


@pytest.fixture
def cli_proc(home: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m rundial.cli <args>`` as a subprocess with the isolated HOME."""
    def run(*args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rundial.cli", *args], text=True,
                              capture_output=True, timeout=timeout,
                              env=cli_env(home, **(env or {})))
    return run


@pytest.fixture
def as_admin(shared_collector: CollectorProcess) -> dict[str, str]:
    """Environment selecting the shared collector with its admin key and target."""
    return {"RUNDIAL_ENDPOINT": shared_collector.url, "RUNDIAL_API_KEY": shared_collector.api_key,
            "RUNDIAL_WORKSPACE": shared_collector.workspace,
            "RUNDIAL_PROJECT": shared_collector.project}


@pytest.fixture
def seeded_run(shared_collector: CollectorProcess) -> Iterator[str]:
    """A fresh seeded run on the shared collector."""
    yield seed_run(shared_collector)
