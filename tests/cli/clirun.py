"""The result of running a CLI in-process, shared by the ``rundial`` and ``rundial-spool`` tests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class CliResult:
    """Exit code and captured output of one CLI invocation."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """The single JSON document printed on stdout."""
        lines = self.out.strip().splitlines()
        assert len(lines) == 1, self.out
        return json.loads(lines[0])

    def lines(self) -> list[Any]:
        """Every stdout line parsed as JSON."""
        return [json.loads(line) for line in self.out.strip().splitlines()]

    def error(self) -> Any:
        """The JSON error envelope printed on stderr."""
        return json.loads(self.err.strip().splitlines()[-1])


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess: HOME, no inherited RUNDIAL_*, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNDIAL_")}
    return {**env, "HOME": str(home), **extra}
