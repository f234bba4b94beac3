"""Packaging: console scripts answer, every package ships py.typed, the SDK import stays light."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest


@pytest.mark.parametrize("module", ["rundial.cli", "rundial_collector", "rundial_spool"])
def test_console_entry_points_print_a_version(module: str) -> None:
    """Each console script's module answers --version with exit code 0."""
    proc = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "0.1.0" in proc.stdout


@pytest.mark.parametrize("package", ["rundial", "rundial_sdk", "rundial_collector",
                                     "rundial_spool"])
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


def test_the_wheel_ships_the_published_low_level_package(tmp_path: Path) -> None:
    """rc1's README documents ``from rundial_sdk import RundialClient``: the wheel carries
    ``rundial_sdk`` next to ``rundial`` (issue #17.1)."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps",
                    "--no-build-isolation", "--quiet", "--wheel-dir", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("rundial-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"rundial_sdk/__init__.py", "rundial_sdk/py.typed", "rundial/__init__.py"} <= names
