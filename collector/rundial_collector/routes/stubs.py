"""Routes of the v1 inventory (v1 doc §2) that later milestones implement.

Each answers 501 ``NOT_IMPLEMENTED`` with the error envelope, so an rc1 client gets a clear,
non-retryable error instead of an HTML 404 or 405. No authentication is checked first: the
answer is the same for everyone. A route another module already serves is skipped, so this
module must stay last in the app's route modules.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from rundial_collector.web import errors

# (method, path, what); remove an entry when its route gets a real handler.
STUBS: tuple[tuple[str, str, str], ...] = ()


def _stub(what: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise errors.not_implemented(what)
    handler.__doc__ = f"501 NOT_IMPLEMENTED: {what}."
    return handler


def _shape(path: str) -> str:
    """A path with its placeholder names erased, to compare routes by shape."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def setup_routes(app: web.Application) -> None:
    """Register a 501 handler for every v1 route no module registered before this one."""
    served = {(route.method, _shape(route.resource.canonical))
              for route in app.router.routes() if route.resource is not None}
    for method, path, what in STUBS:
        if (method, _shape(path)) not in served:
            app.router.add_route(method, path, _stub(what))
