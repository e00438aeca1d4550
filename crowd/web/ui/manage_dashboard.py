"""The manager's dashboard of a project: progress, labels over time, ETA, cost,
"Aggregate now" and the downloads."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException

from crowd import runtime
from crowd.extensions import db
from crowd.services import aggregation_runs, backlog, dashboard, exports, projects, quality_cache
from crowd.services.worker_table import COLUMNS as WORKER_COLUMNS
from crowd.services.worker_table import report_rows
from crowd.web.downloads import MEDIA, download
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.dashboard_charts import dashboard_charts

DOWNLOADS = {
    "results": (exports.result_rows, exports.RESULT_COLUMNS),
    "labels": (exports.label_rows, exports.LABEL_COLUMNS),
    "workers": (report_rows, WORKER_COLUMNS),
}
# The project pages made elsewhere, linked only once they exist.
PROJECT_PAGES = (("Items", "/projects/{id}/items"), ("Members", "/projects/{id}/members"),
                 ("Settings", "/projects/{id}/edit"))


def _served(path: str) -> bool:
    """Whether this app has a page at ``path`` (GET)."""
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return False
    return True


@bp.app_template_global()
def project_links(project_id: int) -> list[tuple[str, str]]:
    """(text, href) of the project's other manager pages that this app serves (the
    manager pages' navigation calls it)."""
    links = [(text, path.format(id=project_id)) for text, path in PROJECT_PAGES]
    return [(text, href) for text, href in links if _served(href)]


@bp.get("/manage/<int:project_id>")
@role_required("manager", "admin", project="manage")
def manage(project_id: int) -> Any:
    board = dashboard.dashboard(db.session, project_id, runtime.now())
    return render_template(
        "manage.html", board=board, project=board.project, charts=dashboard_charts(board),
        action_form=FlaskForm(),
        run_summary=dashboard.run_summary(board.run) if board.run else None,
    )


@bp.post("/manage/<int:project_id>/aggregate")
@role_required("manager", "admin", project="manage")
def manage_aggregate(project_id: int) -> Any:
    if FlaskForm().validate_on_submit():
        now = runtime.now()
        run = aggregation_runs.aggregate_project(db.session, project_id, runtime.rng(), now,
                                                 trigger="ui")
        quality_cache.store(db.session, project_id, run, now)
        backlog.refresh(db.session, project_id, now)
        db.session.commit()
        flash(dashboard.run_summary(run), "success")
    else:
        flash("The form had expired: reload the page and press Aggregate now again.", "error")
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
