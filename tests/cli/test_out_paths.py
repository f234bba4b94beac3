"""--out style paths that cannot be written are one clear line, before any request (issue 13,
CLI defects: `metrics export --out /nonexistent/dir/x.csv`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.clirun import CliResult


@pytest.mark.parametrize("group", ["metrics", "logs"])
def test_export_to_a_missing_folder_says_so(cli: Callable[..., CliResult], group: str,
                                            as_admin: dict[str, str], seeded_run: str,
                                            tmp_path: Path) -> None:
    out = tmp_path / "missing" / "x.csv"
    result = cli(group, "export", seeded_run, "--format", "csv", "--out", str(out), env=as_admin)
    assert result.code == 1
    assert result.err.strip() == (f"error: --out {out}: the folder {out.parent} does not exist; "
                                  "create it first")
    assert not out.parent.exists()


def test_export_to_a_directory_says_so(cli: Callable[..., CliResult], as_admin: dict[str, str],
                                       seeded_run: str, tmp_path: Path) -> None:
    result = cli("metrics", "export", seeded_run, "--out", str(tmp_path), env=as_admin)
    assert result.code == 1
    assert result.err.strip() == f"error: --out {tmp_path} is a directory; give a file name"


def test_collector_port_file_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    port_file = tmp_path / "missing" / "port"
    done = subprocess.run([sys.executable, "-m", "rundial_collector", "serve", "--port", "0",
                           "--data-dir", str(tmp_path / "data"), "--port-file", str(port_file)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"rundial-collector: --port-file {port_file}: the folder "
                                   f"{port_file.parent} does not exist")
