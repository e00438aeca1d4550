"""Browser pages: login, the worker's task page, the manager's project view."""
from __future__ import annotations

from flask import Blueprint

from crowd.extensions import db, login_manager
from crowd.persistence import User

bp = Blueprint("ui", __name__)
login_manager.login_view = "ui.login"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


from crowd.web.ui import auth, expert, manager, worker  # noqa: E402,F401
