"""The protocol's error envelope, as one exception type the middleware renders.

Handlers raise :class:`ApiError` (or a helper below); the middleware turns it into
``{"error": {"code", "message", "details"}, "requestId"}`` with the right status.
"""

from __future__ import annotations

from typing import Any

from rundial_collector.store.errors import has_nul


class ApiError(Exception):
    """An HTTP error with a protocol error code; rendered by the error middleware."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 hint: str | None = None, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.hint = hint
        self.headers = headers or {}
        self.extra = extra or {}

    def envelope(self, request_id: str) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if self.field is not None:
            details["field"] = self.field
        if self.hint is not None:
            details["hint"] = self.hint
        body: dict[str, Any] = {"error": {"code": self.code, "message": self.message,
                                          "details": details}, "requestId": request_id}
        body.update(self.extra)
        return body


NUL_RULE = "must not contain NUL (U+0000) characters"  # PostgreSQL text cannot hold one


def invalid(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, "INVALID_REQUEST", message, field=field)


def require_no_nul(value: str | None, field: str) -> None:
    """400 naming ``field`` when the text ``value`` holds NUL: refused on every backend alike
    (PostgreSQL cannot store it; SQLite could, and must not accept what PostgreSQL refuses)."""
    if has_nul(value):
        raise invalid(f"{field} {NUL_RULE}", field)


def unauthorized(message: str = "a valid API key is required") -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message,
                    hint="send Authorization: Bearer <api key>")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "FORBIDDEN", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def conflict(message: str, field: str | None = None) -> ApiError:
    return ApiError(409, "CONFLICT", message, field=field)


def too_large(limit_bytes: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE",
                    f"request body exceeds {limit_bytes} bytes after decompression")


def unsupported_encoding(encoding: str) -> ApiError:
    return ApiError(415, "UNSUPPORTED_ENCODING",
                    f"content-encoding {encoding!r} is not supported; use gzip or identity")


def rate_limited(retry_after_seconds: int) -> ApiError:
    return ApiError(429, "RATE_LIMITED", "the collector's write queue is full; retry later",
                    headers={"Retry-After": str(retry_after_seconds)})


def not_implemented(what: str) -> ApiError:
    return ApiError(501, "NOT_IMPLEMENTED", f"{what} is not implemented by this collector yet")
