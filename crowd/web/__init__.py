"""HTTP layer: the JSON API and the browser pages."""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from crowd.web import chrome, errors, limits

# Ids are 32-bit INTEGER columns: a larger number names no row. Without this
# bound such a URL reaches the database and fails there (a 500, not a 404).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` that matches only ids the database can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register(app: Flask) -> None:
    """Register blueprints, user loading and error handlers on ``app``."""
    from crowd.extensions import csrf
    from crowd.web.api import bp as api_bp
    from crowd.web.health import bp as health_bp
    from crowd.web.ui import bp as ui_bp

    app.url_map.converters["int"] = IdConverter  # before any rule is added
    # Bearer tokens, or a session cookie only with its CSRF token in X-CSRFToken
    # (crowd.web.api.common.session_user): never a cookie alone.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(ui_bp)
    app.register_blueprint(health_bp)
    errors.register(app)
    limits.register(app)
    chrome.register(app)  # the pages' navigation and /favicon.ico
