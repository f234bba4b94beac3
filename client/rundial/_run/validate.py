"""Argument checks of ``run.log`` for everything but the fast path's plain dict and int.

They raise ``TypeError``/``ValueError`` for an unusable argument and return the normalised value.
Values inside the mapping are not checked here (that would cost per key): the worker does it.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from rundial._values import UNSUPPORTED, plain_scalar

_INT64_MAX = 2**63 - 1


def as_metrics(metrics: Any) -> dict[str, Any]:
    """Copy a non-dict mapping, or raise the error ``log`` documents."""
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a mapping of str to number, not {type(metrics).__name__}")
    if not metrics:
        raise ValueError("metrics must not be empty")
    return dict(metrics)


def as_step(step: Any) -> int:
    """A non-negative int step (numpy/torch scalars accepted), or TypeError/ValueError."""
    step = _plain(step)
    if isinstance(step, bool) or isinstance(step, float):
        if isinstance(step, float) and step.is_integer() and 0 <= step <= _INT64_MAX:
            return int(step)
        raise TypeError(f"step must be a non-negative int, not {step!r}")
    try:
        value = operator.index(step)
    except TypeError:
        raise TypeError(f"step must be a non-negative int, not {type(step).__name__}") from None
    if not 0 <= value <= _INT64_MAX:
        raise ValueError(f"step must be a non-negative int, not {value}")
    return value


def as_time_ms(time_ms: Any) -> int:
    """A non-negative int of epoch milliseconds (numpy/torch scalars accepted), or
    TypeError/ValueError."""
    time_ms = _plain(time_ms)
    if isinstance(time_ms, bool) or not isinstance(time_ms, (int, float)):
        try:
            time_ms = operator.index(time_ms)
        except TypeError:
            raise TypeError(f"time_ms must be epoch milliseconds, not {time_ms!r}") from None
    if not 0 <= time_ms <= _INT64_MAX or time_ms != time_ms:
        raise ValueError(f"time_ms must be non-negative epoch milliseconds, not {time_ms!r}")
    return int(time_ms)


def _plain(value: Any) -> Any:
    """A numpy/torch scalar as the Python scalar it holds; anything else unchanged."""
    plain = plain_scalar(value)
    return value if plain is UNSUPPORTED else plain
