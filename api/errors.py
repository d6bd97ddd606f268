"""The errors the api's services raise, each with its HTTP status and a stable code.

They are Tornado `HTTPError`s, so a handler that lets one escape gets the right status
from Tornado's own error path; the JSON API renders them as `{"error": code, "message":
...}` (see `api.v1.base`), a web page may render them its own way. Raise them where the
problem is found, with a message a person can act on.
"""

from __future__ import annotations

import math
from typing import ClassVar

import tornado.web


class ApiError(tornado.web.HTTPError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(self.status)
        self.message = message

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class InvalidInput(ApiError):
    status, code = 400, "invalid_input"


class Unauthorized(ApiError):
    """No credentials, or ones that are wrong, expired or revoked."""

    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    """The caller may see the resource but not change it (a public camera of someone else)."""

    status, code = 403, "forbidden"


class NotFound(ApiError):
    """Missing, or not visible to the caller: the two are never told apart."""

    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        """The Retry-After header's value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


class Unavailable(ApiError):
    """A dependency (Kafka, the object store) did not answer in time; nothing was changed."""

    status, code = 503, "unavailable"
