"""Adding, disabling, enabling and re-passwording credential-login users: the one path shared by the
bootstrap's first user, the admin CLI (``rundial-collector users``) and the HTTP routes
(``/api/v1/users``).

* A user is stored with the scrypt hash of its password (:mod:`.web.passwords`, hashed in a
  worker thread), never the password, and a backing API key whose secret is discarded at once.
  An admin's key holds ``admin`` on every workspace; a member's holds every read and write
  scope on every workspace but not ``admin`` (so a member cannot manage keys or users).
* :func:`normalise_email` and :func:`check_password` raise ValueError with a one-line reason;
  callers turn it into a 400 or a CLI error. The bootstrap does not check the password length
  (an operator's ``RUNDIAL_BOOTSTRAP_PASSWORD`` is taken as given).
* Disabling revokes the backing key and deletes the user's sessions in one store transaction;
  a password change deletes them too. Credential sessions are looked up in the store on every
  request (:func:`.web.auth.authenticate`), so either takes effect at once on every collector
  of the database. Enabling gives the user a fresh backing key with the scopes of the old one
  (a revoked key is never valid again). Each change commits with its audit event
  (``user.create``, ``user.disable``, ``user.enable``, ``user.password``; target kind
  ``user``); repeating a disable or an enable writes none.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time

from rundial_collector.store.accounts_base import User
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import NewApiKey
from rundial_collector.web import auditing, passwords
from rundial_collector.web.auditing import Actor
from rundial_collector.web.auth import (ADMIN, READ_SCOPES, WRITE_SCOPES, hash_key, new_key_id,
                                        new_key_secret)

MIN_PASSWORD_CHARS = 12
MAX_EMAIL_CHARS = 320
MEMBER_SCOPES: tuple[str, ...] = tuple(sorted(WRITE_SCOPES | READ_SCOPES))
_EMAIL = re.compile(r"[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+")


def normalise_email(raw: str) -> str:
    """``raw`` stripped and lower-cased; ValueError unless it looks like ``name@domain``."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
        raise ValueError(f"{raw!r} is not an email address (name@domain, at most "
                         f"{MAX_EMAIL_CHARS} characters)")
    return email


def check_password(password: str) -> None:
    """ValueError unless ``password`` has at least :data:`MIN_PASSWORD_CHARS` characters, at
    most :data:`passwords.MAX_PASSWORD_BYTES` bytes and no surrounding whitespace (the CLI's
    prompt strips it, so such a password could never be typed in)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode("utf-8", "surrogatepass")) > passwords.MAX_PASSWORD_BYTES:
        raise ValueError(f"the password must have at most {passwords.MAX_PASSWORD_BYTES} bytes")
    if password != password.strip():
        raise ValueError("the password must not begin or end with whitespace")


def generate_password() -> str:
    """A fresh random password (144 bits, 24 url-safe characters)."""
    return secrets.token_urlsafe(18)


async def _hash(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, passwords.hash_password,
                                                            password)


def _backing_key(email: str, scopes: tuple[str, ...]) -> NewApiKey:
    """A global key for the user ``email`` whose secret is discarded here."""
    return NewApiKey(new_key_id(), hash_key(new_key_secret()), None, None, scopes,
                     f"user {email}")


async def add_user(store: Store, email: str, password: str, *, admin: bool, actor: Actor,
                   only_if_first: bool = False, exist_ok: bool = False) -> User | None:
    """Create the user ``email`` (already normalised) and its backing key, audited as
    ``actor``. Store semantics of ``only_if_first``/``exist_ok`` (None, the existing user or
    :class:`StoreConflict` for a taken email)."""
    key = _backing_key(email, (ADMIN,) if admin else MEMBER_SCOPES)
    user = User("usr_" + secrets.token_hex(8), email, await _hash(password), key.key_id,
                int(time.time() * 1000))
    event = auditing.event(actor, "user.create", "user", user.user_id, workspace_id=None,
                           details={"email": email, "admin": admin})
    return await store.create_user(user, key, event, only_if_first=only_if_first,
                                   exist_ok=exist_ok)


async def disable_user(store: Store, user: User, actor: Actor) -> User:
    """Disable ``user`` (idempotent); :class:`StoreNotFound` when it vanished meanwhile."""
    event = auditing.event(actor, "user.disable", "user", user.user_id, workspace_id=None,
                           details={"email": user.email})
    return await store.disable_user(user.user_id, event.created_ms, event)


async def enable_user(store: Store, user: User, actor: Actor) -> User:
    """Enable a disabled ``user`` with a fresh backing key of the same scopes (idempotent: an
    active user is unchanged); :class:`StoreNotFound` when it vanished meanwhile."""
    event = auditing.event(actor, "user.enable", "user", user.user_id, workspace_id=None,
                           details={"email": user.email})
    return await store.enable_user(user.user_id, _backing_key(user.email, user.key_scopes),
                                   event)


async def set_password(store: Store, user: User, password: str, actor: Actor) -> User:
    """Replace ``user``'s password (ends its sessions); :class:`StoreNotFound` when unknown."""
    event = auditing.event(actor, "user.password", "user", user.user_id, workspace_id=None,
                           details={"email": user.email})
    return await store.set_user_password(user.user_id, await _hash(password), event)


def is_admin(user: User) -> bool:
    return ADMIN in user.key_scopes


def user_entry(user: User) -> dict[str, object]:
    """The public form of ``user`` (HTTP and ``users list --json``); never the hash."""
    return {"userId": user.user_id, "email": user.email, "status": user.status,
            "admin": is_admin(user), "createdAtMs": user.created_ms,
            "disabledAtMs": user.disabled_ms}
