"""The event loop ``rundial-collector serve`` runs on: uvloop where installed, else asyncio's.

``--event-loop`` (env ``RUNDIAL_COLLECTOR_EVENT_LOOP``) is one of :data:`CHOICES`:

* ``auto`` (the default): uvloop when it can be imported (the ``collector`` extra installs it
  on Linux and macOS), asyncio's own loop otherwise;
* ``uvloop``: uvloop, or :class:`ValueError` naming the missing package when it cannot be
  imported (the CLI prints it and exits 2 before binding anything);
* ``asyncio``: the standard library's loop.

uvloop is imported only here, when the service starts: ``import rundial`` and
``import rundial_collector`` never import it, and the in-process app (tests, embedding) runs on
whatever loop its caller runs.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

CHOICES = ("auto", "uvloop", "asyncio")
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(choice: str) -> LoopFactory | None:
    """The loop factory for ``asyncio.Runner`` (None: asyncio's default loop).

    Raises ValueError for a choice not in :data:`CHOICES`, or ``uvloop`` when it is not
    installed."""
    if choice not in CHOICES:
        raise ValueError(f"event loop must be one of {', '.join(CHOICES)}, got {choice!r}")
    if choice == "asyncio":
        return None
    uvloop = _import_uvloop()
    if uvloop is None:
        if choice == "uvloop":
            raise ValueError("event loop uvloop: the uvloop package is not installed "
                             "(pip install uvloop, or choose --event-loop asyncio)")
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: which implementation ``loop`` is (for the start-up line)."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def _import_uvloop() -> Any:
    try:
        return importlib.import_module("uvloop")
    except ImportError:
        return None
