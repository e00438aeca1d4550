"""Helpers shared by the API views: role checks, JSON bodies, serialisers."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from crowd.domain.errors import BadRequest, Forbidden, InvalidInput, Unauthorized
from crowd.domain.settings import SETTING_NAMES
from crowd.persistence import Project, User

F = TypeVar("F", bound=Callable[..., Any])

WORKER = ("worker",)
EXPERT = ("expert", "admin")
MANAGER = ("manager", "admin")
ANY = ("worker", "expert", "manager", "admin")


def user() -> User:
    """The authenticated API user (only call inside ``require``)."""
    return g.api_user


def require(*roles: str) -> Callable[[F], F]:
    """Let through users with one of ``roles``: 401 without a valid token, 403 otherwise."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            current = g.get("api_user")
            if current is None:
                raise Unauthorized("a valid bearer token is required")
            if current.role not in roles:
                raise Forbidden(f"this needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def json_body() -> Any:
    """The request's JSON body, or ``BadRequest`` naming what is wrong with it."""
    if not request.is_json:
        raise BadRequest("the body must be JSON (Content-Type: application/json)",
                         code="invalid_json")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("the JSON body is nested too deeply", code="invalid_json") from None
    if body is None:
        raise BadRequest("the body is not valid JSON", code="invalid_json")
    if _has_nul(body):
        raise InvalidInput("text must not contain NUL characters", code="invalid_text")
    return body


def _has_nul(body: Any) -> bool:
    """Whether a string anywhere in ``body`` holds NUL, which PostgreSQL text cannot store.

    Walked with a stack, not recursion: the parser accepts nesting near the
    interpreter's recursion limit.
    """
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def iso(value: datetime | None) -> str | None:
    """A UTC timestamp as ISO 8601 with a Z."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_json(account: User) -> dict[str, Any]:
    return {"id": account.id, "username": account.username, "role": account.role}


def project_json(project: Project, progress: dict[str, int] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": project.id,
        "name": project.name,
        "labels": project.labels,
        "guidelines": project.guidelines,
        "guidelines_version": project.guidelines_version,
        "created_at": iso(project.created_at),
    }
    out.update({name: getattr(project, name) for name in SETTING_NAMES})
    if progress is not None:
        out["progress"] = progress
    return out
