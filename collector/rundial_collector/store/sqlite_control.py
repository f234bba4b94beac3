"""Placeholder: control-plane SQL (being implemented)."""

from __future__ import annotations

CONTROL_SCHEMA: list[str] = []


class SQLiteControl:
    def __init__(self) -> None:
        pass
