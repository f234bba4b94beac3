"""The published rundial 1.0.0rc1 SDK's type aliases and parameter names, on our SDK.

Type aliases (``rd.Mode``, ``rd.RunKind``, ...) name the values ``rd.init`` accepts; ``_config``
validates the same sets at run time (``MODES``, ``KINDS``, ``RESUMES``, ``DISTRIBUTED``; a test
keeps the two in step).

Parameter names: ``Run``, ``NoopRun``, ``rd.checkpoint`` and ``rd.Image`` accept both spellings
through these helpers, so they agree: the published name (``timeout_seconds``, ``metric_key``,
``model_path``, ``path_or_dir``, ``artifact_ref``, ``path_or_image``) and our earlier one
(``timeout_s``, ``key``, ``path``, ``ref``, ``data``) mean the same; passing both is a
``TypeError`` naming the two. None of this is on the ``Run.log`` hot path.
"""

from __future__ import annotations

from typing import Any, Literal

Mode = Literal["online", "offline", "disabled"]
ResumeMode = Literal["never", "allow", "must"]
RunKind = Literal["training", "agent", "eval"]
Distributed = Literal["rank0", "all"]
DiagnosticsHealth = Literal["healthy", "degraded", "offline_buffering", "error"]
# A config value as given, before flattening (protocol §11.6): any value; nested mappings
# become dotted keys and other values are made JSON-safe (``_run.runconfig.flatten_config``).
ConfigValue = object

TERMINAL_STATUSES = ("completed", "failed", "aborted")
FLUSH_TIMEOUT_SECONDS = 5.0  # ``flush()`` with no timeout: we never wait without a bound


def renamed(where: str, published: str, value: Any, alias: str, alias_value: Any) -> Any:
    """The value passed as ``published`` or as its ``alias`` (None: not passed).

    Raises ``TypeError`` when both were passed.
    """
    if alias_value is None:
        return value
    if value is not None:
        raise TypeError(f"{where}() got both {published}= and its alias {alias}=; "
                        f"pass only {published}=")
    return alias_value


def required(where: str, published: str, value: Any, alias: str, alias_value: Any) -> Any:
    """Like :func:`renamed`, for a required argument: ``TypeError`` when neither was passed."""
    chosen = renamed(where, published, value, alias, alias_value)
    if chosen is None:
        raise TypeError(f"{where}() missing required argument: {published!r}")
    return chosen


def timeout_arg(where: str, timeout_seconds: Any, timeout_s: Any) -> float | None:
    """``timeout_seconds`` (or ``timeout_s``): None or a number of seconds, else ``TypeError``."""
    timeout = renamed(where, "timeout_seconds", timeout_seconds, "timeout_s", timeout_s)
    if timeout is not None and (isinstance(timeout, bool)
                                or not isinstance(timeout, (int, float))):
        raise TypeError(f"{where}(): timeout_seconds must be a number of seconds or None, "
                        f"not {type(timeout).__name__}")
    return None if timeout is None else float(timeout)


def end_args(where: str, status: Any, reason: Any, timeout_seconds: Any,
             timeout_s: Any) -> tuple[str, str | None, float | None]:
    """``(status, reason, timeout)`` for ``RunEnd.end``; ``ValueError`` for an unknown status,
    ``TypeError`` for a reason that is not a str, an exception (sent as ``"Type: message"``) or
    None, or a timeout that is not a number."""
    if status not in TERMINAL_STATUSES:
        raise ValueError(f"{where}(): status must be one of {', '.join(TERMINAL_STATUSES)}, "
                         f"not {status!r}")
    if isinstance(reason, BaseException):
        reason = f"{type(reason).__name__}: {reason}"
    elif reason is not None and not isinstance(reason, str):
        raise TypeError(f"{where}(): reason must be a str, an exception or None, "
                        f"not {type(reason).__name__}")
    return status, reason, timeout_arg(where, timeout_seconds, timeout_s)
