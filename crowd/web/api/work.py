"""The worker's loop: ``next``, ``answer`` and ``undo``, and the worker's own standing."""
from __future__ import annotations

from typing import Any

from crowd import runtime
from crowd.extensions import db
from crowd.services import answering, assignment, standing_report, undo
from crowd.web.api import bp
from crowd.web.api.common import WORKER, json_body, require, user


@bp.post("/projects/<int:project_id>/next")
@require(*WORKER, project="work")
def next_item(project_id: int) -> Any:
    offer = assignment.next_assignment(
        db.session, project_id, user().id, runtime.rng(), runtime.now()
    )
    if offer is None:
        return "", 204
    return offer.as_dict()


@bp.post("/assignments/<int:assignment_id>/answer")
@require(*WORKER)
def answer(assignment_id: int) -> Any:
    label, duration_ms = answering.parse_answer(json_body())
    return answering.answer(
        db.session, assignment_id, user().id, label, duration_ms, runtime.rng(), runtime.now()
    )


@bp.post("/assignments/<int:assignment_id>/undo")
@require(*WORKER)
def undo_answer(assignment_id: int) -> Any:
    """Take back the worker's last answer while its lease lives (if the project allows)."""
    return undo.undo(db.session, assignment_id, user().id, runtime.rng(), runtime.now())


@bp.get("/projects/<int:project_id>/me")
@require(*WORKER, project="work")
def my_standing(project_id: int) -> Any:
    """The worker's own state, gold accuracy and the reasons for what happened to them."""
    return standing_report.own_standing(db.session, project_id, user().id)
