# From github.com/neptune-ai/examples (MIT License, Copyright (c) 2021 neptune.ai),
# how-to-guides/neptune-hpo/scripts/Neptune_hpo_single_run.py at commit 8d077cadbcd916186584276e4d1c43b9cced9b06.
# Changed for an offline test, tracker calls untouched: torchvision (its FakeData dataset and
# transforms) is replaced by seeded random tensors of the same classes; and, to keep the test
# suite short, "dataset_size" is 320, not 1000 (10 points per trial series), and the images
# are 3x8x8, not 3x32x32 ("input_size", which is also the model's hidden width: ~0.17 M
# parameters, not ~42 M).
from functools import reduce

import neptune
import torch
import torch.nn as nn
import torch.optim as optim
from neptune.utils import stringify_unsupported
from tqdm.auto import trange

# Create a Neptune run
run = neptune.init_run(
    project="common/hpo",  # your project name
    api_token=neptune.ANONYMOUS_API_TOKEN,  # your api token
    tags=["script"],
)

# Hyperparameters
parameters = {
    "batch_size": 64,
    "epochs": 2,
    "input_size": (3, 8, 8),
    "n_classes": 10,
    "dataset_size": 320,
    "model_filename": "basemodel",
    "device": torch.device("cuda:0" if torch.cuda.is_available() else "cpu"),
}

input_size = reduce(lambda x, y: x * y, parameters["input_size"])

## Hyperparameter search space
learning_rates = [0.005, 0.01, 0.05]  # learning rate choices


# Model
class BaseModel(nn.Module):
    def __init__(self, input_size, hidden_dim, n_classes):
        super(BaseModel, self).__init__()
        self.main = nn.Sequential(
            nn.Linear(input_size, hidden_dim * 2),
            nn.ReLU(),
            nn.Linear(hidden_dim * 2, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim // 2),
            nn.ReLU(),
            nn.Linear(hidden_dim // 2, n_classes),
        )
        self.input_size = input_size

    def forward(self, input):
        x = input.view(-1, self.input_size)
        return self.main(x)


model = BaseModel(
    input_size,
    input_size,
    parameters["n_classes"],
).to(parameters["device"])

criterion = nn.CrossEntropyLoss()

# Dataset (synthetic stand-in for torchvision's FakeData)
trainset = torch.utils.data.TensorDataset(
    torch.randn(parameters["dataset_size"], *parameters["input_size"]),
    torch.randint(0, parameters["n_classes"], (parameters["dataset_size"],)),
)
trainloader = torch.utils.data.DataLoader(
    trainset, batch_size=parameters["batch_size"], shuffle=True, num_workers=0
)

# Training loop
for i, lr in enumerate(learning_rates):
    # Log hyperparameters
    run[f"trials/{i}/params"] = stringify_unsupported(parameters)
    run[f"trials/{i}/params/lr"] = lr

    optimizer = optim.SGD(model.parameters(), lr=lr)

    # Initialize fields for best values across all trials
    best_loss = None

    for _ in trange(parameters["epochs"]):
        for x, y in trainloader:
            x, y = x.to(parameters["device"]), y.to(parameters["device"])
            optimizer.zero_grad()
            outputs = model.forward(x)
            loss = criterion(outputs, y)

            _, preds = torch.max(outputs, 1)
            acc = (torch.sum(preds == y.data)) / len(x)

            # Log trial metrics
            run[f"trials/{i}/metrics/batch/loss"].append(loss)
            run[f"trials/{i}/metrics/batch/acc"].append(acc)

            # Log best values across all trials
            if best_loss is None or loss < best_loss:
                run["best/trial"] = i
                run["best/metrics/loss"] = best_loss = loss
                run["best/metrics/acc"] = acc
                run["best/params"] = stringify_unsupported(parameters)
                run["best/params/lr"] = lr

            loss.backward()
            optimizer.step()

# Stop logging
run.stop()
