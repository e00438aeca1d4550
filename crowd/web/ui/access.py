"""Who may open which page."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user, login_required

from crowd.domain.errors import NotFound
from crowd.extensions import db
from crowd.services.members import reach

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: str, project: str | None = None) -> Callable[[F], F]:
    """Log-in required, then 403 unless the user has one of ``roles``; with
    ``project`` (manage, review or work) 404 unless the page's ``project_id`` is a
    project the user may reach that way."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            if project is not None:
                try:
                    # Kept for the request so the view's own lookup hits the identity map.
                    g.reached_project = reach(db.session, current_user, kwargs["project_id"],
                                              project)
                except NotFound:
                    abort(404)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator
