"""The manager's workers table and worker page, and state changes with a reason."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crowd import runtime
from crowd.domain.errors import CrowdError
from crowd.domain.overrides import allowed
from crowd.extensions import db
from crowd.services import standing_report, worker_history, worker_table
from crowd.services.projects import get_project
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.dashboard_charts import worker_charts
from crowd.web.ui.dashboard_forms import OverrideForm

SORT_NAMES = {"worker": "Worker", "state": "State", "gold": "Gold accuracy",
              "estimated": "Estimated accuracy", "labels": "Labels",
              "median": "Median answer time", "last_active": "Last active"}


@bp.get("/manage/<int:project_id>/workers")
@role_required("manager", "admin", project="manage")
def manage_workers(project_id: int) -> Any:
    sort, direction, after = worker_table.parse(
        request.args.get("sort"), request.args.get("dir"), request.args.get("after"))
    found = worker_table.page(db.session, project_id, sort, direction, after)
    return render_template("manage_workers.html", project=get_project(db.session, project_id),
                           page=found, sorts=SORT_NAMES, first_page=after is None)


@bp.get("/manage/<int:project_id>/workers/<int:worker_id>")
@role_required("manager", "admin", project="manage")
def manage_worker(project_id: int, worker_id: int) -> Any:
    project = get_project(db.session, project_id)
    page = worker_history.worker_page(db.session, project_id, worker_id)
    return render_template("worker_detail.html", project=project, page=page,
                           form=OverrideForm(formdata=None),
                           charts=worker_charts(page, project.labels))


@bp.post("/manage/<int:project_id>/workers/<int:worker_id>/state")
@role_required("manager", "admin", project="manage")
def manage_state(project_id: int, worker_id: int) -> Any:
    form = OverrideForm()
    back = redirect(url_for("ui.manage_worker", project_id=project_id, worker_id=worker_id))
    if not form.validate_on_submit():
        flash("A reason is required (at most 2000 characters), with one of the buttons.",
              "error")
        return back
    current = standing_report.worker_detail(db.session, project_id, worker_id)["state"]
    if not allowed(current, form.state.data):
        flash(f"This worker is already {current}.", "error")
        return back
    try:
        standing_report.override_state(
            db.session, project_id, worker_id,
            {"state": form.state.data, "reason": form.reason.data}, current_user, runtime.now())
    except CrowdError as refusal:
        flash(refusal.message, "error")
        return back
    flash(f"State changed to {form.state.data}; the reason is recorded below.", "success")
    return back
