# Source: https://github.com/wandb/examples/blob/5cab88702fc51edfb4afc79a1de89e9acf6cb605/colabs/wandb-log/Customize_metric_logging_with_define_metric.ipynb
# (c) Weights & Biases, from the public wandb/examples repository (no license file there).
# The notebook's code cells, verbatim, except the first one ("!pip install wandb -Uq").
# --- notebook code cell 1

import wandb
import random


# --- notebook code cell 2
wandb.login()

# --- notebook code cell 3
random.seed(1)

# Initalize a new run
wandb.init(project="define-metric-demo", notes="custom step")

# Define the custom x axis metric
wandb.define_metric("custom_step")

# Define which metrics to plot against that x-axis
wandb.define_metric("validation/loss", step_metric='custom_step')
for i in range(10):
  log_dict = {
      "train/loss": 1/(i+1),
      "custom_step": i**2,
      "validation/loss": 1/(i+1)   
  }
  wandb.log(log_dict)

# Use this in the context of a jupyter notebook to mark a run finished
wandb.finish()

# --- notebook code cell 4
random.seed(1)

# Start a new run
wandb.init(project="define-metric-demo", notes="min of loss, max of acc")

# For loss, capture the min value from history in summary
wandb.define_metric("loss", summary="min")

# For acc, capture the max value from history in summary
wandb.define_metric("acc", summary="max")

# Simulate a training loop where we're logging metrics
for i in range(10):
  log_dict = {
      "loss": random.uniform(0,1/(i+1)),
      "acc": random.uniform(1/(i+1),1),
  }
  wandb.log(log_dict)

# Mark the run as finished, useful in the context of Jupyter notebooks
wandb.finish()
