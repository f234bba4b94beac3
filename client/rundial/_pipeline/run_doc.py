"""One writer's ``run.json``: what it says and when it is written (never the API key).

Only the registering writer owns the file; other writers (ranks > 0, forked children) create it
when it is missing and otherwise leave it alone. The owner records its registration
(``registered``, ``blocked``, ``refused``), a final status not delivered yet (``finalStatus``)
and config or summary changes the collector has not acknowledged (``pendingConfig``, replayed by
``sender``), so the next process or ``rundial sync`` can finish the job. A registration change
marks the file dirty; the worker rewrites it on its next cycle (:attr:`RunDoc.dirty`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rundial._diagnostics import Counters
from rundial._pipeline.registrar import DONE, FAILED, Registrar
from rundial._spool.runfile import run_file_path, write_run_file


class RunDoc:
    """Writes ``run.json`` for the run described by ``doc`` (see the module docstring)."""

    __slots__ = ("doc", "registering", "dirty")

    def __init__(self, doc: dict[str, Any], registering: bool) -> None:
        self.doc = doc
        self.registering = registering
        self.dirty = False

    def mark_dirty(self) -> None:
        """The registration changed: write the file again on the next cycle."""
        self.dirty = True

    def write(self, writer_dir: Path, registrar: Registrar, final: dict[str, Any] | None) -> None:
        """Write ``run.json`` next to ``writer_dir``; ``final`` is a status still to deliver.

        Raises ``OSError`` when the file cannot be written."""
        run_dir = writer_dir.parent
        self.dirty = False
        if not self.registering:
            if not run_file_path(run_dir).exists():
                write_run_file(run_dir, {**self.doc, "registered": False})
            return
        doc = {**self.doc, "registered": registrar.state == DONE,
               "blocked": registrar.error if registrar.state == FAILED else None,
               "refused": registrar.state == FAILED and registrar.refused}
        if final is not None:
            doc["finalStatus"] = final
        pending_config = dict(registrar.pending_config)
        if pending_config:  # config/summary changes not acknowledged yet: replayed (``sender``)
            doc["pendingConfig"] = pending_config
        write_run_file(run_dir, doc)

    def persist(self, run_dir: Path, writer_id: str, registrar: Registrar,
                final: dict[str, Any] | None, counters: Counters) -> None:
        """At exit: create ``run_dir`` if needed and write; a failure is counted, not raised."""
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            self.write(run_dir / writer_id, registrar, final)
        except OSError as exc:
            counters.error(f"could not write run.json: {exc}")
