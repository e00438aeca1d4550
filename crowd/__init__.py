"""crowd: crowdsourcing task routing and workforce management."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import BaseConfig

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


def create_app(config: BaseConfig) -> Flask:
    """Build the app for ``config``: extensions, blueprints, error handlers."""
    from crowd import runtime
    from crowd.extensions import csrf, db, login_manager
    from crowd.web import headers, register, request_log

    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC),
                instance_path=str(config.INSTANCE_PATH))
    app.config.from_mapping(config.as_flask())
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    runtime.init_app(app)
    request_log.init_app(app)
    headers.init_app(app)
    register(app)
    # The schedule is never started here: wsgi.py (the web processes), `crowd
    # scheduler` and `crowd serve` start it; other commands (`crowd db upgrade`) never do.
    return app
