"""Credential-login users for a global admin (docs/protocol.md §8.4, an extension).

Every route needs a global admin (a key with ``admin`` on every workspace, or an admin user's
session): 401 without credentials, 403 otherwise.

* ``GET /api/v1/users?limit=100[&cursor]`` → ``{"users": [entry], "page"}``, ordered by email.
* ``POST /api/v1/users`` ``{"email", "password"?, "admin"?}`` → 201 entry; without
  ``password`` one is generated and returned once as ``password``. 400 for a bad email or a
  password that :func:`.user_accounts.check_password` refuses, 409 for a taken email.
* ``POST /api/v1/users/{userId}/disable`` → 200 entry with ``status: "disabled"``;
  idempotent; 404 unknown; 409 for the caller's own user. The backing key is revoked and the
  user's sessions deleted in one transaction; open event streams of the user on this
  collector end at once, and every collector refuses its sessions from the next request on.
* ``POST /api/v1/users/{userId}/enable`` → 200 entry with ``status: "active"``: a disabled
  user gets a fresh backing key of the same role; idempotent; 404 unknown.
* ``POST /api/v1/users/{userId}/password`` ``{"password"?}`` → 200 entry (plus ``password``
  when generated, shown once); the user's sessions end (the caller's own too). 400/404 as above.

Each change is written with its audit event (actor ``user`` or ``api_key``) in one store
transaction.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from rundial_collector import user_accounts
from rundial_collector.store.accounts_base import User
from rundial_collector.web import auditing, auth, errors, passwords
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import Principal
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.paging import page, parse_limit, query_cursor
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

USERS_PATH = "/api/v1/users"
LIST_DEFAULT, LIST_MAX = 100, 1000


class PasswordBody(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(max_length=passwords.MAX_PASSWORD_BYTES)] | None = None


class NewUserBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=user_accounts.MAX_EMAIL_CHARS)]
    password: Annotated[str, msgspec.Meta(max_length=passwords.MAX_PASSWORD_BYTES)] | None = None
    admin: bool = False


async def global_admin(request: web.Request) -> Principal:
    """The caller, when a global admin (401/403 otherwise)."""
    principal = await auth.authenticate(request)
    if not principal.is_global_admin:
        raise errors.forbidden("managing users needs a global admin (admin on every workspace)")
    return principal


async def list_users(request: web.Request) -> web.Response:
    await global_admin(request)
    limit = parse_limit(request, LIST_DEFAULT, LIST_MAX)
    after = query_cursor(request, 1)
    if after is not None and not isinstance(after[0], str):
        raise errors.invalid("cursor is not a cursor this collector issued", "cursor")
    rows = await request.app[STORE].list_users(None if after is None else after[0], limit + 1)
    shown = rows[:limit]
    return json_response(request, {
        "users": [user_accounts.user_entry(u) for u in shown],
        "page": page(len(rows) > limit, [shown[-1].email] if shown else None)})


async def create_user(request: web.Request) -> web.Response:
    principal = await global_admin(request)
    body = await decode_body(request, NewUserBody)
    try:
        email = user_accounts.normalise_email(body.email)
    except ValueError as exc:
        raise errors.invalid(str(exc), "email") from None
    password = _checked_password(body.password)
    who = await auditing.actor(request, principal)
    user = await write_or_429(request, user_accounts.add_user(
        request.app[STORE], email, password, admin=body.admin, actor=who))
    assert user is not None  # neither only_if_first nor exist_ok: a taken email is a 409
    return json_response(request, _entry(user, password, body.password is None), status=201)


def _entry(user: User, password: str, generated: bool) -> dict[str, object]:
    """The user's entry, plus the password when the collector generated it (shown once)."""
    entry = user_accounts.user_entry(user)
    if generated:
        entry["password"] = password
    return entry


def _checked_password(given: str | None) -> str:
    """``given`` when acceptable (400 field ``password`` otherwise), or a generated one."""
    if given is None:
        return user_accounts.generate_password()
    try:
        user_accounts.check_password(given)
    except ValueError as exc:
        raise errors.invalid(str(exc), "password") from None
    return given


async def _user_of(request: web.Request) -> User:
    user_id = request.match_info["userId"]
    user = await request.app[STORE].get_user(user_id)
    if user is None:
        raise errors.not_found(f"user {user_id} was not found")
    return user


async def disable_user(request: web.Request) -> web.Response:
    principal = await global_admin(request)
    store = request.app[STORE]
    user = await _user_of(request)
    if user.key_id == principal.key_id:
        raise errors.conflict("you cannot disable your own user", "userId")
    who = await auditing.actor(request, principal)
    user = await write_or_429(request, user_accounts.disable_user(store, user, who))
    auth.forget_keys(request.app, user.key_id)
    return json_response(request, user_accounts.user_entry(user))


async def enable_user(request: web.Request) -> web.Response:
    principal = await global_admin(request)
    user = await _user_of(request)
    who = await auditing.actor(request, principal)
    user = await write_or_429(request, user_accounts.enable_user(request.app[STORE], user, who))
    return json_response(request, user_accounts.user_entry(user))


async def set_password(request: web.Request) -> web.Response:
    principal = await global_admin(request)
    body = await decode_body(request, PasswordBody)
    user = await _user_of(request)
    password = _checked_password(body.password)
    who = await auditing.actor(request, principal)
    user = await write_or_429(request, user_accounts.set_password(
        request.app[STORE], user, password, who))
    return json_response(request, _entry(user, password, body.password is None))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(USERS_PATH, list_users)
    app.router.add_post(USERS_PATH, create_user)
    app.router.add_post(USERS_PATH + "/{userId}/disable", disable_user)
    app.router.add_post(USERS_PATH + "/{userId}/enable", enable_user)
    app.router.add_post(USERS_PATH + "/{userId}/password", set_password)
