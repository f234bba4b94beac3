"""The eval pytest plugin: ``pytest -p rundial.eval_pytest_plugin`` (v1 doc §9).

Each test becomes one eval result: a span ``pytest:<nodeid>`` around the test call and one row
(example id = the node id, score 1.0 or 0.0, ``passed``, meta ``{"pytestWhen": "call"}``) for
the eval run ``RUNDIAL_EVAL_RUN_ID``, logged to the existing run ``RUNDIAL_RUN_ID`` of project
``RUNDIAL_PROJECT_ID`` (scorer ``RUNDIAL_EVAL_SCORER``, default ``pytest``). Without those three
variables the plugin does nothing. It never starts, attaches or finishes the run: the run is
created beforehand (``suite.run(...)``, or the CLI) and ended by whoever created it.

Delivery: the span and rows are queued (no I/O in a test) and sent by the SDK's background
worker through the spool (``RUNDIAL_SPOOL_DIR``), to ``RUNDIAL_ENDPOINT`` with
``RUNDIAL_API_KEY``. At the end of the session the plugin waits up to
:data:`FLUSH_TIMEOUT_SECONDS` for delivery; what is not delivered by then stays in the spool
and is sent by the next process using it. A node id over 256 characters cannot be an example
id: that test is skipped with a warning. Settings or ids the SDK refuses (a run id with ``/``,
a scorer over 128 characters) disable the plugin or skip the result with a warning: the session
never fails because of the plugin.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Generator
from typing import Any

import pytest

from rundial._config import build_settings
from rundial._wire.evals import MAX_EXAMPLE_ID_CHARS
from rundial._run.init import batch_header, run_document
from rundial._run.run import Run

FLUSH_TIMEOUT_SECONDS = 5.0
_state: dict[str, Any] = {}  # "run", "eval_run_id", "scorer" once configured; "off" if not


def _env(name: str) -> str | None:
    value = (os.environ.get(name) or "").strip()
    return value or None


def _configured() -> tuple[Run, str, str] | None:
    """The run, eval run id and scorer from the environment (built once); None when unset."""
    if "run" in _state:
        return _state["run"], _state["eval_run_id"], _state["scorer"]
    if "off" in _state:
        return None
    project_id, run_id = _env("RUNDIAL_PROJECT_ID"), _env("RUNDIAL_RUN_ID")
    eval_run_id = _env("RUNDIAL_EVAL_RUN_ID")
    if project_id is None or run_id is None or eval_run_id is None:
        _state["off"] = True
        return None
    try:
        settings = dataclasses.replace(
            build_settings({"project": project_id, "run_id": run_id, "kind": "eval",
                            "system_metrics": False, "handle_sigterm": False}), workspace=None)
    except (TypeError, ValueError) as exc:
        warnings.warn(f"rundial: eval plugin disabled: {exc}", stacklevel=1)
        _state["off"] = True
        return None
    doc = run_document(settings, run_id, "allow")
    run = Run(settings, doc, batch_header(settings, run_id, 0), registering=False)
    _state.update(run=run, eval_run_id=eval_run_id,
                  scorer=_env("RUNDIAL_EVAL_SCORER") or "pytest")
    return run, eval_run_id, _state["scorer"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Generator[None, Any, None]:
    """Wrap the test call in a span and log its outcome as one eval result."""
    configured = _configured()
    if configured is None:
        yield
        return
    run, eval_run_id, scorer = configured
    span = run.trace(f"pytest:{item.nodeid}")
    span.__enter__()
    outcome = yield
    excinfo = outcome.excinfo
    span.__exit__(*(excinfo or (None, None, None)))
    if len(item.nodeid) > MAX_EXAMPLE_ID_CHARS:
        warnings.warn(f"rundial: test id over {MAX_EXAMPLE_ID_CHARS} characters is not logged "
                      f"as an eval result: {item.nodeid[:80]}...", stacklevel=1)
        return
    passed = excinfo is None
    try:
        run.log_eval_result(eval_run_id, item.nodeid, scores={scorer: 1.0 if passed else 0.0},
                            passed={scorer: passed}, trace=span, meta={"pytestWhen": "call"})
    except (TypeError, ValueError) as exc:  # e.g. an eval run id or scorer the SDK refuses
        warnings.warn(f"rundial: eval result of {item.nodeid[:80]} not logged: {exc}",
                      stacklevel=1)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Deliver what was logged (at most :data:`FLUSH_TIMEOUT_SECONDS`), without ending the run."""
    del session, exitstatus
    run = _state.pop("run", None)
    _state.clear()
    if run is not None:
        run.finish(FLUSH_TIMEOUT_SECONDS)
