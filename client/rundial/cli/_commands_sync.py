"""``rundial sync [SPOOL_DIR]``: upload everything left in a spool directory.

Offline runs and crashed runs are sent with the SDK's own replay (:func:`rundial.replay_spool`),
interrupted artifact uploads with its uploader (:func:`rundial._artifacts.uploader.resume_journal`).
``--watch`` keeps going — including the batches of offline runs that are still writing — until
Ctrl-C. The implementation, shared with ``rundial-spool replay``, is
:mod:`rundial.cli._sync`, which documents the exit codes.
"""

from __future__ import annotations

from typing import Any

from rundial.cli._context import Context
from rundial.cli._parsing import ParserKit

__all__ = ["register"]


def register(kit: ParserKit, commands: Any) -> None:
    """Add ``sync``."""
    sync = kit.command(commands, "sync", "upload what is left in a spool directory", cmd_sync)
    sync.add_argument("spool_dir_positional", nargs="?", metavar="SPOOL_DIR")
    sync.add_argument("--spool-dir")
    sync.add_argument("--run", help="only this run id")
    sync.add_argument("--watch", action="store_true", help="keep uploading until Ctrl-C")
    sync.add_argument("--interval-seconds", type=float, default=2.0)
    sync.add_argument("--dry-run", action="store_true", help="list what would be sent")
    sync.add_argument("--into-existing", action="store_true",
                      help="send runs whose registration was refused (run id taken) into that run")
    sync.add_argument("--as-new-run", action="store_true",
                      help="send runs whose registration was refused as new runs (new run ids)")
    sync.add_argument("--artifact-timeout-seconds", type=float, default=300.0,
                      help="time one pass may spend resuming artifact uploads")


def cmd_sync(ctx: Context) -> None:
    """Upload (or with ``--dry-run`` only list) the spool's pending batches for the endpoint."""
    from rundial.cli._sync import sync_command

    sync_command(ctx)
