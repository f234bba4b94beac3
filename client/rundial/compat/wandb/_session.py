"""``wandb.init`` / ``wandb.finish`` and the process's current run.

``init`` maps W&B's arguments and environment onto ``rd.init`` (never waits for the network):

* ``project`` (else ``WANDB_PROJECT``, else rundial's own ``RUNDIAL_PROJECT``/config file; none
  at all is a ``ValueError``: rundial has no default project);
  ``entity`` (else ``WANDB_ENTITY``) is the rundial workspace; ``name``, ``group``,
  ``job_type``, ``tags`` and ``config`` (dict, Namespace or None, after
  ``config_include_keys``/``config_exclude_keys``) go to the run.
* ``id`` (else ``WANDB_RUN_ID``) is the run id; ``resume`` (else ``WANDB_RESUME``):
  ``True``/``"auto"``/``"allow"`` → ``allow``, ``"must"`` → ``must``, ``"never"``/``False`` →
  ``never``. A resumed run's steps continue from where it ended on this machine (``_resume``).
* ``mode`` (else ``WANDB_MODE``; ``WANDB_DISABLED=true`` means disabled): ``online``/``run``/
  ``shared`` → online, ``offline``/``dryrun`` → offline, ``disabled``.
* ``dir``, ``anonymous``, ``allow_val_change``, ``force``, ``save_code``, ``settings`` and
  ``magic`` are ignored; ``tensorboard``, ``sync_tensorboard``, ``monitor_gym``, ``fork_from``
  and ``resume_from`` raise ``NotImplementedError``. Other keywords are passed to ``rd.init`` (``endpoint``,
  ``api_key``, client options), which raises ``TypeError`` for unknown ones.
* A second ``init`` while a run is open returns that run (W&B's ``return_previous`` outside
  notebooks) unless ``reinit`` is ``True``/``"finish_previous"`` (the open run is finished
  first) or ``"create_new"`` (both stay open; the new one becomes ``wandb.run``).

Every process that calls ``init`` logs its own run, as W&B does: under a launcher (``RANK``,
``SLURM_PROCID``, ...) a rank other than 0 is not turned into a no-op run by rundial's
``distributed="rank0"`` rule (unless ``distributed=``/``distributed_rank=`` is passed).

At interpreter exit, a run never finished is finished (``completed``): its open row, summary
and saved files are sent first. An uncaught exception sends them, then rundial marks the run
``failed``.
"""

from __future__ import annotations

import atexit
import os
import sys
from types import TracebackType
from typing import Any

import rundial
from rundial._run.rank import detect_rank
from rundial.compat.wandb._config import as_config_dict
from rundial.compat.wandb._errors import DOCS
from rundial.compat.wandb._run import Run

_MODES = {"online": "online", "run": "online", "shared": "online", "offline": "offline",
          "dryrun": "offline", "disabled": "disabled"}
_RESUME = {True: "allow", "auto": "allow", "allow": "allow", "must": "must", "never": "never",
           False: "never"}
_UNSUPPORTED = ("tensorboard", "sync_tensorboard", "monitor_gym", "fork_from", "resume_from")

current: Run | None = None
_open: list[Run] = []
_previous_hook: Any = None
_inside = False  # the hook is running (see _excepthook)


