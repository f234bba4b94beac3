"""A page's WebSocket to the collector held back by Playwright's ``route_web_socket``.

The page sees its socket open at once; the frames it sends are kept here, and those that
``passes`` lets through go to the collector as soon as the route is connected. :meth:`release`
connects the route (if it is not yet) and sends the kept frames, in order, so a multiplexed
socket's ``subscribe`` frames are delayed, never lost. The collector's frames reach the page
unchanged once connected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class HeldSocket:
    """Route handler state for one routed socket (``page.route_web_socket(url, held.take)``).

    ``passes(frame)`` True: the page's frame goes to the collector at once (the route is then
    connected on the first such frame); False: it waits for :meth:`release`."""

    def __init__(self, passes: Callable[[str], bool] = lambda _frame: False) -> None:
        self.passes = passes
        self.routes: list[Any] = []
        self.server: Any = None
        self.kept: list[str | bytes] = []

    def take(self, route: Any) -> None:
        """The route handler: remember the socket and keep or forward its frames."""
        self.routes.append(route)
        route.on_message(self._from_page)

    def _from_page(self, frame: str | bytes) -> None:
        if isinstance(frame, str) and self.passes(frame):
            self._connected().send(frame)
        elif self.server is not None and not self.kept:
            self.server.send(frame)
        else:
            self.kept.append(frame)

    def _connected(self) -> Any:
        if self.server is None:
            assert len(self.routes) == 1, "one routed socket expected"
            self.server = self.routes[0].connect_to_server()
        return self.server

    def release(self) -> None:
        """Connect (once) and send every kept frame; later frames go straight through."""
        server = self._connected()
        kept, self.kept = self.kept, []
        for frame in kept:
            server.send(frame)
