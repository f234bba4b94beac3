"""Neptune's ``hello_neptune.py`` (its read-only fetches and downloads too) and
``save_checkpoints.py`` under the real client and under the shim, what they recorded compared
(tests/compat/neptune_real.py; the HPO example is in test_neptune_real_hpo.py, our probes in
test_neptune_real_probes.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat import neptune_real as nr
from tests.helpers.collector_proc import CollectorProcess


@pytest.mark.slow
@pytest.mark.timeout(900)  # real training scripts, run twice
@pytest.mark.parametrize("name", ["hello_neptune.py", "save_checkpoints.py"])
def test_example_records_what_neptune_records(name: str, trackers: Path,
                                              shared_collector: CollectorProcess,
                                              tmp_path: Path) -> None:
    """Every field (with its type), series point (steps included, implicit ones too), string
    set and uploaded file the real client recorded, the shim recorded the same; the run's own
    name and tags equal Neptune's sys/name and sys/tags, and it ended completed."""
    nr.compare(nr.EXAMPLES / name, nr.SCRIPTS[name], trackers, shared_collector, tmp_path)
