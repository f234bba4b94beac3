"""``neptune.init_run(...)`` arguments → ``rd.init`` arguments (docs/neptune-compat.md).

* ``project`` (else ``NEPTUNE_PROJECT``, else rundial's own resolution): ``"workspace/project"``
  gives our workspace and project slugs; a bare name is our project.
* ``api_token``: used only when it is a rundial key (``rdk_…``), see :func:`_keyed.start_run`.
* ``with_id`` resumes an existing run (``resume="must"``); ``custom_run_id`` (else
  ``NEPTUNE_CUSTOM_RUN_ID``) names a run several processes share (``resume="allow"``).
* ``mode`` (else ``NEPTUNE_MODE``): ``async``/``sync`` → online, ``offline`` → offline
  (spooled for ``rundial sync``), ``debug`` → disabled; ``read-only`` starts no rundial run:
  :func:`open_read_only` checks that ``with_id`` exists and returns a reader of it.
* ``capture_stdout``/``capture_stderr`` (default on, as in Neptune) → ``capture_console``,
  ``capture_hardware_metrics`` → ``system_metrics``, ``flush_period`` →
  ``flush_interval_seconds``. Other Neptune options are accepted and ignored; rundial options
  (``endpoint``, ``spool_directory``, …) pass through, and an unknown name is a ``TypeError``.
"""

from __future__ import annotations

import os
import random
import string
from typing import Any

import rundial as rd
from rundial._config import REQUEST_TIMEOUT_S, check_option_names, resolve_target
from rundial.compat import _keyed
from rundial.compat.neptune._reader import RunReader
from rundial.compat.neptune.exceptions import NeedExistingRunForReadOnlyMode

_NEPTUNE_KEY_CHARS = 8
_NEPTUNE_KEY_ALPHABET = string.ascii_lowercase + string.digits
READ_ONLY = "read-only"
_MODES = {"async": "online", "sync": "online", "offline": "offline", "debug": "disabled",
          READ_ONLY: READ_ONLY}
IGNORED = ("source_files", "fail_on_exception", "monitoring_namespace", "proxies",
           "capture_traceback", "git_ref", "dependencies", "async_lag_callback",
           "async_lag_threshold", "async_no_progress_callback", "async_no_progress_threshold",
           "enable_remote_signals")


def rundial_mode(mode: str | None) -> str | None:
    """Our mode for Neptune's (``None``: rundial's default; :data:`READ_ONLY` for Neptune's
    read-only mode); ``ValueError`` when unknown."""
    mode = mode if mode is not None else os.environ.get("NEPTUNE_MODE")
    if mode is None:
        return None
    if mode not in _MODES:
        raise ValueError(f"neptune: mode must be one of {sorted(_MODES)}, not {mode!r}")
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
    our_mode = rundial_mode(mode)
    run = _keyed.start_run(project if project is not None else os.environ.get("NEPTUNE_PROJECT"),
                           api_token, name=name, tags=tag_list, run_id=run_id, resume=resume,
                           mode=our_mode, **options)
    if our_mode != "disabled":
        draw_like_neptune()
    return run, with_id is not None


def draw_like_neptune() -> None:
    """Draw from Python's global ``random`` what Neptune draws when it starts a run (outside
    ``debug`` mode): 8 characters of 36 for the name of its local data directory. A seeded
    script's own random numbers after ``init_run`` are then the ones it gets under Neptune."""
    for _ in range(_NEPTUNE_KEY_CHARS):
        random.choice(_NEPTUNE_KEY_ALPHABET)


def open_read_only(with_id: str | None, *, project: str | None, api_token: str | None,
                   options: dict[str, Any]) -> tuple[rd.NoopRun, RunReader]:
    """``init_run(with_id=..., mode="read-only")``: no rundial run is started; the run is
    looked up at once (blocking, as Neptune does) and read on demand.

    ``NeedExistingRunForReadOnlyMode`` (a ``ValueError``) without ``with_id``;
    ``RunNotFound`` when the project has no such run; ``FetchError`` when the collector
    cannot be read; ``ValueError`` without a project. Of the rundial options only
    ``endpoint``, ``api_key``, ``request_timeout_seconds`` and ``transport`` act here; the
    others are checked by name and unused.
    """
    if with_id is None:
        raise NeedExistingRunForReadOnlyMode(
            "neptune: mode='read-only' opens an existing run: pass with_id=<run id>")
    target, reader = read_target(project, api_token, options, with_id,
                                 "neptune.init_run(mode='read-only')")
    reader.details()
    return rd.NoopRun(with_id, state="disabled", project=target["project"],
                      workspace=target["workspace"], mode=READ_ONLY), reader


def read_target(project: str | None, api_token: str | None, options: dict[str, Any],
                run_id: str, caller: str) -> tuple[dict[str, Any], RunReader]:
    """The collector and project to read (``project``, else ``NEPTUNE_PROJECT``, else
    rundial's resolution) and a reader of ``run_id`` there; sends nothing. ``TypeError`` for
    an unknown option, ``ValueError`` without a project. Of the options only ``endpoint``,
    ``api_key``, ``request_timeout_seconds`` and ``transport`` act."""
    for name_ in IGNORED:
        options.pop(name_, None)
    check_option_names(options, caller)
    workspace, name = _keyed.split_project(
        project if project is not None else os.environ.get("NEPTUNE_PROJECT"))
    target = resolve_target(options.get("endpoint"), _keyed.rundial_key(api_token)
                            or options.get("api_key"), workspace, name)
    if not target["project"]:
        raise ValueError("neptune: no project: pass project='workspace/project' or set "
                         "NEPTUNE_PROJECT (or RUNDIAL_PROJECT)")
    reader = RunReader(str(target["endpoint"]), target["api_key"],
                       (target["workspace"], str(target["project"])), run_id,
                       transport=options.get("transport"),
                       timeout_seconds=float(options.get("request_timeout_seconds",
                                                         REQUEST_TIMEOUT_S)))
    return target, reader
