"""Packaging: console scripts answer, every package ships py.typed, the SDK import stays light."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import pytest


@pytest.mark.parametrize("module", ["rundial.cli", "rundial_collector", "rundial_spool"])
def test_console_entry_points_print_a_version(module: str) -> None:
    """Each console script's module answers --version with exit code 0."""
    proc = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "0.1.0" in proc.stdout


@pytest.mark.parametrize("package", ["rundial", "rundial_collector", "rundial_spool"])
def test_every_package_ships_py_typed(package: str) -> None:
    """PEP 561: each import package carries a py.typed marker."""
    assert resources.files(package).joinpath("py.typed").is_file()


def test_collector_serve_help_lists_its_flags() -> None:
    """``rundial-collector serve --help`` documents host, port and data dir."""
    proc = subprocess.run([sys.executable, "-m", "rundial_collector", "serve", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--host", "--port", "--data-dir"):
        assert flag in proc.stdout
