"""Projects: create, read, change, list."""
from __future__ import annotations

from typing import Any

from crowd.extensions import db
from crowd.services import projects
from crowd.web.api import bp
from crowd.web.api.common import ANY, MANAGER, json_body, project_json, require, user


@bp.post("/projects")
@require(*MANAGER)
def create_project() -> Any:
    project = projects.create_project(db.session, json_body(), user())
    return project_json(project, projects.progress(db.session, project.id)), 201


@bp.get("/projects")
@require(*ANY)
def list_projects() -> Any:
    """Every project; workers and experts see what they need to work, not progress."""
    found = projects.list_projects(db.session)
    if user().role in MANAGER:
        return {"projects": [project_json(p, projects.progress(db.session, p.id)) for p in found]}
    return {"projects": [
        {k: project_json(p)[k] for k in ("id", "name", "labels", "guidelines", "guidelines_version")}
        for p in found
    ]}


@bp.get("/projects/<int:project_id>")
@require(*MANAGER)
def get_project(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    return project_json(project, projects.progress(db.session, project_id))


@bp.patch("/projects/<int:project_id>")
@require(*MANAGER)
def update_project(project_id: int) -> Any:
    project = projects.update_project(db.session, project_id, json_body())
    return project_json(project, projects.progress(db.session, project_id))
