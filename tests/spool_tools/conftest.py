"""Fixtures for ``rundial-spool`` tests: an in-process runner with captured output."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rundial_spool.__main__ import main
from tests.cli.clirun import CliResult as SpoolResult


@pytest.fixture
def spool_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch) -> Callable[..., SpoolResult]:
    """Run ``rundial-spool <args>`` in-process with HOME isolated and no RUNDIAL_* set."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in list(os.environ):
        if name.startswith("RUNDIAL_"):
            monkeypatch.delenv(name)

    def run(*args: str) -> SpoolResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return SpoolResult(code, captured.out, captured.err)
    return run


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    """An empty spool directory."""
    root = tmp_path / "spool"
    root.mkdir()
    return root
