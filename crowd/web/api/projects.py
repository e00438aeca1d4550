"""Projects: create, read, change, list."""
from __future__ import annotations

from typing import Any

from crowd import runtime
from crowd.extensions import db
from crowd.services import members, projects
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
    """The projects the user may reach; workers and experts see what they need to work,
    not progress."""
    found = members.visible_projects(db.session, user())
    if user().role in MANAGER:
        return {"projects": [project_json(p, projects.progress(db.session, p.id)) for p in found]}
    return {"projects": [
        {k: project_json(p)[k] for k in ("id", "name", "labels", "guidelines", "guidelines_version")}
        for p in found
    ]}


@bp.get("/projects/<int:project_id>/members")
@require(*MANAGER, project="manage")
def list_members(project_id: int) -> Any:
    return {"members": members.list_members(db.session, project_id)}


@bp.post("/projects/<int:project_id>/members")
@require(*MANAGER, project="manage")
def add_members(project_id: int) -> Any:
    added = members.add_members(db.session, project_id, json_body(), user(), runtime.now())
    return {"members": added}, 201


@bp.delete("/projects/<int:project_id>/members/<int:user_id>")
@require(*MANAGER, project="manage")
def remove_member(project_id: int, user_id: int) -> Any:
    members.remove_member(db.session, project_id, user_id, runtime.now())
    return "", 204


@bp.get("/projects/<int:project_id>")
@require(*MANAGER, project="manage")
def get_project(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    return project_json(project, projects.progress(db.session, project_id))


@bp.patch("/projects/<int:project_id>")
@require(*MANAGER, project="manage")
def update_project(project_id: int) -> Any:
    project = projects.update_project(db.session, project_id, json_body())
    return project_json(project, projects.progress(db.session, project_id))
