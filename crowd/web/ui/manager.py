"""The manager's project page: progress, worker scores, state overrides."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from crowd import runtime
from crowd.domain.errors import CrowdError
from crowd.extensions import db
from crowd.services import projects, standing_report
from crowd.web.ui import bp
from crowd.web.ui.forms import StateForm


def _manager_only() -> None:
    if current_user.role not in ("manager", "admin"):
        abort(403)


@bp.get("/manage/<int:project_id>")
@login_required
def manage(project_id: int) -> Any:
    _manager_only()
    project = projects.get_project(db.session, project_id)
    return render_template(
        "manage.html", project=project, progress=projects.progress(db.session, project_id),
        workers=standing_report.worker_table(db.session, project_id), form=StateForm(),
    )


@bp.post("/manage/<int:project_id>/workers/<int:worker_id>/state")
@login_required
def manage_state(project_id: int, worker_id: int) -> Any:
    _manager_only()
    form = StateForm()
    if form.validate_on_submit():
        try:
            standing_report.override_state(
                db.session, project_id, worker_id,
                {"state": form.state.data, "reason": form.reason.data},
                current_user, runtime.now(),
            )
            flash("State changed.", "success")
        except CrowdError as refusal:
            flash(refusal.message, "error")
    else:
        flash("A reason is required.", "error")
    return redirect(url_for("ui.manage", project_id=project_id))
