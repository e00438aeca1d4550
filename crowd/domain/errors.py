"""Refusals the domain and services raise; the web layer maps them to statuses."""
from __future__ import annotations

from typing import Any


class CrowdError(Exception):
    """A refusal with a machine code and a human message."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class InvalidInput(CrowdError):
    """The request's content breaks a rule (unknown label, bad setting, bad row)."""

    code = "invalid"


class BadRequest(CrowdError):
    """The request cannot be read at all (not JSON, wrong encoding, missing column)."""

    code = "bad_request"


class NotFound(CrowdError):
    """No such thing, or not visible to this user."""

    code = "not_found"


class Forbidden(CrowdError):
    """The user may not do this."""

    code = "forbidden"


class Conflict(CrowdError):
    """The request clashes with what is stored (a name taken, an answer already given)."""

    code = "conflict"


class Gone(CrowdError):
    """The thing existed but is no longer usable (an expired lease)."""

    code = "gone"


class Unauthorized(CrowdError):
    """No valid credentials were given."""

    code = "unauthorized"


class TooManyRequests(CrowdError):
    """Too many tries: wait ``retry_after`` seconds (failed logins)."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code, details={"retry_after": retry_after})
        self.retry_after = retry_after
