"""Reading worker standings: the manager's table and a worker's own view."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.domain.errors import InvalidInput, NotFound
from crowd.domain.qualification import CAP_FACTOR, StateChange, round_progress
from crowd.domain.reliability import beta_accuracy
from crowd.domain.text import MAX_REASON, clean_text
from crowd.persistence import Label, Project, StateEvent, User, WorkerStanding
from crowd.services.standing import change_state

# A worker sees their hidden-gold record only in whole blocks of this many
# answers, so watching it after each answer cannot tell them which item was gold.
HIDDEN_GOLD_BLOCK = 10


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def standing_json(standing: WorkerStanding, username: str) -> dict[str, Any]:
    """A standing as the manager's worker table shows it."""
    seen, correct = standing.gold_seen, standing.gold_correct
    return {
        "worker": standing.worker_id,
        "username": username,
        "state": standing.state,
        "state_reason": standing.state_reason,
        "state_reason_code": standing.state_reason_code,
        "state_changed_at": _iso(standing.state_changed_at),
        "gold_seen": seen,
        "gold_correct": correct,
        "gold_accuracy": round(correct / seen, 4) if seen else None,
        "gold_accuracy_posterior": round(beta_accuracy(correct, seen), 4),
        "estimated_accuracy": standing.estimated_accuracy,
        "labels": standing.work_labels,
    }


def worker_table(session: Session, project_id: int) -> list[dict[str, Any]]:
    """Every worker who has worked in the project, with state and scores."""
    _project(session, project_id)
    rows = session.execute(
        select(WorkerStanding, User.username)
        .join(User, User.id == WorkerStanding.worker_id)
        .where(WorkerStanding.project_id == project_id)
        .order_by(WorkerStanding.worker_id)
    )
    return [standing_json(standing, username) for standing, username in rows]


def override_state(
    session: Session, project_id: int, worker_id: int, body: Any, manager: User, now: datetime
) -> dict[str, Any]:
    """A manager sets a worker's state, with a reason that is recorded."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    state, reason = body.get("state"), body.get("reason")
    if state not in ("active", "retraining", "suspended"):
        raise InvalidInput("state must be active, retraining or suspended", code="invalid_state")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("a reason is required", code="missing_reason")
    clean_text(reason, "reason", MAX_REASON, code="invalid_reason")
    project = _project(session, project_id)
    standing = session.scalar(
        select(WorkerStanding)
        .where(WorkerStanding.project_id == project.id, WorkerStanding.worker_id == worker_id)
        .with_for_update()
    )
    if standing is None:
        raise NotFound(f"worker {worker_id} has not worked in project {project_id}")
    change = StateChange(
        state, "manager_override", reason.strip(),
        {"gold_seen": standing.gold_seen, "gold_correct": standing.gold_correct,
         "by": manager.username},
    )
    change_state(session, standing, change, now, actor_id=manager.id)
    session.commit()
    username = session.scalar(select(User.username).where(User.id == worker_id)) or ""
    return standing_json(standing, username)


def own_standing(session: Session, project_id: int, worker_id: int) -> dict[str, Any]:
    """What a worker may see of their own standing: state, reasons, gold record.

    Feedback-round gold counts at once; hidden gold only in whole blocks.
    ``round`` tells a worker in qualification or retraining how far they are.
    """
    project = _project(session, project_id)
    standing = session.scalar(
        select(WorkerStanding)
        .where(WorkerStanding.project_id == project_id, WorkerStanding.worker_id == worker_id)
    )
    if standing is None:
        return {"project_id": project_id, "state": "new", "gold_seen": 0, "gold_correct": 0,
                "gold_accuracy": None, "labels": 0, "state_reason": None, "round": None,
                "history": []}
    gold = session.execute(
        select(Label.mode, Label.correct, Label.assignment_id)
        .where(Label.project_id == project_id, Label.worker_id == worker_id,
               Label.is_gold.is_(True))
        .order_by(Label.id)
    ).all()
    open_gold = [c for mode, c, _ in gold if mode != "work"]
    # An answer that may still be undone (crowd.services.undo) counts once it stands:
    # a block it completed must not show before the worker can no longer change it.
    pending = (standing.last_answer or {}).get("assignment")
    hidden = [c for mode, c, held in gold if mode == "work" and held != pending]
    shown = open_gold + hidden[: len(hidden) - len(hidden) % HIDDEN_GOLD_BLOCK]
    events = session.scalars(
        select(StateEvent)
        .where(StateEvent.project_id == project_id, StateEvent.worker_id == worker_id)
        .order_by(StateEvent.id)
    )
    return {
        "project_id": project_id,
        "state": standing.state,
        "state_reason": standing.state_reason,
        "state_reason_code": standing.state_reason_code,
        "gold_seen": len(shown),
        "gold_correct": sum(bool(c) for c in shown),
        "gold_accuracy": round(sum(bool(c) for c in shown) / len(shown), 4) if shown else None,
        # Work-mode answers, hidden gold included: a count of work labels alone
        # would rise after a work item and not after gold, telling them apart.
        "labels": standing.work_labels + standing.hidden_gold_seen,
        "round": _round(standing, project.qualification_size),
        "history": [
            {"at": _iso(e.created_at), "from": e.from_state, "to": e.to_state,
             "reason_code": e.reason_code, "reason": e.reason,
             "by": "system" if e.actor_id is None else "manager"}
            for e in events
        ],
    }


def _round(standing: WorkerStanding, size: int) -> dict[str, Any] | None:
    """A qualification or retraining round in progress: answered so far and the cap.

    Only round gold (answered with feedback) is counted, never hidden gold; no
    scores are shown (the worker has had the feedback on each answer).
    """
    if standing.state not in ("qualification", "retraining"):
        return None
    return {"answered": standing.round_seen, "at_least": max(size, 0),
            "at_most": CAP_FACTOR * max(size, 0), "text": round_progress(standing.round_seen, size)}


def worker_detail(session: Session, project_id: int, worker_id: int) -> dict[str, Any]:
    """A manager's view of one worker: the standing and every recorded state change
    with its evidence and who made it, and the round in progress, if any."""
    project = _project(session, project_id)
    row = session.execute(
        select(WorkerStanding, User.username)
        .join(User, User.id == WorkerStanding.worker_id)
        .where(WorkerStanding.project_id == project_id, WorkerStanding.worker_id == worker_id)
    ).first()
    if row is None:
        raise NotFound(f"worker {worker_id} has not worked in project {project_id}")
    actors = {}
    out = standing_json(row[0], row[1])
    out["confusion"] = row[0].confusion
    out["round"] = _round(row[0], project.qualification_size)
    history = []
    for event in session.scalars(
        select(StateEvent)
        .where(StateEvent.project_id == project_id, StateEvent.worker_id == worker_id)
        .order_by(StateEvent.id)
    ):
        if event.actor_id is not None and event.actor_id not in actors:
            actors[event.actor_id] = session.scalar(
                select(User.username).where(User.id == event.actor_id))
        history.append({
            "at": _iso(event.created_at), "from": event.from_state, "to": event.to_state,
            "reason_code": event.reason_code, "reason": event.reason, "evidence": event.evidence,
            "by": "system" if event.actor_id is None else actors[event.actor_id],
        })
    out["history"] = history
    return out
