# The "Quick Start" of goodseed's README (PyPI goodseed 0.4.0; MIT License, Copyright (c) 2026
# Matěj Kripner): its first code block verbatim, then its "Custom step values" and "Batch
# logging" lines inside a second run. Added for a runnable test: a seeded stand-in for the
# README's undefined train_step(), and the loop and values the README's lines refer to.
import random

import goodseed


def train_step():  # stand-in: the README leaves it to the reader
    return random.random()


run = goodseed.Run(name="my-experiment", tags=["bert"])

# Log configs (single values)
run["learning_rate"] = 0.001
run["batch_size"] = 32

# Log metrics (series of values)
for epoch in range(100):
    loss = train_step()
    run["train/loss"].log(loss, step=epoch)

run.close()

with goodseed.Run(name="batch-logging") as run:
    for i in range(20):
        acc = i / 20
        run["metric"].log(value=acc, step=i)

    run.log_configs({"learning_rate": 0.001, "batch_size": 32})
    for step in range(10):
        loss, acc = train_step(), train_step()
        run.log_metrics({"loss": loss, "acc": acc}, step=step)
