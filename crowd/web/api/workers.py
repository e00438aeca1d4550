"""Managers' view of workers, and state overrides."""
from __future__ import annotations

from typing import Any

from crowd import runtime
from crowd.extensions import db
from crowd.services import standing_report
from crowd.web.api import bp
from crowd.web.api.common import MANAGER, json_body, require, user


@bp.get("/projects/<int:project_id>/workers")
@require(*MANAGER)
def list_workers(project_id: int) -> Any:
    return {"workers": standing_report.worker_table(db.session, project_id)}


@bp.post("/projects/<int:project_id>/workers/<int:worker_id>/state")
@require(*MANAGER)
def set_worker_state(project_id: int, worker_id: int) -> Any:
    return standing_report.override_state(
        db.session, project_id, worker_id, json_body(), user(), runtime.now()
    )
