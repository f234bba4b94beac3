"""The shared control SQL's placeholder numbering for PostgreSQL (pure, no database)."""

from __future__ import annotations

import pytest

from rundial_collector.store.control_base import RunQuery
from rundial_collector.store.control_sql import numbered, page_sql


def test_placeholders_are_numbered_in_order() -> None:
    assert numbered("SELECT ? WHERE a = ? AND b LIKE ? ESCAPE '\\'") == (
        "SELECT $1 WHERE a = $2 AND b LIKE $3 ESCAPE '\\'")


def test_a_question_mark_in_a_literal_is_refused() -> None:
    with pytest.raises(ValueError):
        numbered("SELECT '?' WHERE a = ?")


def test_every_page_parameter_has_its_placeholder() -> None:
    query = RunQuery("prj", 10, "desc", "runName", after=("x", "r"), search="a_b",
                     statuses=frozenset({"lost", "running"}))
    sql, params = page_sql(query, 5)
    assert f"${len(params)}" in numbered(sql) and f"${len(params) + 1}" not in numbered(sql)
    assert params[-1] == 11 and "a\\_b" in params[5]
