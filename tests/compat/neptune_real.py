"""Public Neptune example scripts (tests/compat/neptune_examples/) and our probes
(neptune_probes/) run under the real ``neptune`` 1.14 (offline mode, in the cached trackers
venv) and under our shim with only the imports swapped; what each recorded is compared field by
field, point by point (:func:`compare`, real_examples.py). The tests are test_neptune_real_*.py,
several files each well under a minute, so that the suite's two xdist workers share them.

Paths Neptune fills by itself (``monitoring/*``, ``source_code/*``, ``sys/*`` other than the
name, description and tags) are left out: the shim records those as rundial's own system
metrics, console lines and run metadata (docs/neptune-compat.md). A run started without a name
has Neptune's ``sys/name`` "Untitled" in its config, while the rundial run stays unnamed.

``hello_neptune.py`` goes on after its first ``run.stop()``: it reopens the run with
``mode="read-only"`` and fetches and downloads what it logged. The real client cannot do that
offline, so it runs the script up to that point (:data:`READ_BACK`); the shim runs all of it,
and what its fetches and downloads returned is compared with what the real client recorded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.compat import real_examples as rx
from tests.helpers.collector_proc import CollectorProcess

EXAMPLES = rx.HERE / "neptune_examples"
PROBES = rx.HERE / "neptune_probes"
SWAPS = [("import neptune", "import rundial.compat.neptune as neptune"),
         ("from neptune.types import File", "from rundial.compat.neptune.types import File"),
         ("from neptune.utils import stringify_unsupported",
          "from rundial.compat.neptune.utils import stringify_unsupported")]
KEPT_SYS = ("sys/name", "sys/description", "sys/tags")
# script -> the "workspace/project" it names (created in the collector, as its user would)
SCRIPTS = {"hello_neptune.py": "common/quickstarts", "hpo_single_run.py": "common/hpo",
           "save_checkpoints.py": "common/showroom"}
PROBE_SCRIPTS = {"casts.py": "common/probes", "files.py": "common/file-probes"}
# script -> the line where its read-back part starts (the real client runs up to it, then stops)
READ_BACK = {"hello_neptune.py": "# Save the run ID to resume the run later"}
# appended to the shim's copy of such a script: what its last read-only run fetches, as JSON
FETCHED_DUMP = """
import json as _json
_acc = run["accuracy"].fetch_values()
with open("fetched.json", "w") as _out:
    _json.dump({"seed": run["seed"].fetch(), "columns": list(_acc.columns),
                "accuracy": [[float(s), float(v)] for s, v in zip(_acc["step"], _acc["value"])],
                "timestamps": [type(t).__name__ for t in _acc["timestamp"]],
                "state": run["sys/state"].fetch(), "tags": sorted(run["sys/tags"].fetch())}, _out)
"""


def user_path(path: str) -> bool:
    """A path the script itself wrote (not Neptune's own monitoring/source/sys fields)."""
    if path.startswith("sys/"):
        return path in KEPT_SYS
    return not path.startswith(("monitoring/", "source_code/"))


def write_inputs(cwd: Path) -> None:
    """Files the scripts read: ``sample.png`` (hello_neptune uploads it)."""
    cwd.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.new("RGB", (8, 6), (200, 30, 60)).save(cwd / "sample.png")


def real_record(python: Path, script: str, cwd: Path) -> rx.Record:
    write_inputs(cwd)
    rx.run_script(python, script, cwd, {"NEPTUNE_MODE": "offline"})
    [record] = rx.dump(python, "neptune_offline_dump.py", cwd)
    return record


def real_part(name: str, script: str) -> str:
    """What the real client runs of ``script``: all of it, or (:data:`READ_BACK`) the part
    before its read-back, then ``run.stop()``."""
    if name not in READ_BACK:
        return script
    return script[:script.index(READ_BACK[name])] + "run.stop()\n"


def shim_record(proc: CollectorProcess, script: str, cwd: Path) -> rx.Record:
    write_inputs(cwd)
    swapped = rx.swap_imports(script, [s for s in SWAPS if s[0] in script.splitlines()])
    if any(marker in script for marker in READ_BACK.values()):
        swapped += FETCHED_DUMP
    output = rx.run_script(Path(sys.executable), swapped, cwd, rx.shim_env(proc, cwd))
    [run_id] = rx.run_ids(proc)
    record = rx.shim_record(proc, run_id)
    record["output"] = output
    return record


def compare(script_path: Path, full_name: str, python: Path, proc: CollectorProcess,
            tmp_path: Path) -> None:
    """Run the script both ways; assert the records agree (module docstring)."""
    script = script_path.read_text()
    real = real_record(python, real_part(script_path.name, script), tmp_path / "real")
    ours = shim_record(rx.project_view(proc, *full_name.split("/")), script, tmp_path / "shim")
    assert rx.differences(real, ours, user_path) == [], ours["output"]
    real_tags = real["fields"].get("sys/tags", ["string_set", []])[1]
    assert (ours["status"], ours["tags"]) == ("completed", sorted(real_tags))
    real_name = real["fields"]["sys/name"][1]
    assert ours["runName"] == (None if real_name == "Untitled" else real_name)
    if script_path.name in READ_BACK:
        check_read_back(real, ours["output"], tmp_path / "shim")


def check_read_back(real: rx.Record, output: str, cwd: Path) -> None:
    """hello_neptune's read-only part under the shim: the seed and the accuracy series it
    fetched, the image and the image series it downloaded, are what the real client recorded
    (its fetch_values as Neptune's DataFrame: step, value, timestamp)."""
    fetched: dict[str, Any] = json.loads((cwd / "fetched.json").read_text())
    assert f"Logged seed: {real['fields']['seed'][1]}" in output
    assert rx.differences({**EMPTY, "fields": {"seed": real["fields"]["seed"]},
                           "series": {"accuracy": real["series"]["accuracy"]}},
                          {**EMPTY, "fields": {"seed": rx.typed(fetched["seed"])},
                           "series": {"accuracy": fetched["accuracy"]}}, user_path) == []
    assert fetched["columns"] == ["step", "value", "timestamp"]
    assert set(fetched["timestamps"]) == {"Timestamp"}
    assert (fetched["state"], fetched["tags"]) == ("Inactive",
                                                   sorted(real["fields"]["sys/tags"][1]))
    image = cwd / "downloaded_single_image.png"
    assert [image.name, image.stat().st_size] == [image.name, real["files"]["single_image"][1]]
    assert image.read_bytes() == (cwd / "sample.png").read_bytes()
    series = sorted((cwd / "downloaded_image_series").iterdir(), key=lambda p: int(p.stem))
    assert [p.name for p in series] == [f"{i}.png" for i in range(len(
        real["images"]["image_series"]))]


EMPTY: dict[str, Any] = {"fields": {}, "series": {}, "strings": {}, "images": {}, "files": {}}
