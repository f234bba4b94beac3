"""The browser-session store interface: UI sessions and one-time login tokens (docs/ui.md).

A session or login token is a random secret the collector hands to a browser; only its sha256
is stored, bound to the API key it was created from. Look-ups return that key, so the caller
checks revocation and expiry of the key itself: revoking a key ends every session made from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from rundial_collector.store.control_base import ApiKey

SessionKind = Literal["session", "once"]


@dataclass(frozen=True)
class NewUiSession:
    """What to insert: ``token_hash`` is the sha256 hex of the secret handed to the browser."""

    token_hash: str
    kind: SessionKind
    key_id: str
    created_ms: int
    expires_ms: int


class SessionStore(Protocol):
    """UI sessions (kind ``session``) and single-use login tokens (kind ``once``)."""

    async def create_ui_session(self, session: NewUiSession) -> None:
        """Store ``session`` and drop every entry already expired at ``session.created_ms``."""
        ...

    async def find_ui_session(self, token_hash: str, now_ms: int) -> ApiKey | None:
        """The key behind an unexpired ``session`` entry (revoked keys included), else None."""
        ...

    async def consume_login_token(self, token_hash: str, now_ms: int) -> ApiKey | None:
        """Delete a ``once`` entry and return its key when it had not expired; None when the
        token is unknown, already used or expired. Atomic: two callers never both succeed."""
        ...

    async def delete_ui_session(self, token_hash: str) -> None:
        """Forget the entry (idempotent)."""
        ...
