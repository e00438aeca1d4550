"""Aggregation on demand and the quality report."""
from __future__ import annotations

from typing import Any

from crowd import runtime
from crowd.extensions import db
from crowd.services import aggregation_runs, quality
from crowd.web.api import bp
from crowd.web.api.common import MANAGER, require


@bp.post("/projects/<int:project_id>/aggregate")
@require(*MANAGER, project="manage")
def aggregate(project_id: int) -> Any:
    run = aggregation_runs.aggregate_project(
        db.session, project_id, runtime.rng(), runtime.now(), trigger="api"
    )
    return {"items": run.items, "iterations": run.iterations, "converged": run.converged,
            "workers": run.workers, "labels": run.labels, "duration_ms": run.duration_ms,
            "changes": run.changes}


@bp.get("/projects/<int:project_id>/quality")
@require(*MANAGER, project="manage")
def quality_report(project_id: int) -> Any:
    return quality.quality_report(db.session, project_id)
