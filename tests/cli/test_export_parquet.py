"""``metrics export --format parquet`` when pyarrow is installed (skipped otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.clirun import CliResult


def test_parquet_export_has_typed_columns_and_every_row(cli: Callable[..., CliResult],
                                                        as_admin: dict[str, str], seeded_run: str,
                                                        tmp_path: Path) -> None:
    """A paged parquet export holds all 40 rows with int64 steps and float64 values."""
    parquet = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "m.parquet"
    result = cli("metrics", "export", seeded_run, "--format", "parquet", "--out", str(out),
                 "--page-size", "9", "--json", env=as_admin)
    assert result.code == 0, result.err
    assert result.json() == {"ok": True, "out": str(out), "rows": 40, "format": "parquet"}
    table = parquet.read_table(out)
    assert table.num_rows == 40
    assert [str(t) for t in table.schema.types] == ["string", "int64", "int64", "double"]
    assert sorted(set(table.column("metricKey").to_pylist())) == ["acc", "loss"]
