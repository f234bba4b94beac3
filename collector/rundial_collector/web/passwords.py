"""Password hashing for credential login: scrypt from the standard library (OpenSSL).

Stored form: ``scrypt$<n>$<r>$<p>$<salt, base64>$<digest, base64>`` with a random 16-byte salt
and a 32-byte digest; the parameters travel with the hash, so they can be raised later and old
hashes still verify. Comparison is constant-time (:func:`hmac.compare_digest`). A malformed
stored hash verifies as False, never raises. Hashing costs about 16 MiB and tens of
milliseconds: callers on the event loop run it in a thread (:func:`verify_in_thread`).

:func:`verify_unknown` hashes against a fixed dummy so that "no such user" takes as long as
"wrong password" (no user enumeration by timing).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
SALT_BYTES, DIGEST_BYTES = 16, 32
MAX_PASSWORD_BYTES = 1024
_MAXMEM_BYTES = 64 * 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p,
                          maxmem=_MAXMEM_BYTES, dklen=length)


def hash_password(password: str) -> str:
    """A new stored hash of ``password`` (fresh salt)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, DIGEST_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for a mismatch or a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r),
                         int(p), len(expected))
    except (ValueError, TypeError):  # bad fields, or parameters OpenSSL refuses
        return False
    return hmac.compare_digest(actual, expected)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def warm_unknown() -> None:
    """Compute the dummy hash that :func:`verify_unknown` compares against (one scrypt), so
    the first unknown-user login costs one scrypt like every later one."""
    _dummy_hash()


def verify_unknown(password: str) -> bool:
    """Spend the time of one verification and return False (the user does not exist)."""
    verify_password(password, _dummy_hash())
    return False


async def verify_in_thread(password: str, stored: str | None) -> bool:
    """:func:`verify_password` (or :func:`verify_unknown` when ``stored`` is None) off the
    event loop."""
    loop = asyncio.get_running_loop()
    if stored is None:
        return await loop.run_in_executor(None, verify_unknown, password)
    return await loop.run_in_executor(None, verify_password, password, stored)
