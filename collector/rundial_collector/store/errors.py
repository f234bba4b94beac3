"""Backend-neutral store errors: every backend raises these, and handlers map them to HTTP.

``WriteQueueFull`` means the backend's bounded write queue (or connection pool) is saturated:
the handler answers 429 with ``Retry-After`` and nothing was written. ``EngineClosed`` means the
store is shutting down: the handler answers 503 and nothing was written.
"""

from __future__ import annotations


class WriteQueueFull(Exception):
    """The bounded write queue is full; the caller should answer 429/503 with Retry-After."""


class EngineClosed(Exception):
    """The store is closing or closed and accepts no more writes."""
