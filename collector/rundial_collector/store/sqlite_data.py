"""Placeholder: data-plane SQL (being implemented)."""

from __future__ import annotations

DATA_SCHEMA: list[str] = []


class SQLiteData:
    def __init__(self) -> None:
        pass
