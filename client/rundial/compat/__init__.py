"""Import-swap shims for scripts written for other trackers.

Each shim is its own module, imported only when a script asks for it
(``import rundial.compat.wandb as wandb``); none is imported by ``import rundial``. Every shim
writes through the SDK's non-blocking pipeline: no shim call waits on the network.
"""

from __future__ import annotations
