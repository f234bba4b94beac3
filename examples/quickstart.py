"""Log a short training run to a local collector.

Reads RUNDIAL_ENDPOINT and RUNDIAL_API_KEY from the environment (``make run`` sets both).
"""

from __future__ import annotations

import math

import rundial as rd


def main() -> None:
    with rd.init(workspace="default-workspace", project="default-project",
                 name="quickstart", config={"lr": 1e-3, "batch_size": 32}) as run:
        for step in range(200):
            loss = 2.0 * math.exp(-step / 50.0) + 0.05
            run.log({"train/loss": loss, "train/acc": 1.0 - loss / 2.5}, step=step)
    diag = run.diagnostics()
    print(f"logged 200 steps to run {run.run_id}: {diag.accepted_points} points accepted, "
          f"dropped {diag.dropped or 'nothing'}, health {diag.health}")


if __name__ == "__main__":
    main()
