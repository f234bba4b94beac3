# Not a W&B example: our own script for the cases the public examples do not reach (the brief's
# known suspects): NaN/inf and strings in history, commit=False then step=, a step below the
# current one, nested dicts in log and summary, define_metric with step_metric, globs and
# repeated definitions (merged, or replaced with overwrite=True).
import math

import wandb

run = wandb.init(project="edge-cases", config={"opt": {"name": "adam", "betas": [0.9, 0.99]}})
wandb.define_metric("epoch")
wandb.define_metric("val/*", step_metric="epoch", summary="min,max,mean,last")
wandb.define_metric("acc", summary="max,first")
wandb.define_metric("acc", hidden=True)  # merged: the summary stays max,first
wandb.define_metric("lr", summary="max")
wandb.define_metric("lr", hidden=True, overwrite=True)  # replaced: the summary is the last value
wandb.log({"loss": 1.0, "note": "warmup"})
wandb.log({"loss": float("nan"), "grad": math.inf})
wandb.log({"loss": 0.5}, commit=False)
wandb.log({"acc": 0.7}, step=5)
wandb.log({"acc": 0.8, "nested": {"a": 1, "b": {"c": 2.5}}, "lr": 0.1}, step=5)
wandb.log({"late": 1.0}, step=3)
wandb.log({"epoch": 0, "val/loss": 0.9})
wandb.log({"val/loss": 0.4, "val/acc": 0.6, "acc": 0.75, "lr": 0.05})
wandb.log({"epoch": 1, "val/loss": 0.6, "flag": True})
wandb.log({"loss": -math.inf, "text": "done"}, step=10, commit=True)
run.summary["final"] = {"score": 0.93, "parts": {"x": 1}}
run.summary.update({"best_epoch": 1})
wandb.finish()
