"""The expert's own decisions in a project, newest first, paginated by keyset."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crowd.extensions import db
from crowd.services import projects, review_history
from crowd.web.ui import bp
from crowd.web.ui.access import role_required


@bp.get("/review/<int:project_id>/history")
@role_required("expert", "admin", project="review")
def review_history_page(project_id: int) -> Any:
    token = request.args.get("before", "")
    before = review_history.parse_cursor(token) if token else None
    if token and before is None:
        flash("That page of the history could not be found; here are your latest decisions.",
              "error")
        return redirect(url_for("ui.review_history_page", project_id=project_id))
    project = projects.get_project(db.session, project_id)
    page, more = review_history.decisions(db.session, project_id, current_user.id, before,
                                          review_history.PAGE)
    return render_template("review_history.html", project=project, decisions=page,
                           older=more.token() if more else None, first=before is None)
