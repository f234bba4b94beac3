"""What ``runs/start`` says about the process that started a run (docs/protocol.md §4.12).

The ``client`` object of ``runs/start`` carries ``name`` and ``version`` (the SDK) plus, as
extension fields, the host it runs on: ``host`` (``socket.gethostname()``), ``pid``, ``python``
(``platform.python_version()``), ``platform`` (``<system>-<release>-<machine>``, e.g. ``Linux-6.1.0-x86_64``: cheaper than
``platform.platform()``, which scans the interpreter binary) and, when the rank of the
process is known (an explicit ``distributed_rank``, a launcher's rank variable or
``distributed="all"``), ``rank`` and ``distributed``. The host fields are recorded once, in the
run document (``run.json``), when the run is created, so a later process that registers the run
(a retry, ``rundial sync``) reports the host that produced it. Never raises: a field whose
look-up fails is left out.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
from typing import Any

HOST_MAX_CHARS = 255  # a DNS name's limit; longer host names are cut


def host_info(rank: int | None = None, distributed: str | None = None) -> dict[str, Any]:
    """The extension fields of the ``client`` object for this process (see the module docs)."""
    info: dict[str, Any] = {}
    try:
        info["host"] = socket.gethostname()[:HOST_MAX_CHARS]
    except OSError:
        pass
    info["pid"] = os.getpid()
    info["python"] = platform.python_version()
    try:
        info["platform"] = f"{platform.system()}-{platform.release()}-{platform.machine()}"
    except Exception:
        info["platform"] = sys.platform
    if rank is not None:
        info["rank"] = rank
        if distributed is not None:
            info["distributed"] = distributed
    return info


def cli_host_info() -> dict[str, Any]:
    """The fields ``rundial run start`` adds: those of :func:`host_info` but ``pid`` (the CLI
    process ends at once; the run's own process is not known)."""
    return {k: v for k, v in host_info().items() if k != "pid"}
