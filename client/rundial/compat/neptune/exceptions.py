"""``from rundial.compat.neptune.exceptions import MissingFieldException`` (``neptune.exceptions``).

The errors the shim's reads raise, named as Neptune names them; each also derives from the
built-in error a caller would catch without knowing Neptune (``KeyError``, ``ValueError``,
``LookupError``, ``RuntimeError``).
"""

from __future__ import annotations

__all__ = ["FetchError", "MissingFieldException", "NeedExistingRunForReadOnlyMode",
           "NeptuneException", "RunNotFound"]


class NeptuneException(Exception):
    """The base of the shim's Neptune-named errors."""


class MissingFieldException(NeptuneException, AttributeError, KeyError):
    """Nothing is stored at the path fetched (Neptune's: also an ``AttributeError`` and a
    ``KeyError``)."""

    def __init__(self, path: str) -> None:
        super().__init__(f'neptune: the field "{path}" was not found')
        self.path = path

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class NeedExistingRunForReadOnlyMode(NeptuneException, ValueError):
    """``init_run(mode="read-only")`` without ``with_id``: read-only needs an existing run."""


class RunNotFound(NeptuneException, LookupError):
    """``with_id`` names no run of the project (read-only mode checks at ``init_run``)."""


class FetchError(NeptuneException, RuntimeError):
    """A read from the collector failed: unreachable, refused (the message gives the HTTP
    status and the collector's error), or an answer that is not what the protocol says."""
