"""A project's members: the list, adding by username (one or a pasted list),
removing, and the enrollment setting."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crowd import runtime
from crowd.domain.errors import CrowdError
from crowd.extensions import db
from crowd.services import member_batch, member_page, members, projects
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.manage_forms import ENROLLMENT_HELP, EnrollmentForm, MembersForm, PlainForm


def _page(project_id: int, form: MembersForm, refused: list[tuple[str, str]] | None = None,
          status: int = 200, after: str | None = None) -> Any:
    """The page: one page of members (after ``after``), each with a removal form
    carrying the page's one CSRF token (signed once, not once a row)."""
    project = projects.get_project(db.session, project_id)
    return render_template(
        "members.html", project=project, form=form, refused=refused or [],
        members=member_page.page(db.session, project_id, after), after=after,
        enrollment_form=EnrollmentForm(enrollment=project.enrollment),
        enrollment_help=ENROLLMENT_HELP), status


def _back(project_id: int, after: str | None = None) -> Any:
    return redirect(url_for("ui.members_page", project_id=project_id, after=after), 303)


@bp.get("/projects/<int:project_id>/members")
@role_required("manager", "admin", project="manage")
def members_page(project_id: int) -> Any:
    after = member_page.parse_key(request.args.get("after"))
    return _page(project_id, MembersForm(), after=after)


@bp.post("/projects/<int:project_id>/members")
@role_required("manager", "admin", project="manage")
def members_add(project_id: int) -> Any:
    form = MembersForm()
    if not form.validate_on_submit():
        flash("Give at least one username.", "error")
        return _page(project_id, form, status=422)
    names = member_batch.pasted_names(form.usernames.data)
    try:
        result = member_batch.add_by_names(db.session, project_id, names, form.role.data,
                                           current_user, runtime.now())
    except CrowdError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return _page(project_id, form, status=422)
    if result.added:
        flash(f"Added {len(result.added)}: {', '.join(m['username'] for m in result.added)}.",
              "success")
    if not result.refused:
        return _back(project_id)
    form.usernames.data = "\n".join(name for name, _ in result.refused)  # left to fix
    return _page(project_id, form, result.refused, status=422)


@bp.post("/projects/<int:project_id>/members/<int:user_id>/remove")
@role_required("manager", "admin", project="manage")
def members_remove(project_id: int, user_id: int) -> Any:
    after = member_page.parse_key(request.form.get("after"))  # back to the same page
    if PlainForm().validate_on_submit():
        try:
            members.remove_member(db.session, project_id, user_id, runtime.now())
            flash("Member removed; their leases were released and their labels kept.",
                  "success")
        except CrowdError as refusal:
            db.session.rollback()
            flash(refusal.message, "error")
    else:
        flash("That removal could not be read; please try again.", "error")
    return _back(project_id, after)


@bp.post("/projects/<int:project_id>/members/enrollment")
@role_required("manager", "admin", project="manage")
def members_enrollment(project_id: int) -> Any:
    form = EnrollmentForm()
    if form.validate_on_submit():
        try:
            projects.update_project(db.session, project_id, {"enrollment": form.enrollment.data})
            flash(f"Enrollment is now “{form.enrollment.data}”.", "success")
        except CrowdError as refusal:
            db.session.rollback()
            flash(refusal.message, "error")
    else:
        flash("Choose open or invite.", "error")
    return _back(project_id)
