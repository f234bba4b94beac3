"""``wandb.integration.*`` (Keras, Lightning, ...) is not supported by rundial.compat.wandb."""

from __future__ import annotations

raise NotImplementedError("wandb.integration is not supported by rundial.compat.wandb; see "
                          "docs/wandb-compat.md for the supported surface")
