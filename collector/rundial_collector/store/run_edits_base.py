"""Run edits from the web UI (docs/protocol.md §4.9): rename, tags, notes and soft delete.

Edits change the run's current metadata in place and append one row per edit to an edit log
(who, when, which field, the new value), so the history stays auditable. A deleted run is
hidden (``get_run`` and run lists no longer return it) but its points, logs, spans and
artifacts are kept; its id can never be started, attached or reopened again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rundial_collector.store.control_base import Run

if TYPE_CHECKING:
    from rundial_collector.store.accounts_base import AuditEvent


@dataclass(frozen=True)
class RunEdit:
    """The fields to change; ``None`` leaves a field as it is (at least one is set)."""

    name: str | None = None
    tags: tuple[str, ...] | None = None
    notes: str | None = None


class RunEditStore(Protocol):
    """Run edits and soft deletes."""

    async def edit_run(self, project_id: str, run_id: str, edit: RunEdit, key_id: str,
                       now_ms: int, *, audit: AuditEvent | None = None) -> Run:
        """Apply ``edit`` to the run and log it; returns the updated run.

        :class:`StoreNotFound` when the run is unknown, deleted or of another project.
        """
        ...

    async def delete_run(self, project_id: str, run_id: str, key_id: str, now_ms: int, *,
                         audit: AuditEvent | None = None) -> None:
        """Soft-delete the run (hidden from reads, id never revived) and log it.

        :class:`StoreNotFound` when the run is unknown, already deleted or of another project.
        """
        ...
