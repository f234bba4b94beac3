"""``neptune.init_run(...)`` arguments → ``rd.init`` arguments (docs/neptune-compat.md).

* ``project`` (else ``NEPTUNE_PROJECT``, else rundial's own resolution): ``"workspace/project"``
  gives our workspace and project slugs; a bare name is our project.
* ``api_token``: used only when it is a rundial key (``rdk_…``), see :func:`_keyed.start_run`.
* ``with_id`` resumes an existing run (``resume="must"``); ``custom_run_id`` (else
  ``NEPTUNE_CUSTOM_RUN_ID``) names a run several processes share (``resume="allow"``).
* ``mode`` (else ``NEPTUNE_MODE``): ``async``/``sync`` → online, ``offline`` → offline
  (spooled for ``rundial sync``), ``debug`` → disabled; ``read-only`` is not supported.
* ``capture_stdout``/``capture_stderr`` (default on, as in Neptune) → ``capture_console``,
  ``capture_hardware_metrics`` → ``system_metrics``, ``flush_period`` →
  ``flush_interval_seconds``. Other Neptune options are accepted and ignored; rundial options
  (``endpoint``, ``spool_directory``, …) pass through, and an unknown name is a ``TypeError``.
"""

from __future__ import annotations

import os
from typing import Any

import rundial as rd
from rundial.compat import _keyed

_MODES = {"async": "online", "sync": "online", "offline": "offline", "debug": "disabled"}
IGNORED = ("source_files", "fail_on_exception", "monitoring_namespace", "proxies",
           "capture_traceback", "git_ref", "dependencies", "async_lag_callback",
           "async_lag_threshold", "async_no_progress_callback", "async_no_progress_threshold",
           "enable_remote_signals")


def rundial_mode(mode: str | None) -> str | None:
    """Our mode for Neptune's (``None``: rundial's default); ``ValueError`` when unknown."""
    mode = mode if mode is not None else os.environ.get("NEPTUNE_MODE")
    if mode is None:
        return None
    if mode == "read-only":
        raise _keyed.unsupported("neptune", "mode='read-only'", "docs/neptune-compat.md")
    if mode not in _MODES:
        raise ValueError(f"neptune: mode must be one of {sorted(_MODES)} or 'read-only', "
                         f"not {mode!r}")
    return _MODES[mode]


def start(with_id: str | None, *, project: str | None, api_token: str | None,
          custom_run_id: str | None, mode: str | None, name: str | None, tags: Any,
          capture_stdout: bool | None, capture_stderr: bool | None,
          capture_hardware_metrics: bool | None, flush_period: float | None,
          options: dict[str, Any]) -> tuple[rd.Run | rd.NoopRun, bool]:
    """The rundial run behind ``init_run`` (everything resolved, then
    :func:`_keyed.start_run`), and whether it resumes an existing run (``with_id``)."""
    for name_ in IGNORED:
        options.pop(name_, None)
    custom_run_id = custom_run_id or os.environ.get("NEPTUNE_CUSTOM_RUN_ID") or None
    if with_id is not None and custom_run_id is not None:
        raise ValueError("neptune: give with_id= (resume a run) or custom_run_id=, not both")
    run_id, resume = ((with_id, "must") if with_id is not None
                      else (custom_run_id, "allow") if custom_run_id is not None else (None, None))
    options.setdefault("capture_console", capture_stdout is not False or capture_stderr is not False)
    if capture_hardware_metrics is not None:
        options.setdefault("system_metrics", bool(capture_hardware_metrics))
    if flush_period is not None:
        options.setdefault("flush_interval_seconds", flush_period)
    tag_list = None if tags is None else ([tags] if isinstance(tags, str) else list(tags))
    run = _keyed.start_run(project if project is not None else os.environ.get("NEPTUNE_PROJECT"),
                           api_token, name=name, tags=tag_list, run_id=run_id, resume=resume,
                           mode=rundial_mode(mode), **options)
    return run, with_id is not None
