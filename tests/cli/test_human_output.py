"""Readable human output: aligned tables, local times instead of epoch milliseconds, and
``config show`` as a table (issue 13, CLI defects: human output)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime

from rundial.cli._output import Output, local_time
from tests.cli.clirun import CliResult
from tests.helpers.collector_proc import CollectorProcess

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")


def _starts(line: str, words: list[str]) -> list[int]:
    return [line.index(word) for word in words]


def test_tables_are_aligned_and_times_are_local() -> None:
    out = io.StringIO()
    output = Output(stdout=out)
    ms = 1_765_000_000_123
    widths = output.table("T", ["run_id", "status", "started_at_ms"],
                          [["a", "running", ms], ["a-much-longer-id", "completed", None]])
    output.row(["run_id", "status", "started_at_ms"], ["b", "failed", ms], widths)
    title, header, *rows = out.getvalue().splitlines()
    assert title == "T" and header.split() == ["run_id", "status", "started_at"]
    columns = _starts(header, ["status", "started_at"])
    assert _starts(rows[0], ["running", local_time(ms) or "?"]) == columns
    assert _starts(rows[2], ["failed", local_time(ms) or "?"]) == columns
    assert local_time(ms) == datetime.fromtimestamp(ms / 1000).strftime(
        "%Y-%m-%d %H:%M:%S.123")
    assert str(ms) not in out.getvalue()


def test_field_value_tables_show_times_by_field() -> None:
    out = io.StringIO()
    Output(stdout=out).table("Run r", ["field", "value"],
                             [["status", "running"], ["started_at_ms", 1_765_000_000_000]])
    lines = out.getvalue().splitlines()
    assert lines[3].split()[0] == "started_at" and TIME.search(lines[3])
    assert lines[2].index("running") == lines[3].index(TIME.search(lines[3]).group())  # type: ignore[union-attr]


def test_config_show_is_a_table_in_human_mode(cli: Callable[..., CliResult]) -> None:
    shown = cli("config", "show", "--endpoint", "http://127.0.0.1:1", "--workspace", "w")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == "Configuration (profile default)" and "{" not in shown.out
    fields = {line.split()[0]: line.split(None, 1)[1] for line in lines[2:]}
    assert fields["endpoint"] == "http://127.0.0.1:1" and fields["workspace"] == "w"
    assert fields["project"] == "(not set)"
    assert len({re.match(r"\S+\s+", line).end() for line in lines[1:]}) == 1  # type: ignore[union-attr]


def test_run_list_and_status_show_times_not_epoch_ms(
        cli: Callable[..., CliResult], as_admin: dict[str, str], seeded_run: str,
        shared_collector: CollectorProcess) -> None:
    listing = cli("run", "list", "--search", seeded_run, env=as_admin)
    assert listing.code == 0, listing.err
    header, row = listing.out.splitlines()[1:3]
    assert header.split() == ["run_id", "kind", "status", "name", "started_at", "updated_at"]
    assert TIME.search(row) and not re.search(r"\b1\d{12}\b", row)
    status = cli("run", "status", seeded_run, env=as_admin)
    assert status.code == 0 and not re.search(r"\b1\d{12}\b", status.out)
    assert TIME.search(status.out)
