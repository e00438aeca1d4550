"""A worker's standing in a project: getting it, changing its state, recording why."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowd.domain.qualification import StateChange, initial_state
from crowd.persistence import Assignment, Project, StateEvent, WorkerStanding


def lock_standing(session: Session, project: Project, worker_id: int, now: datetime) -> WorkerStanding:
    """The worker's standing row, locked for this transaction; made on first visit.

    Locking it serialises one worker's own concurrent requests in a project
    (a double click cannot take two leases).
    """
    query = (
        select(WorkerStanding)
        .where(WorkerStanding.project_id == project.id, WorkerStanding.worker_id == worker_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    standing = session.scalar(query)
    if standing is not None:
        return standing
    first = initial_state(project.qualification_size)
    standing = WorkerStanding(
        project_id=project.id, worker_id=worker_id, state=first.to_state,
        state_reason_code=first.reason_code, state_reason=first.reason, state_changed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(standing)
            session.add(_event(project.id, worker_id, None, first, None, now))
    except IntegrityError:
        # Another request of the same worker made it first: use theirs.
        standing = session.scalars(query).one()
    return standing


def change_state(
    session: Session,
    standing: WorkerStanding,
    change: StateChange,
    now: datetime,
    actor_id: int | None = None,
) -> None:
    """Move a worker to a new state and record the event.

    Entering qualification or retraining starts a fresh round; suspension and
    retraining release the worker's live leases so their items go back to the pool.
    """
    session.add(_event(standing.project_id, standing.worker_id, standing.state, change, actor_id, now))
    standing.state = change.to_state
    standing.state_reason_code = change.reason_code
    standing.state_reason = change.reason
    standing.state_changed_at = now
    standing.recent_answers = None  # the fraud rules' evidence starts afresh: rebuild it
    if change.to_state in ("qualification", "retraining"):
        standing.round_seen = 0
        standing.round_correct = 0
    if change.to_state in ("suspended", "retraining"):
        release_leases(session, standing.project_id, standing.worker_id, now)


def release_leases(session: Session, project_id: int, worker_id: int, now: datetime) -> None:
    """End a worker's unanswered leases in a project at once."""
    session.execute(
        update(Assignment)
        .where(
            Assignment.project_id == project_id,
            Assignment.worker_id == worker_id,
            Assignment.answered_at.is_(None),
            Assignment.released_at.is_(None),
        )
        .values(released_at=now)
    )


def _event(
    project_id: int, worker_id: int, from_state: str | None, change: StateChange,
    actor_id: int | None, now: datetime,
) -> StateEvent:
    return StateEvent(
        project_id=project_id, worker_id=worker_id, from_state=from_state,
        to_state=change.to_state, reason_code=change.reason_code, reason=change.reason,
        evidence=change.evidence, actor_id=actor_id, created_at=now,
    )
