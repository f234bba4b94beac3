"""W&B's API over rundial: ``import rundial.compat.wandb as wandb``.

Swapping the import line of a W&B training script records the same history rows at the same
steps, config, summary, images, tables and histograms in rundial, through rundial's
non-blocking pipeline (nothing here waits for the network). ``docs/wandb-compat.md`` lists the
supported surface and every difference. Any other attribute raises ``NotImplementedError``
pointing there. Importing this module loads neither numpy, torch nor Pillow.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Mapping
from typing import Any

from rundial.compat.wandb import _session
from rundial.compat.wandb._artifact import Artifact
from rundial.compat.wandb._media import EvalTable, Histogram, Image, Table
from rundial.compat.wandb._errors import DOCS, Unsupported
from rundial.compat.wandb._run import Run
from rundial.compat.wandb._session import finish, init
from rundial.compat.wandb._summary import Metric
# wandb.plot and file media (Video, Audio, Html): docs/wandb-compat.md
from rundial.compat.wandb import plot
from rundial.compat.wandb._media_files import Audio, Html, Video
# image boxes/masks/classes and wandb.util (docs/wandb-compat.md, "Media")
from rundial.compat.wandb import util
from rundial.compat.wandb._image_overlays import Classes
from rundial.compat.wandb._object3d import Molecule, Object3D
from rundial.compat.wandb._plot import plot_table

__all__ = [
    "AlertLevel",
    "Artifact",
    "Audio",
    "Classes",
    "Html",
    "Video",
    "plot",
    "plot_table",
    "EvalTable",
    "Histogram",
    "Image",
    "Metric",
    "Molecule",
    "Object3D",
    "Run",
    "Settings",
    "Table",
    "alert",
    "define_metric",
    "finish",
    "init",
    "join",
    "link_model",
    "log",
    "log_artifact",
    "log_model",
    "login",
    "require",
    "save",
    "setup",
    "termerror",
    "termlog",
    "termwarn",
    "unwatch",
    "use_artifact",
    "use_model",
    "util",
    "watch",
]


class AlertLevel(str, enum.Enum):
    """``wandb.AlertLevel``: the level named in an alert's log line."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class Settings:
    """``wandb.Settings(...)``: accepts any keyword and keeps it; rundial ignores them."""

    def __init__(self, **settings: Any) -> None:
        self.__dict__.update(settings)


def setup(settings: Any = None) -> None:
    """Accepted, does nothing (rundial needs no service process)."""


def termlog(string: str = "", newline: bool = True, repeat: bool = True) -> None:
    """Print ``wandb: <string>`` on stderr, as W&B's terminal helpers do."""
    print(f"wandb: {string}", file=sys.stderr, end="\n" if newline else "")


def termwarn(string: str, repeat: bool = True) -> None:
    termlog(f"WARNING {string}")


def termerror(string: str, repeat: bool = True) -> None:
    termlog(f"ERROR {string}")


join = finish  # wandb 0.31 keeps this older name of finish


def _active(call: str) -> Run:
    run = _session.current
    if run is None:
        raise RuntimeError(f"call wandb.init() before wandb.{call}()")
    return run


def log(data: Mapping[str, Any] | None = None, step: int | None = None,
        commit: bool | None = None, sync: bool | None = None) -> None:
    """``wandb.run.log`` (``RuntimeError`` before ``wandb.init``)."""
    _active("log").log(data, step=step, commit=commit)


def define_metric(name: str, step_metric: Any = None, step_sync: bool | None = None,
                  hidden: bool | None = None, summary: str | None = None,
                  goal: str | None = None, overwrite: bool | None = None) -> Metric:
    return _active("define_metric").define_metric(name, step_metric, step_sync, hidden, summary,
                                                  goal, overwrite)


def watch(models: Any, criterion: Any = None, log: str | None = "gradients",
          log_freq: int = 1000, idx: int | None = None, log_graph: bool = False) -> None:
    _active("watch").watch(models, criterion, log, log_freq, idx, log_graph)


def unwatch(models: Any = None) -> None:
    _active("unwatch").unwatch(models)


def save(glob_str: str, base_path: str | None = None, policy: str = "live") -> list[str]:
    return _active("save").save(glob_str, base_path, policy)


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    _active("alert").alert(title, text, level, wait_duration)


# -- artifacts and models (_artifact_run) -------------------------------------------------------
def log_artifact(artifact_or_path: Any, name: str | None = None, type: str | None = None,
                 aliases: Any = None, tags: Any = None) -> Artifact:
    return _active("log_artifact").log_artifact(artifact_or_path, name, type, aliases, tags)


def use_artifact(artifact_or_name: Any, type: str | None = None, aliases: Any = None,
                 use_as: str | None = None) -> Artifact:
    return _active("use_artifact").use_artifact(artifact_or_name, type, aliases)


def log_model(path: Any, name: str | None = None, aliases: Any = None) -> None:
    _active("log_model").log_model(path, name, aliases)


def use_model(name: str) -> str:
    return _active("use_model").use_model(name)


def link_model(path: Any, registered_model_name: str, name: str | None = None,
               aliases: Any = None) -> None:
    _active("link_model").link_model(path, registered_model_name, name, aliases)


def login(key: str | None = None, relogin: bool | None = None, host: str | None = None,
          force: bool | None = None, timeout: int | None = None, anonymous: Any = None,
          verify: bool = False, **_ignored: Any) -> bool:
    """Never contacts a server: a ``key`` becomes ``RUNDIAL_API_KEY`` for later runs; the rest
    is ignored (rundial finds its endpoint and key as ``rd.init`` does). Returns True."""
    if key is not None:
        if not isinstance(key, str) or not key.strip():
            raise ValueError("wandb.login(key=...) needs a non-empty str")
        os.environ["RUNDIAL_API_KEY"] = key.strip()
    return True


def require(requirement: str | None = None, experiment: Any = None) -> None:
    """Accepted and ignored (W&B feature flags have no meaning for rundial)."""


def __getattr__(name: str) -> Any:
    if name == "run":
        return _session.current
    if name in ("config", "summary"):
        return getattr(_active(name), name)
    if name.startswith("_"):  # dunders and private submodules (imported on use)
        raise AttributeError(name)
    raise Unsupported(f"wandb.{name} is not supported by rundial.compat.wandb; see {DOCS} for the "
                      "supported surface")
