"""HTTP layer: the JSON API and the browser pages."""
from __future__ import annotations

from flask import Flask

from crowd.web import errors


def register(app: Flask) -> None:
    """Register blueprints, user loading and error handlers on ``app``."""
    from crowd.extensions import csrf
    from crowd.web.api import bp as api_bp
    from crowd.web.ui import bp as ui_bp

    csrf.exempt(api_bp)  # the API takes bearer tokens only, never cookies
    app.register_blueprint(api_bp)
    app.register_blueprint(ui_bp)
    errors.register(app)
