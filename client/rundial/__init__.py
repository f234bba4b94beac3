"""rundial: a non-blocking experiment-tracking SDK.

    import rundial as rd

    with rd.init(project="my-proj", workspace="my-ws", config={"lr": 1e-3}) as run:
        for step in range(1000):
            run.log({"loss": 0.1, "acc": 0.9})

``run.log`` costs well under a microsecond and never waits for the network or the disk; a
background worker batches, compresses, sends and spools. See ``docs/sdk.md``.
"""

from rundial._artifacts.handle import ArtifactHandle
from rundial._config import Settings
from rundial._diagnostics import Diagnostics
from rundial._eval.suite import EVAL as eval, EvalNamespace, RundialEvalSuite
from rundial._http.client import Client, RundialRequestError
from rundial._http.transport import (HttpTransport, MockTransport, Request, Response, Transport,
                                     TransportError)
from rundial._media import Image, Table
from rundial._pipeline.replay import ReplayResult, replay_spool
from rundial._producers.trace import Span
from rundial._published import ConfigValue, Distributed, Mode, ResumeMode, RunKind
from rundial._run.init import checkpoint, init
from rundial._run.noop import NoopRun
from rundial._run.run import Run
from rundial._version import __version__

# The published rundial 1.0.0rc1 SDK's names for our classes (docs/sdk.md, "Published names").
RundialClient = Client
RundialDiagnostics = Diagnostics
RundialRun = Run
RundialSpan = Span

__all__ = [
    "ArtifactHandle",
    "Client",
    "ConfigValue",
    "Diagnostics",
    "Distributed",
    "EvalNamespace",
    "HttpTransport",
    "Image",
    "MockTransport",
    "Mode",
    "NoopRun",
    "ReplayResult",
    "Request",
    "Response",
    "ResumeMode",
    "Run",
    "RunKind",
    "RundialClient",
    "RundialDiagnostics",
    "RundialEvalSuite",
    "RundialRequestError",
    "RundialRun",
    "RundialSpan",
    "Settings",
    "Span",
    "Table",
    "Transport",
    "TransportError",
    "checkpoint",
    "eval",
    "init",
    "replay_spool",
]
