"""The manager's project page: progress, quality, worker scores, overrides, downloads."""
from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm

from crowd import runtime
from crowd.domain.errors import CrowdError
from crowd.extensions import db
from crowd.services import aggregation_runs, exports, projects, quality, standing_report
from crowd.web.downloads import MEDIA, download
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.forms import StateForm

DOWNLOADS = {
    "results": (exports.result_rows, exports.RESULT_COLUMNS),
    "labels": (exports.label_rows, exports.LABEL_COLUMNS),
}


@bp.get("/manage/<int:project_id>")
@role_required("manager", "admin", project="manage")
def manage(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    return render_template(
        "manage.html", project=project, progress=projects.progress(db.session, project_id),
        workers=standing_report.worker_table(db.session, project_id), form=StateForm(),
        action_form=FlaskForm(), report=quality.quality_report(db.session, project_id),
        run=aggregation_runs.latest_run(db.session, project_id),
    )


@bp.post("/manage/<int:project_id>/workers/<int:worker_id>/state")
@role_required("manager", "admin", project="manage")
def manage_state(project_id: int, worker_id: int) -> Any:
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


@bp.post("/manage/<int:project_id>/aggregate")
@role_required("manager", "admin", project="manage")
def manage_aggregate(project_id: int) -> Any:
    if FlaskForm().validate_on_submit():
        run = aggregation_runs.aggregate_project(
            db.session, project_id, runtime.rng(), runtime.now(), trigger="ui")
        flash(f"Dawid-Skene ran: {run.iterations} iterations over {run.labels} labels.",
              "success")
    return redirect(url_for("ui.manage", project_id=project_id))


@bp.get("/manage/<int:project_id>/download/<kind>.<fmt>")
@role_required("manager", "admin", project="manage")
def manage_download(project_id: int, kind: str, fmt: str) -> Any:
    if kind not in DOWNLOADS or fmt not in MEDIA:
        abort(404)
    projects.get_project(db.session, project_id)
    rows, columns = DOWNLOADS[kind]
    body = exports.stream(db.readonly_session, lambda s: rows(s, project_id), fmt, columns)
    return download(body, fmt, f"project-{project_id}-{kind}.{fmt}")
