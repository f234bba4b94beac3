"""Run every benchmark in sequence (``make bench``); each prints its own figures.

Benchmarks never assert: they print medians and ratios to a baseline measured in the same run.
Run on a quiet machine; shared 2-core VMs move single figures by +-20%.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ["hotpath.py", "training_loop.py", "e2e_throughput.py", "collector_ingest.py",
              "query_series.py", "artifact_upload.py", "ui.py"]


def main() -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name)],
                                cwd=ROOT, env=env, check=False)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
