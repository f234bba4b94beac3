"""``wandb.keras`` is not supported by rundial.compat.wandb: importing it says so."""

from __future__ import annotations

raise NotImplementedError("wandb.keras is not supported by rundial.compat.wandb; see "
                          "docs/wandb-compat.md for the supported surface")
