"""Media reads for the web UI (extensions, docs/protocol.md §5.8): which keys a run logged
media under, and at which steps, so a step slider fetches only the item it shows.

* ``GET /api/v1/workspaces/{ws}/projects/{proj}/runs/{runId}/media/keys[?limit=&cursor=]``:
  ``{keys: [{mediaKey, mediaType, itemCount, stepCount, minStep, maxStep}], page}``, by key.
* ``GET .../runs/{runId}/media/steps?mediaKey=[&limit=&cursor=]``: ``{mediaKey, steps, page}``,
  the distinct steps of one key, ascending.

The items at one step come from ``GET /api/v1/media?...&mediaKey=&step=`` (§5.6) and their
bytes from the artifact file route of §5.7. ``project:read``; the session cookie is enough.
An unknown run or a run of another project is a 404; a bad ``mediaKey``, ``limit`` or
``cursor`` a 400.
"""

from __future__ import annotations

from aiohttp import web

from rundial_collector.routes.run_assets import PROJECT_PATH, project_run
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.paging import is_int64, page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response

KEYS_DEFAULT, KEYS_MAX = 200, 1000
STEPS_DEFAULT, STEPS_MAX = 5000, 10000
MAX_KEY_CHARS = 256


def _bad_cursor() -> errors.ApiError:
    return errors.invalid("cursor is not a cursor this collector issued", "cursor")


async def media_keys(request: web.Request) -> web.Response:
    """One page of the run's media keys with their item and step counts."""
    project, run_id = await project_run(request)
    limit = parse_limit(request, KEYS_DEFAULT, KEYS_MAX)
    cursor = query_cursor(request, 1)
    if cursor is not None and not isinstance(cursor[0], str):
        raise _bad_cursor()
    after = cursor[0] if cursor else ""
    found = await request.app[STORE].media_keys(project.project_id, run_id, after, limit)
    keys = [{"mediaKey": k.media_key, "mediaType": k.media_type, "itemCount": k.item_count,
             "stepCount": k.step_count, "minStep": k.min_step, "maxStep": k.max_step}
            for k in found]
    last = [found[-1].media_key] if found else None
    return json_response(request, {"runId": run_id, "keys": keys,
                                   "page": page(len(found) == limit, last)})


async def media_steps(request: web.Request) -> web.Response:
    """One page of the distinct steps at which ``mediaKey`` was logged."""
    project, run_id = await project_run(request)
    key = request.query.get("mediaKey", "")
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        raise errors.invalid(f"mediaKey is required (1-{MAX_KEY_CHARS} characters)", "mediaKey")
    limit = parse_limit(request, STEPS_DEFAULT, STEPS_MAX)
    cursor = query_cursor(request, 1)
    if cursor is not None and not is_int64(cursor[0]):
        raise _bad_cursor()
    after = int(cursor[0]) if cursor else -1
    steps = await request.app[STORE].media_steps(project.project_id, run_id, key, after, limit)
    last = [steps[-1]] if steps else None
    return json_response(request, {"runId": run_id, "mediaKey": key, "steps": steps,
                                   "page": page(len(steps) == limit, last)})


def setup_routes(app: web.Application) -> None:
    """Register the UI's media reads."""
    app.router.add_get(PROJECT_PATH + "/runs/{runId}/media/keys", media_keys)
    app.router.add_get(PROJECT_PATH + "/runs/{runId}/media/steps", media_steps)
