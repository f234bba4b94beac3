"""Public W&B example scripts run twice, with only the import changed: under the real wandb
(offline, in its own cached venv) and under ``rundial.compat.wandb`` against the real collector.
What each recorded is compared: history rows at the same steps with the same values, config,
summary (define_metric aggregates included), and histograms, tables and images at the same steps.

The scripts live in tests/compat/wandb_examples/ (sources and the data-source-only changes are
in their headers). The real wandb's records are read back with wandb's own reader
(read_wandb_runs.py); the shim's over the collector's HTTP routes (records.py). When PyPI cannot
be reached, the venv cannot be built: the tests skip saying so (and fail in CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.compat.wandb_examples.records import create_project, differences, shim_runs
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.venvs import trackers_python

EXAMPLES = Path(__file__).parent / "wandb_examples"
SHIM_IMPORT = "import rundial.compat.wandb as wandb"
RUN_TIMEOUT_SECONDS = 300.0
HISTOGRAM_EDGE_REL = 1e-6  # W&B computes histogram edges in float32 for tensors

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass(frozen=True)
class Example:
    script: str
    args: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()  # projects the script names in wandb.init
    # (line, replacement) applied for the real wandb only, where it refuses the original line
    real_patch: tuple[str, str] | None = None
    known: tuple[str, ...] = field(default=())  # differences kept (docs/wandb-compat.md)


EXAMPLES_RUN = [
    Example("intro_quickstart.py", projects=("basic-intro", "pytorch-intro")),
    Example("define_metric.py", projects=("define-metric-demo",)),
    Example("metrics_at_different_steps.py", ("--max_epochs", "12", "--validate_every", "5"),
            # wandb 0.31's log() requires data; the shim runs the original wandb.log()
            real_patch=("        wandb.log()\n", "        wandb.log({})\n")),
    Example("launch_quickstart.py"),
    # an argparse Namespace into config.update, then a config attribute set
    Example("group_and_resume_train.py", ("--group_id", "exp-1", "--worker_index", "1")),
    Example("edge_cases.py", projects=("edge-cases",), known=(
        # docs/wandb-compat.md "Differences": a non-finite summary value is the text "inf"...
        "run 0 summary['grad']: real inf shim 'inf'",
        "run 0 summary['loss']: real -inf shim '-inf'",
        # ... and NaN/inf are not history points, so row 1 (NaN, inf) holds nothing and row 10
        # only its string (strings are log lines, read back as history by records.py).
        "run 0 history steps: real [0, 1, 2, 5, 6, 7, 10] shim [0, 2, 5, 6, 7, 10]",
        "run 0 history[10] keys: only real ['loss'], only shim []")),
    Example("pytorch_cnn_mnist.py", ("--epochs", "2", "--batch-size", "4", "--test-batch-size",
                                     "50", "--log-interval", "1000")),
    Example("plots.py", projects=("plots-demo",)),
    Example("media_files.py", projects=("media-files",)),
]


@pytest.fixture(scope="session")
def wandb_python() -> Path:
    """An interpreter with the real wandb (and torch, numpy, pillow) in .cache/wandb-venv."""
    return trackers_python()


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


@pytest.mark.parametrize("example", EXAMPLES_RUN, ids=[e.script for e in EXAMPLES_RUN])
def test_the_shim_records_what_wandb_records(example: Example, wandb_python: Path,
                                             collector: CollectorProcess, tmp_path: Path) -> None:
    real = real_records(wandb_python, example, tmp_path)
    shim = shim_records(collector, example, tmp_path)
    assert len(real) == len(shim), (len(real), len(shim))
    found: list[str] = []
    for i, (want, got) in enumerate(zip(real, shim)):
        if want["name"] is not None and want["name"] != got["name"]:
            found.append(f"run {i} name: real {want['name']} shim {got['name']}")
        found += [f"run {i} {line}" for line in differences(want, got, HISTOGRAM_EDGE_REL)]
    assert found == list(example.known), "\n".join(found)
