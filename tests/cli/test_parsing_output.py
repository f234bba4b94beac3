"""Argument parsing, output shapes and exit codes that need no collector."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rundial.cli._app import build_parser
from rundial.cli._progress import Progress
from tests.cli.clirun import CliResult

DEAD = "http://127.0.0.1:9"  # discard port: connection refused


def test_global_flags_work_before_the_sub_command(cli: Callable[..., CliResult]) -> None:
    """``rundial --endpoint X --json config show`` resolves X and prints one JSON line."""
    result = cli("--endpoint", "http://a.example:1", "--json", "config", "show")
    assert result.code == 0, result.err
    assert result.json()["resolved"]["endpoint"] == "http://a.example:1"


def test_global_flags_work_after_the_sub_command(cli: Callable[..., CliResult]) -> None:
    """``rundial config show --endpoint X --format json`` is accepted (rc1 rejected it)."""
    result = cli("config", "show", "--endpoint", "http://b.example:2", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["resolved"]["endpoint"] == "http://b.example:2"


def test_json_flag_is_accepted_between_command_words(cli: Callable[..., CliResult]) -> None:
    """``--json`` may appear anywhere, even between a group and its command."""
    result = cli("config", "--json", "show", "--workspace", "ws1")
    assert result.code == 0
    assert result.json()["resolved"]["workspace"] == "ws1"


def test_usage_errors_exit_1_with_a_json_envelope(cli: Callable[..., CliResult]) -> None:
    """An argparse error exits 1 (not argparse's 2, which means auth) with the JSON error shape."""
    result = cli("run", "list", "--order", "sideways", "--json")
    assert result.code == 1
    assert result.out == ""
    error = result.error()
    assert error["ok"] is False and error["error"]["exitCode"] == 1
    assert "--order" in error["error"]["message"]


def test_help_and_bare_groups(cli: Callable[..., CliResult]) -> None:
    """``--help`` and no arguments exit 0; an incomplete command prints its help and exits 1."""
    assert cli("--help").code == 0
    assert cli().code == 0
    incomplete = cli("auth")
    assert incomplete.code == 1 and "whoami" in incomplete.err


def test_every_command_accepts_every_global_flag() -> None:
    """Every leaf parser knows --json, --debug, --endpoint, --api-key and --workspace."""
    leaves = []
    pending: list[argparse.ArgumentParser] = [build_parser()]
    while pending:
        parser = pending.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
        if parser.get_default("handler") is not None:
            leaves.append(parser)
    assert len(leaves) == 32  # workspace/project create, auth agent …, audit, evals diff included
    for leaf in leaves:
        options = {o for a in leaf._actions for o in a.option_strings}
        assert {"--json", "--debug", "--endpoint", "--api-key", "--workspace"} <= options, leaf.prog


def test_parquet_without_pyarrow_fails_before_any_request(cli: Callable[..., CliResult],
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``--format parquet`` without pyarrow exits 1 with an install hint and touches nothing."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # a None entry makes the import fail
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "m.parquet"
    result = cli("metrics", "export", "run_x", "--format", "parquet", "--out", str(out),
                 "--endpoint", DEAD, "--api-key", "k", "--workspace", "w", "--project", "p")
    assert result.code == 1
    assert "pip install pyarrow" in result.err and "cannot reach" not in result.err
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "home"]


def test_network_errors_exit_1_with_one_line(cli: Callable[..., CliResult]) -> None:
    """A refused connection is one error line, exit 1, no traceback."""
    result = cli("workspace", "ls", "--endpoint", DEAD, "--api-key", "k")
    assert result.code == 1
    assert result.err.startswith("error: cannot reach the collector at http://127.0.0.1:9")
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_missing_credentials_exit_2(cli: Callable[..., CliResult]) -> None:
    """No key anywhere is an authentication failure: exit 2 before any request."""
    result = cli("auth", "whoami", "--endpoint", DEAD, "--json")
    assert result.code == 2
    assert result.error()["error"]["exitCode"] == 2


def test_missing_target_exits_1(cli: Callable[..., CliResult]) -> None:
    """A command needing a workspace/project without one exits 1 and says how to set it."""
    result = cli("run", "list", "--endpoint", DEAD, "--api-key", "k")
    assert result.code == 1 and "--workspace" in result.err


def test_traceback_only_with_debug(cli_proc: Callable[..., object]) -> None:
    """A real process prints a traceback for an error only under --debug."""
    plain = cli_proc("workspace", "ls", "--endpoint", DEAD, "--api-key", "k")
    debug = cli_proc("workspace", "ls", "--endpoint", DEAD, "--api-key", "k", "--debug")
    assert plain.returncode == 1 and "Traceback" not in plain.stderr  # type: ignore[attr-defined]
    assert debug.returncode == 1 and "Traceback" in debug.stderr  # type: ignore[attr-defined]


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_only_on_a_terminal() -> None:
    """The progress line appears on a TTY and is erased; pipes and JSON mode get nothing."""
    tty, pipe, quiet_tty = _Terminal(), io.StringIO(), _Terminal()
    with Progress("export", total=8, stream=tty) as bar:
        bar.advance(2)
    assert "export: 2/8 rows (25%)" in tty.getvalue() and tty.getvalue().endswith("\x1b[2K")
    with Progress("export", stream=pipe) as bar:
        bar.advance(5)
    with Progress("export", stream=quiet_tty, enabled=False) as bar:
        bar.advance(5)
    assert pipe.getvalue() == "" and quiet_tty.getvalue() == ""
