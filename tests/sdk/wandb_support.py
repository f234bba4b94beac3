"""A stand-in for the rundial run under a ``rundial.compat.wandb`` run: records what it is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rundial.compat.wandb import Run


class Recorder:
    """Records ``log``, ``update_config``, ``log_artifact``, ``log_text`` and run edits."""

    id, name, mode = "run_x", "x", "online"

    def __init__(self) -> None:
        self.calls: list[tuple[int, dict[str, Any]]] = []
        self.config: list[Mapping[str, Any]] = []
        self.artifacts: list[tuple[str, dict[str, Any]]] = []
        self.lines: list[tuple[str, str]] = []
        self.edits: list[dict[str, Any]] = []

    def log(self, row: Mapping[str, Any], step: int) -> bool:
        self.calls.append((step, dict(row)))
        return True

    def update_config(self, patch: Mapping[str, Any]) -> bool:
        self.config.append(patch)
        return True

    def log_artifact(self, path: str | Path, **options: Any) -> bool:
        self.artifacts.append((str(path), options))
        return True

    def log_text(self, message: str, level: str = "info") -> bool:
        self.lines.append((level, message))
        return True

    def _update_meta(self, fields: Mapping[str, Any]) -> None:
        self.edits.append(dict(fields))

    def finish(self) -> bool:
        return True


def make_run(recorder: Recorder, clock: Callable[[], float] | None = None) -> Run:
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    return Run(recorder, {}, project="p", entity="ws", notes=None, tags=(), group=None,
               job_type=None, on_end=lambda run: None, **extra)
