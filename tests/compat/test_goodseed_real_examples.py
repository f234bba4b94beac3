"""Public goodseed example scripts (tests/compat/goodseed_examples/) run under the real
``goodseed`` 0.4.0 (``storage="local"`` by environment, in its cached venv) and under our shim
with only the import swapped; every run each recorded is compared, configs with their goodseed
types (real_examples.py).

Left out of the comparison: ``monitoring/*`` (goodseed's own hardware and console capture; the
shim leaves those to rundial's system metrics and console lines) and the values of ``sys/id``,
``sys/creation_time`` and ``sys/closed_time`` (ids and clocks differ; their types are compared).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.compat import real_examples as rx
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.venvs import trackers_python

EXAMPLES = rx.HERE / "goodseed_examples"
PROBES = rx.HERE / "goodseed_probes"
SWAPS = [("import goodseed", "from rundial.compat import goodseed")]
UNEQUAL = ("sys/id", "sys/creation_time", "sys/closed_time")
# script -> the project of the shared collector its runs go to: the one mlp.py names, else
# one of its own (goodseed's "default" is RUNDIAL_PROJECT here), so each sees only its runs
SCRIPTS = {"quickstart.py": "gs-quickstart", "resume.py": "gs-resume", "mlp.py": "examples"}
PROBE_SCRIPTS = {"configs.py": "gs-probe"}
STATUS = {"finished": "completed", "failed": "failed"}


def compared(path: str) -> bool:
    return path not in UNEQUAL and not path.startswith("monitoring/")


@pytest.fixture(scope="module")
def goodseed_python() -> Path:
    return trackers_python()


def real_records(python: Path, script: str, cwd: Path) -> list[rx.Record]:
    rx.run_script(python, script, cwd, {"GOODSEED_HOME": str(cwd / "home"),
                                        "GOODSEED_STORAGE": "local"})
    return rx.dump(python, "goodseed_local_dump.py", cwd)


def shim_records(proc: CollectorProcess, script: str, cwd: Path) -> list[rx.Record]:
    env = {**rx.shim_env(proc, cwd), "RUNDIAL_WORKSPACE": proc.workspace,
           "RUNDIAL_PROJECT": proc.project}
    output = rx.run_script(Path(sys.executable), rx.swap_imports(script, SWAPS), cwd, env)
    records = [rx.shim_record(proc, run_id) for run_id in rx.run_ids(proc)]
    for record in records:
        record["output"] = output
    return records


def compare(script_path: Path, project: str, python: Path, proc: CollectorProcess,
            tmp_path: Path) -> None:
    """Run the script both ways; assert the records agree run for run (module docstring)."""
    script = script_path.read_text()
    real = real_records(python, script, tmp_path / "real")
    ours = shim_records(rx.project_view(proc, proc.workspace, project), script,
                        tmp_path / "shim")
    assert len(ours) == len(real) > 0, [r.get("output") for r in ours[:1]]
    for theirs, mine in zip(real, ours):
        assert rx.differences(theirs, mine, compared) == [], mine["output"]
        for path in UNEQUAL:
            assert (theirs["fields"].get(path, [None])[0]
                    == mine["fields"].get(path, [None])[0]), path
        assert mine["status"] == STATUS[theirs["status"]]
        assert mine["runName"] == theirs["fields"].get("sys/name", [None, None])[1]
        assert mine["tags"] == theirs["fields"].get("sys/tags", [None, []])[1]


@pytest.mark.slow
@pytest.mark.timeout(900)  # real training scripts, run twice
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_example_records_what_goodseed_records(name: str, goodseed_python: Path,
                                               shared_collector: CollectorProcess,
                                               tmp_path: Path) -> None:
    """Run for run: every config (value and goodseed type), metric point and string point at
    the same steps; sys/* fields of the same types; the run's status, name and tags agree."""
    compare(EXAMPLES / name, SCRIPTS[name], goodseed_python, shared_collector, tmp_path)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(PROBE_SCRIPTS))
def test_probe_records_what_goodseed_records(name: str, goodseed_python: Path,
                                             shared_collector: CollectorProcess,
                                             tmp_path: Path) -> None:
    """Our probe of goodseed's typed configs (every type, top level and nested; lists, tuples
    and sets inside dicts; flatten=False; a Namespace), tag edits, and steps (implicit after
    explicit, out of order, per path), recorded alike."""
    compare(PROBES / name, PROBE_SCRIPTS[name], goodseed_python, shared_collector, tmp_path)
