"""Helpers shared by the API views: role checks, JSON bodies, serialisers."""
from __future__ import annotations

from collections.abc import Callable
import json
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from crowd.domain.errors import BadRequest, Forbidden, Unauthorized
from crowd.domain.settings import SETTING_NAMES
from crowd.domain.text import check_json
from crowd.persistence import Project, User, iso
from crowd.web.limits import read_bounded

F = TypeVar("F", bound=Callable[..., Any])

WORKER = ("worker",)
EXPERT = ("expert", "admin")
MANAGER = ("manager", "admin")
ANY = ("worker", "expert", "manager", "admin")
ADMIN = ("admin",)


def user() -> User:
    """The authenticated API user (only call inside ``require``)."""
    return g.api_user


def session_user() -> User | None:
    """The logged-in browser user, for a request that proves it comes from one of
    crowd's own pages: no ``Authorization`` header at all, and the session's CSRF
    token in ``X-CSRFToken`` (a page of another site can make the browser send the
    cookie, but cannot read the token). Otherwise None: the cookie alone is nothing."""
    token = request.headers.get("X-CSRFToken")
    if "Authorization" in request.headers or not token:
        return None
    try:
        validate_csrf(token)
    except ValidationError:
        return None
    return current_user._get_current_object() if current_user.is_authenticated else None


def require(*roles: str, project: str | None = None) -> Callable[[F], F]:
    """Let through users with one of ``roles``: 401 without a valid token (or a
    browser session with its CSRF token, ``session_user``), 403 otherwise.

    With ``project`` (manage, review, work or see) the view's ``project_id`` must
    also be a project the user may reach that way, or it is 404 as if absent.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            current = g.get("api_user")
            if current is None:
                current = g.api_user = session_user()
            if current is None:
                raise Unauthorized("a valid bearer token is required")
            if current.role not in roles:
                raise Forbidden(f"this needs the role {' or '.join(roles)}")
            if project is not None:
                from crowd.extensions import db
                from crowd.services.members import reach

                # Held in ``g`` for the request: the session's identity map holds
                # objects weakly, and the view's own ``session.get`` then finds it
                # there instead of selecting the project a second time.
                g.reached_project = reach(db.session, current, kwargs["project_id"], project)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def request_body() -> bytes:
    """The raw request body, read once and never past ``MAX_CONTENT_LENGTH`` (413 beyond)."""
    cached = g.get("request_body")
    if cached is None:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        stream = request.stream
        cached = stream.read() if limit is None else read_bounded(stream, limit)
        g.request_body = cached
    return cached


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_body() -> Any:
    """The request's JSON body, checked to hold only storable text and sane numbers.

    Unreadable JSON is ``BadRequest`` (400, ``invalid_json``); a key or string
    with NUL or a lone surrogate anywhere is ``InvalidInput`` (422,
    ``invalid_text``) naming its path, as are integers beyond 64 bits or
    nesting deeper than ``MAX_JSON_DEPTH`` (``invalid_number``, ``too_deep``).
    """
    if not request.is_json:
        raise BadRequest("the body must be JSON (Content-Type: application/json)",
                         code="invalid_json")
    try:
        body = json.loads(request_body().decode("utf-8"), parse_constant=_not_a_number)
    except RecursionError:
        raise BadRequest("the JSON body is nested too deeply", code="invalid_json") from None
    except ValueError as exc:  # includes UnicodeDecodeError and JSONDecodeError
        raise BadRequest(f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if body is None:
        raise BadRequest("the body is not valid JSON (it is null)", code="invalid_json")
    check_json(body, "")
    return body


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
        "enrollment": project.enrollment,
    }
    out.update({name: getattr(project, name) for name in SETTING_NAMES})
    if progress is not None:
        out["progress"] = progress
    return out
