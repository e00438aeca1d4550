"""The worker's task page: one item at a time, one click per label."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from crowd import runtime
from crowd.domain.errors import CrowdError, Forbidden
from crowd.domain.text import whole_number
from crowd.extensions import db
from crowd.services import answering, assignment, projects, standing_report
from crowd.web import MAX_ID
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.forms import AnswerForm


@bp.get("/work/<int:project_id>")
@role_required("worker", project="work")
def work(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    try:
        offer = assignment.next_assignment(
            db.session, project_id, current_user.id, runtime.rng(), runtime.now()
        )
    except Forbidden as refusal:
        standing = standing_report.own_standing(db.session, project_id, current_user.id)
        return render_template("work.html", project=project, offer=None,
                               refusal=refusal.message, standing=standing), 403
    standing = standing_report.own_standing(db.session, project_id, current_user.id)
    form = AnswerForm(assignment_id=offer.assignment.id) if offer else None
    return render_template("work.html", project=project, offer=offer, form=form,
                           standing=standing, refusal=None)


@bp.post("/work/<int:project_id>/answer")
@role_required("worker", project="work")
def work_answer(project_id: int) -> Any:
    form = AnswerForm()
    assignment_id = whole_number(str(form.assignment_id.data), MAX_ID)
    if not form.validate_on_submit() or assignment_id is None:
        flash("That answer could not be read; please try again.", "error")
        return redirect(url_for("ui.work", project_id=project_id))
    try:
        result = answering.answer(
            db.session, assignment_id, current_user.id, form.label.data,
            whole_number(form.duration_ms.data or "", 2**31 - 1), runtime.rng(), runtime.now(),
        )
    except CrowdError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("ui.work", project_id=project_id))
    feedback = result.get("feedback")
    if feedback:
        if feedback["correct"]:
            flash("Correct!", "success")
        else:
            flash(f"Not quite: the expected answer was “{feedback['expected']}”.", "error")
    return redirect(url_for("ui.work", project_id=project_id))
