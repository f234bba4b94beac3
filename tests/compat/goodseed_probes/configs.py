# Written for rundial's tests (not a public example): goodseed's typed configs, flattening and
# steps in the style of its README, beyond what the public examples reach. Run under the real
# goodseed and the shim by tests/compat/test_goodseed_real_examples.py.
import argparse
import random
from datetime import datetime, timezone

import goodseed

run = goodseed.Run(name="probe", description="typed configs", tags=["probe", "typed"])
run.log_configs({
    "flag": True,
    "epochs": 10,
    "lr": 1e-3,
    "ratio": 3.0,
    "model": "resnet50",
    "started": datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc),
    "seed": None,
    "labels": {"cat", "dog"},
    "shape": [3, 224],
})
run["optimizer"] = {"name": "adam", "betas": (0.9, 0.999), "nested": {"warmup": 5},
                    "stages": [{"lr": 0.1}, {"lr": 0.01}], "when": None, "classes": {"only"}}
run["args"] = argparse.Namespace(batch_size=32, amp=False)
run.log_configs({"raw": {"a": 1}}, flatten=False)
run["sys/tags"].add("added")
run["sys/tags"].remove("typed")

for step in range(3):
    run["train/loss"].log(1.0 / (step + 1), step=None)
run["train/loss"].log(0.1, step=10)
run["train/loss"].log(0.05, step=None)
run["eval/acc"].log(0.5, step=7)
run["eval/acc"].log(0.4, step=3)
run.log_metrics({"a": 1, "b": 2.5}, step=0)
run.log_metrics({"a": random.random()}, step=None)
run.log_strings({"notes": "first"}, step=None)
run["notes"].log("second", step=None)
run["notes"].log("fifth", step=5)
run.close()
