"""The expert's review page: the most uncertain items first, one decision each."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from crowd import runtime
from crowd.domain.errors import CrowdError
from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.extensions import db
from crowd.services import projects, reviews
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.forms import ResolveForm

PAGE = 20


@bp.get("/review/<int:project_id>")
@role_required("expert", "admin", project="review")
def review(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    queue = reviews.review_queue(db.session, project_id, PAGE)
    return render_template("review.html", project=project, queue=queue, form=ResolveForm())


@bp.post(f"/review/<int:project_id>/<int(min=1, max={PUBLIC_ID_MAX}):item_id>")
@role_required("expert", "admin", project="review")
def review_resolve(project_id: int, item_id: int) -> Any:
    """Resolve the item with opaque id ``item_id`` (as in the queue's form actions)."""
    form = ResolveForm()
    if not form.validate_on_submit():
        flash("That decision could not be read; please try again.", "error")
        return redirect(url_for("ui.review", project_id=project_id))
    body = {"label": form.label.data, "note": form.note.data or None,
            "promote_to_gold": bool(form.promote_to_gold.data)}
    try:
        result = reviews.resolve(db.session, item_id, body, current_user, runtime.now())
        flash(f"{result['external_id']} resolved as “{result['label']}”.", "success")
    except CrowdError as refusal:
        flash(refusal.message, "error")
    return redirect(url_for("ui.review", project_id=project_id))
