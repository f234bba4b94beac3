"""Neptune-style tracking on rundial: ``import rundial.compat.neptune as neptune``.

    import rundial.compat.neptune as neptune

    run = neptune.init_run(project="my-ws/my-proj", tags=["baseline"])
    run["parameters"] = {"lr": 1e-3, "batch_size": 64}
    for epoch in range(10):
        run["train/loss"].append(loss)
    run.stop()

Supported surface, where each call's data goes and the differences from Neptune:
docs/neptune-compat.md. Anything else raises ``NotImplementedError`` naming that page.
"""

from __future__ import annotations

from typing import Any

from rundial.compat import _keyed
from rundial.compat._typed import restore_types
from rundial.compat.neptune._run import DOC, Handler, Run as _Run
from rundial.compat.neptune._init import READ_ONLY, open_read_only, rundial_mode, start
from rundial.compat.neptune._project import Project, init_project

__all__ = ["ANONYMOUS_API_TOKEN", "Handler", "Project", "Run", "init_project", "init_run",
           "restore_types"]

ANONYMOUS_API_TOKEN = "ANONYMOUS"  # Neptune's public token: not a rundial key, so ignored


class Run(_Run):
    """``neptune.Run(...)``: the same arguments as :func:`init_run`."""

    def __init__(self, with_id: str | None = None, *, project: str | None = None,
                 api_token: str | None = None, custom_run_id: str | None = None,
                 mode: str | None = None, name: str | None = None,
                 description: str | None = None, tags: Any = None,
                 capture_stdout: bool | None = None, capture_stderr: bool | None = None,
                 capture_hardware_metrics: bool | None = None,
                 flush_period: float | None = None, **options: Any) -> None:
        if rundial_mode(mode) == READ_ONLY:
            noop, reader = open_read_only(with_id, project=project, api_token=api_token,
                                          options=options)
            super().__init__(noop, reader=reader)
            return
        transport = options.get("transport")
        rd_run, resumed = start(with_id, project=project, api_token=api_token,
                       custom_run_id=custom_run_id, mode=mode, name=name, tags=tags,
                       capture_stdout=capture_stdout, capture_stderr=capture_stderr,
                       capture_hardware_metrics=capture_hardware_metrics,
                       flush_period=flush_period, options=options)
        super().__init__(rd_run, name=name, description=description, tags=tags,
                         resumed=resumed, transport=transport)


def init_run(with_id: str | None = None, **kwargs: Any) -> Run:
    """Start (or with ``with_id`` resume) a run; never waits for the network.

    Raises only for programming errors: an unknown argument (``TypeError``), an invalid value
    or no project anywhere (``ValueError``). ``mode="read-only"`` opens an existing run
    (``with_id``) for reading: it looks the run up at once (``RunNotFound``, ``FetchError``) and
    writes nothing (docs/neptune-compat.md).
    """
    return Run(with_id, **kwargs)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _keyed.unsupported("neptune", f"neptune.{name}", DOC)
