"""``undo``: a worker takes back their last work answer while its lease lives.

The answer's label is deleted and the assignment is unanswered again, with the
same lease (``expires_at`` does not move), so the worker answers it again with
``POST /assignments/<id>/answer``. What the answer changed is put back from the
snapshot it kept on the standing (``crowd.domain.undo``): the gold record, the
work label count, the gold CUSUM, the fraud rules' summary of recent answers,
and for a work item its label count, posterior, result, status and target. A
work item that changed since (another worker's label, a discount, an
aggregation run, an expert) is reopened and settled from the labels it still
has instead; one an expert resolved keeps its resolution. The label row itself
is deleted (the answer again is a new row).

Hidden gold stays hidden: a gold item and a work item are undone by the same
statements (the same lock, DELETE, posterior query and UPDATEs of the same
columns), with the same answer and the same refusals, each decided by what the
worker can see already (the project's setting, the assignment's mode and lease,
their own state, which answer was their last).

Refused (``undo_refused``, 409) when the project does not allow it, for answers
given with feedback (qualification, training: undoing would let a worker try
every label), for an assignment with no answer, for any answer but the worker's
last in the project, while the worker is not active, and when their standing
changed since the answer (a sanction or a manager's decision stands: undo does
not undo it). A suspended worker gets 403 ``suspended`` as ``next`` does; an
expired lease 410 ``lease_expired`` as ``answer`` does.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from crowd.domain.access import may
from crowd.domain.errors import Conflict, Forbidden, Gone, NotFound
from crowd.domain.undo import (
    ITEM_FIELDS,
    STANDING_FIELDS,
    item_unchanged,
    standing_unchanged,
    stored,
)
from crowd.persistence import (
    Assignment,
    Item,
    Label,
    Project,
    ProjectMember,
    WorkerStanding,
    iso,
)
from crowd.services.settling import NO_ITEM, item_label_posterior, settle_item

REFUSED = "undo_refused"


def undo(session: Session, assignment_id: int, worker_id: int, rng: np.random.Generator,
         now: datetime) -> dict[str, Any]:
    """Take back the worker's answer to ``assignment_id``; see the module for the refusals."""
    assignment, project, standing = _load(session, assignment_id, worker_id)
    kept = _refuse_or_kept(assignment, project, standing, now)
    # Lock order everywhere: the standing (held since _load), then the item.
    item = session.get(Item, assignment.item_id, with_for_update=True, populate_existing=True)
    assert item is not None
    session.execute(delete(Label).where(Label.assignment_id == assignment.id))
    _put_back_item(session, project, item, assignment.is_gold, kept, rng)
    for name in STANDING_FIELDS:
        setattr(standing, name, stored(name, kept["standing"]["before"][name]))
        flag_modified(standing, name)  # the same UPDATE for gold and work
    standing.last_answer = None
    assignment.answered_at = None
    session.commit()
    return {"undone": True, "assignment_id": assignment.id, "expires_at": iso(assignment.expires_at)}


def _load(session: Session, assignment_id: int,
          worker_id: int) -> tuple[Assignment, Project, WorkerStanding]:
    """The worker's assignment, its project and their standing there (locked), in one
    statement; ``NotFound`` for another worker's assignment, or a project the worker
    may no longer reach (a removed member), as for an unknown id."""
    row = session.execute(
        select(Assignment, Project, WorkerStanding, ProjectMember)
        .join(Project, Project.id == Assignment.project_id)
        .join(WorkerStanding, and_(WorkerStanding.project_id == Assignment.project_id,
                                   WorkerStanding.worker_id == Assignment.worker_id))
        .outerjoin(ProjectMember, and_(ProjectMember.project_id == Assignment.project_id,
                                       ProjectMember.user_id == Assignment.worker_id))
        .where(Assignment.id == assignment_id, Assignment.worker_id == worker_id)
        .with_for_update(of=WorkerStanding)
        .execution_options(populate_existing=True)
    ).first()
    if row is None or not may("worker", "work", row[1].enrollment, row[3] and row[3].role,
                              row[3] is not None and row[3].removed_at is not None):
        raise NotFound(f"assignment {assignment_id} not found")
    return row[0], row[1], row[2]


def _refuse_or_kept(assignment: Assignment, project: Project, standing: WorkerStanding,
                    now: datetime) -> dict[str, Any]:
    """The snapshot the answer kept, or the refusal; every check is on what the
    worker sees already, never on whether the item is gold."""
    if not project.allow_undo:
        raise Conflict("this project does not let workers undo an answer", code=REFUSED)
    if assignment.mode != "work":
        raise Conflict("answers given with feedback (qualification, training) cannot be undone",
                       code=REFUSED)
    if standing.state == "suspended":
        raise Forbidden("you are suspended from this project", code="suspended")
    if assignment.answered_at is None:
        raise Conflict("this assignment has no answer to undo", code=REFUSED)
    if assignment.released_at is not None or assignment.expires_at <= now:
        raise Gone("this assignment's lease has expired; its answer stands",
                   code="lease_expired")
    if standing.state != "active":
        raise Conflict(f"answers cannot be undone in {standing.state}; this one stands",
                       code=REFUSED)
    kept = standing.last_answer
    if kept is None or kept.get("assignment") != assignment.id:
        raise Conflict("only your last answer in this project can be undone", code=REFUSED)
    if not standing_unchanged(kept, standing):
        raise Conflict("your standing in this project changed since this answer; it stands",
                       code=REFUSED)
    return kept


def _put_back_item(session: Session, project: Project, item: Item, is_gold: bool,
                   kept: dict[str, Any], rng: np.random.Generator) -> None:
    """Hidden gold and work items alike as they were before the answer if no one
    touched them since; else hidden gold as it is (``started``), and a work item
    without the label (an expert's resolution stands;
    anything else is reopened and settled from its remaining labels). One
    posterior query and one UPDATE of every tracked column (at commit) in each case."""
    with session.no_autoflush:
        if item_unchanged(kept, item):
            # The query settling sends (for hidden gold, on no item: see NO_ITEM).
            item_label_posterior(session, project, Item(id=NO_ITEM) if is_gold else item)
            for name in ITEM_FIELDS:
                setattr(item, name, kept["item"]["before"][name])
        elif is_gold:  # answered by someone else since: started it stays
            item_label_posterior(session, project, Item(id=NO_ITEM))
        elif item.status == "resolved":
            item.n_labels = max(0, item.n_labels - 1)
            item_label_posterior(session, project, item)
        else:
            item.n_labels = max(0, item.n_labels - 1)
            item.status, item.review_reason = "open", None
            settle_item(session, project, item, rng)
        for name in ITEM_FIELDS:
            flag_modified(item, name)