def init(job_type: str | None = None, dir: Any = None, config: Any = None,
         project: str | None = None, entity: str | None = None, reinit: Any = None,
         tags: Any = None, group: str | None = None, name: str | None = None,
         notes: str | None = None, config_exclude_keys: Any = None,
         config_include_keys: Any = None, anonymous: Any = None, mode: str | None = None,
         allow_val_change: Any = None, resume: Any = None, force: Any = None,
         save_code: Any = None, id: str | None = None, settings: Any = None,
         magic: Any = None, **options: Any) -> Run:
    """Start a run (see the module docstring); ``ValueError``/``TypeError`` for bad arguments."""
    global current
    for key in _UNSUPPORTED:
        if options.pop(key, None):
            raise NotImplementedError(f"wandb.init({key}=...) is not supported by "
                                      f"rundial.compat.wandb; see {DOCS}")
    if current is not None:
        if reinit in (True, "finish_previous"):
            current.finish()
        elif reinit != "create_new":
            return current
    entity = entity or os.environ.get("WANDB_ENTITY") or None
    project = project or os.environ.get("WANDB_PROJECT") or None
    data = as_config_dict(config, config_include_keys, config_exclude_keys)
    tag_list = tuple(str(t) for t in tags) if tags else ()
    run_id = id or os.environ.get("WANDB_RUN_ID") or None
    resume_mode = _resume(resume if resume is not None else os.environ.get("WANDB_RESUME") or None)
    if "distributed" not in options and "distributed_rank" not in options and detect_rank() != 0:
        options["distributed_rank"] = 0  # W&B: every process that calls init logs its own run
    try:
        rd_run = rundial.init(project=project, workspace=entity, name=name, group=group,
                              job_type=job_type, tags=list(tag_list), config=data,
                              mode=_mode(mode), run_id=run_id, resume=resume_mode, **options)
    except ValueError as exc:
        if project is None and "needs project" in str(exc):
            raise ValueError("wandb.init() needs project= (or WANDB_PROJECT, RUNDIAL_PROJECT or a "
                             "rundial config-file profile): rundial has no default project "
                             "like W&B's 'uncategorized'") from exc
        raise
    run = Run(rd_run, data, project=rd_run.project, entity=rd_run.workspace, notes=notes,
              tags=tag_list,
              group=group, job_type=job_type, on_end=_forget,
              resumed=run_id is not None and resume_mode in ("allow", "must"))
    current = run
    _open.append(run)
    _install_excepthook()
    return run


def _mode(mode: str | None) -> str | None:
    if mode is None:
        if os.environ.get("WANDB_DISABLED", "").lower() in ("true", "1", "yes"):
            return "disabled"
        mode = os.environ.get("WANDB_MODE") or None
        if mode is None:
            return None
    try:
        return _MODES[mode.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"mode must be one of {sorted(_MODES)}, not {mode!r}") from None


def _resume(resume: Any) -> str | None:
    if resume is None:
        return None
    try:
        return _RESUME[resume]
    except (KeyError, TypeError):
        raise ValueError(f"resume must be True, False, 'allow', 'must', 'never' or 'auto', "
                         f"not {resume!r}") from None


def _forget(run: Run) -> None:
    """A run ended: it is no longer open, and no longer ``wandb.run``."""
    global current
    if run in _open:
        _open.remove(run)
    if current is run:
        current = _open[-1] if _open else None


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish ``wandb.run`` (nothing when there is none)."""
    if current is not None:
        current.finish(exit_code, quiet)


def _finish_open_runs() -> None:
    """atexit: finish every run left open (registered after rundial's hook, so it runs first)."""
    for run in list(_open):
        try:
            run.finish()
        except Exception:
            pass


def _install_excepthook() -> None:
    """Put :func:`_excepthook` in front of whatever ``sys.excepthook`` is now (once per change)."""
    global _previous_hook
    found = sys.excepthook
    if found is _excepthook:
        return
    _previous_hook, sys.excepthook = found, _excepthook


def _excepthook(exc_type: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    """An uncaught exception: send each open run's last row, summary and files; rundial's own
    hook (called before or after this one) marks the runs failed. rundial's hook and this one
    may wrap each other: a re-entered call prints the traceback with ``sys.__excepthook__``."""
    global _inside
    if _inside:
        sys.__excepthook__(exc_type, exc, tb)
        return
    _inside = True
    try:
        for run in list(_open):
            try:
                run._prepare_end()
            except Exception:
                pass
        (_previous_hook or sys.__excepthook__)(exc_type, exc, tb)
    finally:
        _inside = False


atexit.register(_finish_open_runs)
