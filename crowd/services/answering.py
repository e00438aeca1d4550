"""``answer``: storing a worker's label, scoring gold, settling the item."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowd.domain.errors import Conflict, Gone, InvalidInput, NotFound
from crowd.domain.fraud.sniffing import disguised
from crowd.domain.gold import feedback, is_correct
from crowd.domain.qualification import round_result
from crowd.domain.reliability import is_evidence
from crowd.domain.undo import Before, snapshot, undoable
from crowd.persistence import Assignment, Item, Label, Project, WorkerStanding
from crowd.services.drift import check_agreement_on_schedule, check_gold_drift
from crowd.services.fraud import check_answer_fraud
from crowd.services.settling import mark_gold_answered, settle_item
from crowd.services.standing import change_state, lock_standing

ROUND_MODES = {"qualification": "qualification", "training": "retraining"}


def parse_answer(body: Any) -> tuple[str, int | None]:
    """The label and optional duration of an answer body, or ``InvalidInput``."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    if "label" not in body:
        raise InvalidInput("label is required", code="missing_field")
    label = body["label"]
    if not isinstance(label, str):
        raise InvalidInput("label must be a string", code="invalid_label")
    duration = body.get("duration_ms")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int) or not 0 <= duration < 2**31
    ):
        raise InvalidInput("duration_ms must be a non-negative whole number",
                           code="invalid_duration")
    return label, duration


def answer(
    session: Session, assignment_id: int, worker_id: int, label: str, duration_ms: int | None,
    rng: np.random.Generator, now: datetime,
) -> dict[str, Any]:
    """Store an answer. Idempotent for the same label; see API.md for the refusals."""
    assignment, project, standing = _load(session, assignment_id, worker_id, now)
    # Lock order everywhere: standing, then assignments, then items.
    session.refresh(assignment, with_for_update=True)
    if assignment.answered_at is not None:
        return _replay(session, assignment, label)
    if assignment.released_at is not None or assignment.expires_at <= now:
        raise Gone("this assignment's lease has expired", code="lease_expired")
    if label not in project.labels:
        raise InvalidInput(f"{label!r} is not one of this project's labels", code="unknown_label")
    item = session.get(Item, assignment.item_id, with_for_update=True, populate_existing=True)
    assert item is not None
    before = Before.of(standing, item)  # what undo would put back (crowd.services.undo)
    correct = is_correct(label, item.gold_label) if assignment.is_gold and item.gold_label else None
    session.add(Label(
        project_id=project.id, item_id=item.id, worker_id=worker_id,
        assignment_id=assignment.id, label=label, mode=assignment.mode,
        is_gold=assignment.is_gold, correct=correct, created_at=now, duration_ms=duration_ms,
        guidelines_version=project.guidelines_version,
    ))
    assignment.answered_at = now
    # A retraining round after a sniffing finding is served as work (no feedback).
    in_disguise = disguised(standing.state, standing.state_reason_code)
    if correct is not None:
        if assignment.mode == "work":
            # The label first, then the standing's changes: one UPDATE of it, at commit.
            session.flush()
            mark_gold_answered(session, project, item)
        standing.gold_seen += 1
        standing.gold_correct += int(correct)
        if is_evidence(assignment.mode) and not in_disguise:  # round gold is not evidence
            standing.hidden_gold_seen += 1
            standing.hidden_gold_correct += int(correct)
        round_state = "retraining" if in_disguise else ROUND_MODES.get(assignment.mode)
        if round_state is not None and standing.state == round_state:
            standing.round_seen += 1
            standing.round_correct += int(correct)
            change = round_result(
                standing.state, standing.round_seen, standing.round_correct,
                project.qualification_size, project.qualification_accuracy,
            )
            if change is not None:
                change_state(session, standing, change, now)
        elif assignment.mode == "work":
            check_gold_drift(session, project, standing, bool(correct), rng, now)
    elif not assignment.is_gold:
        if item.status == "open":
            session.flush()  # the label, so that settling weighs it
            settle_item(session, project, item, rng)
        # After the flush, so that each row changed here gets one UPDATE: the
        # item's count with its settled posterior, the standing's count with the
        # rest of what this answer changes in it.
        item.n_labels += 1
        item.started = True  # a labelled item goes first in the queue, to be finished
        standing.work_labels += 1
    if assignment.mode == "work":
        check_agreement_on_schedule(session, project, standing, rng, now)
        check_answer_fraud(session, project, standing, label, duration_ms, rng, now)
    # Kept in the standing's UPDATE that this answer sends anyway: no statement more.
    standing.last_answer = (
        snapshot(before, assignment.id, standing, item)
        if undoable(project.allow_undo, assignment.mode, standing.state) else None)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("this item was already answered", code="already_answered") from None
    return _response(assignment.mode, label, item.gold_label if correct is not None else None)


def _load(session: Session, assignment_id: int, worker_id: int,
          now: datetime) -> tuple[Assignment, Project, WorkerStanding]:
    """The worker's assignment, its project and the worker's standing there,
    locked (only the standing: the first lock taken is the standing's, as
    everywhere); one statement. ``NotFound`` for another worker's assignment."""
    mine = and_(Assignment.id == assignment_id, Assignment.worker_id == worker_id)
    row = session.execute(
        select(Assignment, Project, WorkerStanding)
        .join(Project, Project.id == Assignment.project_id)
        .join(WorkerStanding, and_(WorkerStanding.project_id == Assignment.project_id,
                                   WorkerStanding.worker_id == Assignment.worker_id))
        .where(mine)
        .with_for_update(of=WorkerStanding)
        .execution_options(populate_existing=True)
    ).first()
    if row is not None:
        return row[0], row[1], row[2]
    found = session.execute(
        select(Assignment, Project).join(Project, Project.id == Assignment.project_id)
        .where(mine)).first()
    if found is None:
        raise NotFound(f"assignment {assignment_id} not found")
    # A lease whose standing is gone (never in crowd's own flow): make it anew.
    return found[0], found[1], lock_standing(session, found[1], worker_id, now)


def _replay(session: Session, assignment: Assignment, label: str) -> dict[str, Any]:
    stored = session.scalar(select(Label).where(Label.assignment_id == assignment.id))
    assert stored is not None
    if stored.label != label:
        raise Conflict("this assignment was already answered with another label",
                       code="already_answered")
    gold = None
    if stored.correct is not None:
        gold = session.scalar(select(Item.gold_label).where(Item.id == assignment.item_id))
    session.commit()
    return _response(assignment.mode, label, gold)


def _response(mode: str, label: str, gold_label: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"accepted": True}
    if mode in ROUND_MODES and gold_label is not None:
        out["feedback"] = feedback(label, gold_label)
    return out
