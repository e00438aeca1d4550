"""Expert review: the queue and resolutions."""
from __future__ import annotations

from typing import Any

from flask import request

from crowd import runtime
from crowd.domain.errors import InvalidInput, NotFound
from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.extensions import db
from crowd.services import members, reviews
from crowd.web import MAX_ID
from crowd.web.api import bp
from crowd.web.api.common import EXPERT, json_body, require, user


@bp.get("/reviews")
@require(*EXPERT)
def review_queue() -> Any:
    project, limit = request.args.get("project", ""), request.args.get("limit", "50")
    if not (project.isascii() and project.isdigit()):
        raise InvalidInput("?project=<id> is required", code="missing_project")
    if not (limit.isascii() and limit.isdigit()) or len(limit) > 9:
        raise InvalidInput("limit must be a positive whole number", code="invalid_limit")
    if len(project) > 10 or int(project) > MAX_ID:
        raise NotFound(f"project {project} not found")
    members.reach(db.session, user(), int(project), "review")
    return {"items": reviews.review_queue(db.session, int(project), int(limit))}


# The item's opaque public id; a number outside its range is a plain 404.
@bp.post(f"/reviews/<int(min=1, max={PUBLIC_ID_MAX}):item_id>")
@require(*EXPERT)
def resolve(item_id: int) -> Any:
    return reviews.resolve(db.session, item_id, json_body(), user(), runtime.now())
