"""Expert review: the queue and resolutions."""
from __future__ import annotations

from typing import Any

from flask import request

from crowd import runtime
from crowd.domain.errors import InvalidInput
from crowd.extensions import db
from crowd.services import reviews
from crowd.web.api import bp
from crowd.web.api.common import EXPERT, json_body, require, user


@bp.get("/reviews")
@require(*EXPERT)
def review_queue() -> Any:
    project, limit = request.args.get("project", ""), request.args.get("limit", "50")
    if not project.isdigit():
        raise InvalidInput("?project=<id> is required", code="missing_project")
    if not limit.isdigit():
        raise InvalidInput("limit must be a positive whole number", code="invalid_limit")
    return {"items": reviews.review_queue(db.session, int(project), int(limit))}


@bp.post("/reviews/<int:item_id>")
@require(*EXPERT)
def resolve(item_id: int) -> Any:
    return reviews.resolve(db.session, item_id, json_body(), user(), runtime.now())
