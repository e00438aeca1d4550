"""The JSON API under /api/v1 (see ../shared/API.md and /api/v1/openapi.json)."""
from __future__ import annotations

from flask import Blueprint, g, request

from crowd import runtime
from crowd.extensions import db
from crowd.services.accounts import user_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate() -> None:
    """Load the user behind ``Authorization: Bearer <token>``, if any."""
    g.api_user = None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        g.api_user = user_for_token(db.session, token.strip(), runtime.now())


from crowd.web.api import (  # noqa: E402,F401
    accounts,
    exports,
    items,
    openapi,
    projects,
    quality,
    reviews,
    work,
    workers,
)
