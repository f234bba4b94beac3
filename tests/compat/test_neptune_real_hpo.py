"""Neptune's ``hpo_single_run.py`` (a learning-rate sweep logged into one run, namespaced per
trial) under the real client and under the shim, what it recorded compared
(tests/compat/neptune_real.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat import neptune_real as nr
from tests.helpers.collector_proc import CollectorProcess

SCRIPT = "hpo_single_run.py"


@pytest.mark.slow
@pytest.mark.timeout(900)  # a real training script, run twice
def test_hpo_example_records_what_neptune_records(trackers: Path,
                                                  shared_collector: CollectorProcess,
                                                  tmp_path: Path) -> None:
    """Each trial's params (stringified as Neptune does) and batch loss and accuracy series,
    and the best trial's values, recorded alike by the real client and the shim."""
    nr.compare(nr.EXAMPLES / SCRIPT, nr.SCRIPTS[SCRIPT], trackers, shared_collector, tmp_path)
