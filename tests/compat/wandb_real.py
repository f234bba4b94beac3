"""Public W&B example scripts run twice, with only the import changed: under the real wandb
(offline, in the cached trackers venv) and under ``rundial.compat.wandb`` against the real
collector. What each recorded is compared: history rows at the same steps with the same values,
config, summary (define_metric aggregates included), and histograms, tables and images at the
same steps (:func:`check_example`).

The scripts live in tests/compat/wandb_examples/ (sources and the data-source-only changes are
in their headers). The real wandb's records are read back with wandb's own reader
(read_wandb_runs.py); the shim's over the collector's HTTP routes (records.py). When PyPI cannot
be reached, the venv cannot be built: the tests skip saying so (and fail in CI).

The examples are tested in several files (test_wandb_real_*.py), each well under a minute, so
that the suite's two xdist workers share them (a file runs whole on one worker).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.compat.wandb_examples.records import create_project, differences, shim_runs
from tests.helpers.collector_proc import CollectorProcess

EXAMPLES = Path(__file__).parent / "wandb_examples"
SHIM_IMPORT = "import rundial.compat.wandb as wandb"
RUN_TIMEOUT_SECONDS = 300.0
HISTOGRAM_EDGE_REL = 1e-6  # W&B computes histogram edges in float32 for tensors


@dataclass(frozen=True)
class Example:
    """One script of wandb_examples/ and how it is run and compared."""

    script: str
    args: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()  # projects the script names in wandb.init
    # (line, replacement) applied for the real wandb only, where it refuses the original line
    real_patch: tuple[str, str] | None = None
    known: tuple[str, ...] = field(default=())  # differences kept (docs/wandb-compat.md)


def _clean_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WANDB_", "RUNDIAL_", "PYTHON"))}
    return {**env, "HOME": str(home), "WANDB_SILENT": "true", **extra}


def _run(python: Path | str, script: Path, example: Example, cwd: Path,
         env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), str(EXAMPLES / "run_example.py"), str(script),
                           *example.args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_SECONDS)


def real_records(python: Path, example: Example, tmp: Path) -> list[dict[str, Any]]:
    """Run the script under the real wandb (offline) and read its runs back."""
    import json

    cwd = tmp / "real"
    cwd.mkdir()
    script = EXAMPLES / example.script
    if example.real_patch is not None:
        script = _patched(script, *example.real_patch, tmp / f"real-{example.script}")
    proc = _run(python, script, example, cwd, _clean_env(cwd, {
        "WANDB_MODE": "offline", "WANDB_PROJECT": "examples", "WANDB_DIR": str(cwd)}))
    assert proc.returncode == 0, proc.stderr[-4000:]
    read = subprocess.run([str(python), str(EXAMPLES / "read_wandb_runs.py"), str(cwd / "wandb")],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    assert read.returncode == 0, read.stderr[-4000:]
    runs: list[dict[str, Any]] = json.loads(read.stdout)
    return runs


def _patched(script: Path, line: str, replacement: str, out: Path) -> Path:
    """A copy of ``script`` with its one ``line`` replaced."""
    text = script.read_text()
    assert text.count(line) == 1, f"{script.name}: expected one {line!r}"
    out.write_text(text.replace(line, replacement))
    return out


def shim_script(example: Example, tmp: Path) -> Path:
    """The script with its ``import wandb`` line (exactly one) swapped for the shim's."""
    text = (EXAMPLES / example.script).read_text()
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.strip() == "import wandb"]
    assert len(hits) == 1, f"{example.script}: expected one 'import wandb' line, found {hits}"
    indent = lines[hits[0]][: len(lines[hits[0]]) - len(lines[hits[0]].lstrip())]
    lines[hits[0]] = f"{indent}{SHIM_IMPORT}\n"
    out = tmp / example.script
    out.write_text("".join(lines))
    return out


def shim_records(collector: CollectorProcess, example: Example,
                 tmp: Path) -> list[dict[str, Any]]:
    """Run the script under the shim against ``collector`` and read its runs back."""
    cwd = tmp / "shim"
    cwd.mkdir()
    projects = {slug: create_project(collector, slug) for slug in example.projects}
    projects[collector.project] = collector.project
    proc = _run(sys.executable, shim_script(example, tmp), example, cwd, _clean_env(cwd, {
        "RUNDIAL_ENDPOINT": collector.url, "RUNDIAL_API_KEY": collector.api_key,
        "RUNDIAL_SPOOL_DIR": str(cwd / "spool"), "WANDB_ENTITY": collector.workspace,
        "WANDB_PROJECT": collector.project}))
    assert proc.returncode == 0, proc.stderr[-4000:]
    return shim_runs(collector, projects)


def check_example(example: Example, python: Path, collector: CollectorProcess,
                  tmp: Path) -> None:
    """Run ``example`` under the real wandb (``python``) and under the shim against
    ``collector``; assert the runs agree but for the differences the example lists as known."""
    real = real_records(python, example, tmp)
    shim = shim_records(collector, example, tmp)
    assert len(real) == len(shim), (len(real), len(shim))
    found: list[str] = []
    for i, (want, got) in enumerate(zip(real, shim)):
        if want["name"] is not None and want["name"] != got["name"]:
            found.append(f"run {i} name: real {want['name']} shim {got['name']}")
        found += [f"run {i} {line}" for line in differences(want, got, HISTOGRAM_EDGE_REL)]
    assert found == list(example.known), "\n".join(found)
