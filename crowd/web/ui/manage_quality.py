"""The quality report of a project as a page."""
from __future__ import annotations

from typing import Any

from flask import render_template

from crowd import runtime
from crowd.extensions import db
from crowd.services.backlog import LIVE_ITEMS
from crowd.services.projects import get_project
from crowd.services.quality_cache import LIVE_LIMIT
from crowd.services.quality_page import quality_page
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.dashboard_charts import quality_charts


@bp.get("/manage/<int:project_id>/quality")
@role_required("manager", "admin", project="manage")
def manage_quality(project_id: int) -> Any:
    page = quality_page(db.session, project_id, runtime.now())
    return render_template(
        "quality.html", project=get_project(db.session, project_id), page=page,
        report=page.report.data, live_limit=LIVE_LIMIT, live_items=LIVE_ITEMS,
        charts=quality_charts(page.report.data, page.estimated_edges, page.estimated_counts))
