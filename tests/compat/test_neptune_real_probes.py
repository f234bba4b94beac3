"""Our probes of what Neptune's examples do not reach (neptune_probes/) under the real client and
under the shim, what they recorded compared (tests/compat/neptune_real.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat import neptune_real as nr
from tests.helpers.collector_proc import CollectorProcess


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(nr.PROBE_SCRIPTS))
def test_probe_records_what_neptune_records(name: str, trackers: Path,
                                            shared_collector: CollectorProcess,
                                            tmp_path: Path) -> None:
    """Our probe of the value types and series calls the examples do not reach: numpy, torch
    and Python values assigned (Neptune's casts and skips), stringify_unsupported with and
    without expand, tag edits, implicit/explicit/extended steps, skipped NaN, dict appends,
    string and image series (casts.py); in-memory files (as_html, from_content, from_stream,
    as_pickle: names and sizes) and track_files hashes (files.py) — recorded alike."""
    nr.compare(nr.PROBES / name, nr.PROBE_SCRIPTS[name], trackers, shared_collector, tmp_path)
