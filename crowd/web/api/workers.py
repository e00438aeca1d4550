"""Managers' view of workers (the worker report), and state overrides."""
from __future__ import annotations

from typing import Any

from flask import request

from crowd import runtime
from crowd.extensions import db
from crowd.services import exports, standing_report
from crowd.web.api import bp
from crowd.web.api.common import MANAGER, json_body, require, user
from crowd.web.downloads import download

REPORT_COLUMNS = ("worker", "username", "state", "gold_seen", "gold_correct", "gold_accuracy",
                  "gold_accuracy_posterior", "estimated_accuracy", "labels", "state_reason",
                  "state_reason_code", "state_changed_at")


@bp.get("/projects/<int:project_id>/workers")
@require(*MANAGER, project="manage")
def list_workers(project_id: int) -> Any:
    """The worker report: JSON by default, or ?format=csv|jsonl for a download."""
    fmt = exports.check_format(request.args.get("format", "json"), ("json", "csv", "jsonl"))
    table = standing_report.worker_table(db.session, project_id)
    if fmt == "json":
        return {"workers": table}
    return download(exports.render(table, fmt, REPORT_COLUMNS), fmt,
                    f"project-{project_id}-workers.{fmt}")


@bp.get("/projects/<int:project_id>/workers/<int:worker_id>")
@require(*MANAGER, project="manage")
def worker_detail(project_id: int, worker_id: int) -> Any:
    """One worker's standing, confusion matrix and full state history with evidence."""
    return standing_report.worker_detail(db.session, project_id, worker_id)


@bp.post("/projects/<int:project_id>/workers/<int:worker_id>/state")
@require(*MANAGER, project="manage")
def set_worker_state(project_id: int, worker_id: int) -> Any:
    return standing_report.override_state(
        db.session, project_id, worker_id, json_body(), user(), runtime.now()
    )
