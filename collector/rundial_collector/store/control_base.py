"""Placeholder: the control-plane store interface (being implemented)."""

from __future__ import annotations

from typing import Protocol


class ControlStore(Protocol):
    """Workspaces, projects, API keys and runs."""
