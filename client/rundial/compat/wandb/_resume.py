"""Where a resumed run's history continues: the next W&B step, kept on this machine.

W&B asks its server for a resumed run's last step. rundial never waits for the network at
init, so the shim records the run's next step in a small file when its summary is sent and when
the run ends: ``<spool directory's parent>/wandb-compat/<run id>.json`` (``{"step": N}``). An
``init`` with a run id and ``resume`` other than ``never`` continues from that step; without
the file (another machine, a run killed by SIGKILL before its first summary) it starts at 0.

Never raises: an unreadable or unwritable file means "no record" (one warning when writing).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rundial._warn import warn_user


def state_path(rd_run: Any) -> Path | None:
    """The record's path for a logging run (None for a disabled run)."""
    settings = getattr(rd_run, "_settings", None)
    if settings is None:
        return None
    return Path(settings.spool_root).parent / "wandb-compat" / f"{rd_run.id}.json"


def load_step(path: Path | None) -> int:
    """The recorded next step, or 0."""
    if path is None:
        return 0
    try:
        step = json.loads(path.read_text(encoding="utf-8")).get("step")
    except (OSError, ValueError, AttributeError):
        return 0
    return step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else 0


def save_step(path: Path | None, step: int) -> None:
    """Record ``step`` (write to a temporary file, then rename)."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"step": step}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        warn_user(f"rundial.compat.wandb: could not record the run's step in {path}: {exc}")
