"""The worker's home page: their projects, their standing in each, and where to go on."""
from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user

from crowd.extensions import db
from crowd.persistence import Project
from crowd.services import worker_home
from crowd.services.standing_report import HIDDEN_GOLD_BLOCK


def worker_home_page(projects: list[Project]) -> Any:
    """``home.html`` for a worker: each project with their state, gold record (hidden
    checks in whole blocks), reasons, and a Start or Continue link."""
    rows = worker_home.home_rows(db.session, current_user.id, projects)
    return render_template("home.html", rows=rows, role="worker", gold_block=HIDDEN_GOLD_BLOCK)
