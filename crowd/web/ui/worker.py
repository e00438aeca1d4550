"""The worker's task page: one item at a time, answered by key or click.

``/work/<id>`` takes the next item (``next``) and renders the page; its script
(``static/work.js``) then answers through the JSON API with the browser session and
swaps in ``/work/<id>/task``, the same task fragment for the item ``next`` gave it,
so items follow each other without a page load. Without the script, the answer form
posts to ``/work/<id>/answer`` and the page reloads.
"""
from __future__ import annotations

from typing import Any

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from crowd import runtime
from crowd.domain.errors import CrowdError, Forbidden
from crowd.domain.text import whole_number
from crowd.domain.worker_page import layout, lease_words, left_words, round_counter
from crowd.extensions import db
from crowd.persistence.work import WORKER_STATES
from crowd.services import answering, assignment, projects, worker_task
from crowd.services.standing_report import HIDDEN_GOLD_BLOCK
from crowd.services.worker_task import TaskView
from crowd.web import MAX_ID
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.forms import AnswerForm


def _fragment_context(view: TaskView, since: str | None) -> dict[str, Any]:
    """What ``work_task.html`` needs: the same for hidden gold and work offers."""
    offer, standing = view.offer, view.standing
    state = standing.state if standing is not None else "new"
    context: dict[str, Any] = {
        "project": view.project, "offer": offer, "standing": standing, "state": state,
        "progress": view.progress, "left": left_words(view.progress.left),
        "managers": view.managers, "record": view.record, "gold_block": HIDDEN_GOLD_BLOCK,
        "form": None,
        "since": since if since != state else None,
    }
    if offer is not None:
        seconds = (offer.assignment.expires_at - runtime.now()).total_seconds()
        context.update(
            form=AnswerForm(assignment_id=offer.assignment.id),
            blocks=layout(offer.item.data, current_app.config["IMAGE_ORIGINS"]),
            lease_seconds=max(int(seconds), 0), lease_text=lease_words(seconds),
            round=(round_counter(standing.round_seen, view.project.qualification_size)
                   if standing is not None and offer.assignment.mode != "work" else None),
        )
    return context


@bp.get("/work/<int:project_id>")
@role_required("worker", project="work")
def work(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    now = runtime.now()
    try:
        offer = assignment.next_assignment(db.session, project_id, current_user.id,
                                           runtime.rng(), now)
    except Forbidden:
        offer = None
    view = worker_task.task_view(db.session, project, current_user.id, offer, now)
    context = _fragment_context(view, None)
    status = 403 if context["state"] == "suspended" else 200
    return render_template("work.html", **context), status


@bp.get("/work/<int:project_id>/task")
@role_required("worker", project="work")
def work_task(project_id: int) -> Any:
    """The task fragment for the lease the worker holds (``assignment``, as ``next``
    gave it), or the page for nothing left, suspended or not started. Never reserves.
    ``since`` is the state the page showed before, to say what changed. The script
    asks with ``X-Crowd-Fragment: 1`` for the fragment alone; opened as a page, the
    same content comes as the whole task page."""
    project = projects.get_project(db.session, project_id)
    now = runtime.now()
    wanted = whole_number(request.args.get("assignment", ""), MAX_ID)
    offer = worker_task.held_offer(db.session, project, current_user.id, now, wanted)
    view = worker_task.task_view(db.session, project, current_user.id, offer, now)
    since = request.args.get("since")
    context = _fragment_context(view, since if since in WORKER_STATES else None)
    alone = request.headers.get("X-Crowd-Fragment") == "1"
    response = make_response(render_template("work_task.html" if alone else "work.html",
                                             **context))
    response.vary.add("X-Crowd-Fragment")
    return response


@bp.post("/work/<int:project_id>/answer")
@role_required("worker", project="work")
def work_answer(project_id: int) -> Any:
    """The answer form without the script: store it, say how it went, show the next."""
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
