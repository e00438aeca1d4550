"""Browser pages: login, the worker's task page, the manager's project view."""
from __future__ import annotations

from flask import Blueprint

from crowd.extensions import db, login_manager
from crowd.persistence import User

bp = Blueprint("ui", __name__)
login_manager.login_view = "ui.login"


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The session's user, if the session was made under the user's current
    ``session_version``: logout, deactivation and a password reset bump it, and
    every copy of an older cookie is then no one's."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and version.isascii() and version.isdigit()):
        return None
    if len(user_id) > 10 or len(version) > 10:
        return None
    account = db.session.get(User, int(user_id))
    if account is None or account.session_version != int(version) or not account.active:
        return None
    return account


from crowd.web.ui import auth, expert, manage_dashboard, manage_items, manage_members, manage_projects, manage_quality, manage_workers, review_history, worker  # noqa: E402,F401
