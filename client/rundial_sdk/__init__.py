"""The published SDK's low-level package name, kept working: ``from rundial_sdk import ...``.

rundial 1.0.0rc1 documents ``from rundial_sdk import RundialClient`` as still supported. This
package holds no code of its own: every name is one of ``rundial``'s classes or type aliases
(``RundialRun`` is :class:`rundial.Run`, ``RundialClient`` is :class:`rundial.Client`, ...), so
objects from either import are the same. See docs/sdk.md, "Published names".
"""

from rundial import (Image, RundialClient, RundialDiagnostics, RundialEvalSuite,
                     RundialRequestError, RundialRun, RundialSpan, RunKind, Table)
from rundial._eval.run import RundialEvalRun
from rundial._published import DiagnosticsHealth
from rundial._published import Distributed as DistributedPolicy
from rundial._published import Mode as ClientMode

__all__ = [
    "ClientMode",
    "DiagnosticsHealth",
    "DistributedPolicy",
    "Image",
    "RunKind",
    "RundialClient",
    "RundialDiagnostics",
    "RundialEvalRun",
    "RundialEvalSuite",
    "RundialRequestError",
    "RundialRun",
    "RundialSpan",
    "Table",
]
