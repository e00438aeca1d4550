"""The manager's projects: the list, creating one, changing one; guidelines as
safe Markdown (the ``markdown`` template filter, for every page)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from crowd.domain.errors import CrowdError
from crowd.domain.markdown import render
from crowd.domain.settings import SETTINGS, SWITCHES
from crowd.extensions import db
from crowd.services import project_pages, projects
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.manage_forms import (
    ENROLLMENT_HELP,
    GROUPS,
    SETTING_HINTS,
    SWITCH_HINTS,
    ProjectForm,
    field_errors,
    project_body,
    refused_field,
)

@bp.app_template_filter("markdown")
def markdown(text: str | None) -> Markup:
    """Markdown as safe HTML: every tag of the text is escaped first."""
    return Markup(render(text or ""))  # noqa: S704 - crowd.domain.markdown escapes all input


@bp.get("/projects")
@role_required("manager", "admin")
def projects_list() -> Any:
    listed = project_pages.managed_projects(db.session, current_user)
    return render_template("projects.html", listed=listed)


def _form_page(form: Any, errors: dict[str, str], project: Any = None, status: int = 200,
               locked: bool = False) -> Any:
    return render_template("project_form.html", form=form, errors=errors, project=project,
                           groups=GROUPS, hints=SETTING_HINTS, switches=SWITCH_HINTS,
                           enrollment_help=ENROLLMENT_HELP, locked=locked), status


def _refusal(refusal: CrowdError, errors: dict[str, str]) -> dict[str, str]:
    db.session.rollback()  # a refused change leaves nothing behind, not even in the session
    return {**errors, refused_field(refusal.message): refusal.message}


@bp.route("/projects/new", methods=["GET", "POST"])
@role_required("manager", "admin")
def project_new() -> Any:
    form = ProjectForm()
    if request.method == "GET":
        return _form_page(form, {})
    if not form.validate_on_submit():
        return _form_page(form, {name: "; ".join(problems)
                                 for name, problems in form.errors.items()}, status=422)
    body = project_body(form)
    errors = field_errors(body)
    if not errors:
        try:
            project = projects.create_project(db.session, body, current_user)
        except CrowdError as refusal:
            errors = _refusal(refusal, errors)
        else:
            flash(f"Project “{project.name}” created. Next: add members and items.", "success")
            return redirect(url_for("ui.project_edit", project_id=project.id), 303)
    return _form_page(form, errors, status=422)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@role_required("manager", "admin", project="manage")
def project_edit(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    locked = project_pages.labels_locked(db.session, project_id)
    if request.method == "GET":
        form = ProjectForm(name=project.name, labels="\n".join(project.labels),
                           guidelines=project.guidelines, enrollment=project.enrollment,
                           **{s.name: str(getattr(project, s.name)) for s in SETTINGS},
                           **{s.name: getattr(project, s.name) for s in SWITCHES})
        return _form_page(form, {}, project, locked=locked)
    form = ProjectForm()
    if not form.validate_on_submit():
        return _form_page(form, {name: "; ".join(problems)
                                 for name, problems in form.errors.items()}, project, 422, locked)
    body = project_body(form)
    errors = field_errors(body)
    if not errors:
        version = project.guidelines_version
        try:
            project = projects.update_project(db.session, project_id, body)
        except CrowdError as refusal:
            errors = _refusal(refusal, errors)
        else:
            changed = (f" The guidelines changed: they are now version "
                       f"{project.guidelines_version}." if project.guidelines_version != version
                       else "")
            flash(f"Project saved.{changed}", "success")
            return redirect(url_for("ui.project_edit", project_id=project_id), 303)
    return _form_page(form, errors, projects.get_project(db.session, project_id), 422, locked)
