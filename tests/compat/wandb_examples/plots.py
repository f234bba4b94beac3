# Not a W&B example: our own script logging every wandb.plot chart that needs no scikit-learn
# (the real wandb's venv has none; pr_curve and roc_curve are compared in
# tests/compat/test_wandb_real_plots.py), at several steps, a nested key and a split table, in
# the style of W&B's "Log plots" guide.
import math

import numpy as np

import wandb

rng = np.random.RandomState(3)
run = wandb.init(project="plots-demo", config={"classes": 3})
for epoch in range(3):
    points = [[i, math.sin(i / 4 + epoch), f"s{i % 2}"] for i in range(20)]
    table = wandb.Table(data=points, columns=["step", "height", "series"])
    y_true = rng.randint(0, 3, size=50)
    probs = rng.dirichlet([1.0, 1.0, 1.0], size=50)
    wandb.log({
        "loss": 1.0 / (epoch + 1),
        "line": wandb.plot.line(table, "step", "height", stroke="series", title="height"),
        "scatter": wandb.plot.scatter(table, "step", "height", split_table=True),
        "eval": {"hist": wandb.plot.histogram(table, "height", title="heights"),
                 "conf": wandb.plot.confusion_matrix(probs=probs, y_true=y_true.tolist(),
                                                     class_names=["a", "b", "c"])},
    })
bars = wandb.Table(data=[["car", 0.5], ["bus", 0.25], ["road", 0.75]], columns=["class", "acc"])
wandb.log({"bar": wandb.plot.bar(bars, "class", "acc", title="per class"),
           "series": wandb.plot.line_series(xs=list(range(10)),
                                            ys=[[i * i for i in range(10)],
                                                [10 - i for i in range(10)]],
                                            keys=["square", "down"], title="two lines"),
           "labels": wandb.plot.confusion_matrix(y_true=["x", "y", "y", "x"],
                                                 preds=["x", "y", "x", "x"])},
          step=7)
wandb.finish()
