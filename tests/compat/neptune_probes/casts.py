# Written for rundial's tests (not a public example): the value types and series calls of
# Neptune's docs that the public examples do not reach, in the docs' style. Run under the real
# client and the shim by tests/compat/test_neptune_real_probes.py.
from datetime import datetime, timezone

import neptune
import numpy as np
import torch
from neptune.utils import stringify_unsupported
from PIL import Image

run = neptune.init_run(project="common/probes", name="casts", description="value types",
                       tags=["probe"])

run["numpy/int64"] = np.int64(7)
run["numpy/float32"] = np.float32(0.25)
run["numpy/bool"] = np.bool_(True)
run["torch/int"] = torch.tensor(3)
run["torch/float"] = torch.tensor(0.5)
run["python/bool"] = False
run["python/int"] = 42
run["python/float"] = 3.0
run["python/str"] = "text"
run["python/datetime"] = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
run["python/big_int"] = 2**40
run["python/nan"] = float("nan")
run["python/list"] = [1, 2]
run["python/none"] = None
run["namespace"] = {"a": 1, "b": {"c": "d"}}

params = {"big": 2**40, "nan": float("nan"), "shape": (3, 32), "path": None, "ok": 1.5}
run["stringified"] = stringify_unsupported(params)
run["expanded"] = stringify_unsupported({"layers": [64, 32], "pair": ("a", 1)}, expand=True)

run["sys/tags"].add(["added", "removed"])
run["sys/tags"].remove("removed")

for i in range(3):
    run["series/implicit"].append(i * 0.5)
run["series/explicit"].append(1.0, step=10)
run["series/explicit"].append(2.0)
run["series/explicit"].extend([3.0, 4.0])
run["series/numpy"].append(np.float32(0.125))
run["series/torch"].append(torch.tensor(2))
run["series/skipped"].append(float("nan"))
run["series/skipped"].append(1.0)
run["series/dict"].append({"loss": 0.9, "acc": 0.1})
run["series/dict"].append({"loss": 0.8, "acc": 0.2})
run["series/old_log"].log([5.0, 6.0])
run["text"].append("first")
run["text"].append("second", step=5)
run["images"].append(Image.new("RGB", (4, 4), (0, 128, 255)))
run["images"].append(Image.new("RGB", (4, 4), (255, 0, 0)))

run.stop()
