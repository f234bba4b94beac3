"""Offline tools for the SDK's disk spool (the ``rundial-spool`` command; see docs/cli.md)."""

from __future__ import annotations

__all__: list[str] = []
