"""Expert review: the queue of uncertain items, and final resolutions."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from crowd.domain.errors import Conflict, InvalidInput, NotFound
from crowd.domain.reliability import beta_accuracy
from crowd.domain.text import MAX_NOTE, clean_text
from crowd.persistence import Item, Label, User, WorkerStanding
from crowd.services.members import reach
from crowd.services.projects import get_project

MAX_PAGE = 500
# Most uncertain first (no posterior yet counts as the least certain), then oldest.
QUEUE_ORDER = (Item.confidence.asc().nulls_first(), Item.id)


def in_review(project_id: int) -> Select[tuple[Item]]:
    """A project's work items in review: the prefix of the work-queue index
    (project, is_gold, status), so neither the queue nor its count reads other items."""
    return select(Item).where(Item.project_id == project_id, Item.is_gold.is_(False),
                              Item.status == "in_review")


def review_queue(session: Session, project_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Items in review, most uncertain first, with each label's worker and reliability."""
    get_project(session, project_id)
    items = list(session.scalars(
        in_review(project_id).order_by(*QUEUE_ORDER).limit(max(1, min(limit, MAX_PAGE)))
    ))
    return entries(session, items)


def entries(session: Session, items: list[Item]) -> list[dict[str, Any]]:
    """The queue's view of ``items``: each with its work labels (one query for all)."""
    by_item: dict[int, list[dict[str, Any]]] = {item.id: [] for item in items}
    if items:
        rows = session.execute(
            select(Label, User.username, WorkerStanding)
            .join(User, User.id == Label.worker_id)
            .outerjoin(WorkerStanding, and_(WorkerStanding.project_id == Label.project_id,
                                            WorkerStanding.worker_id == Label.worker_id))
            .where(Label.item_id.in_(list(by_item)), Label.is_gold.is_(False))
            .order_by(Label.id)
        )
        for label, username, standing in rows:
            by_item[label.item_id].append({
                "worker": label.worker_id, "username": username, "label": label.label,
                "counted": label.counted, "reliability": _reliability(standing),
                "created_at": label.created_at.isoformat().replace("+00:00", "Z"),
            })
    return [
        {"item": {"id": item.public_id, "external_id": item.external_id, "data": item.data},
         "reason": item.review_reason, "posterior": item.posterior,
         "confidence": item.confidence, "labels": by_item[item.id]}
        for item in items
    ]


def _reliability(standing: WorkerStanding | None) -> float | None:
    if standing is None:
        return None
    if standing.estimated_accuracy is not None:
        return standing.estimated_accuracy
    return round(beta_accuracy(standing.gold_correct, standing.gold_seen), 4)


def resolve(
    session: Session, public_id: int, body: Any, expert: User, now: datetime,
    project_id: int | None = None,
) -> dict[str, Any]:
    """An expert's final decision on the item with this opaque id; may promote it to gold.

    With ``project_id`` (the review page's project) an item of another project is
    not found, as an unknown one is."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    label, note, promote = body.get("label"), body.get("note"), body.get("promote_to_gold", False)
    if not isinstance(label, str):
        raise InvalidInput("label is required and must be a string", code="missing_field")
    if note is not None and not isinstance(note, str):
        raise InvalidInput("note must be a string", code="invalid_note")
    if note is not None:
        clean_text(note, "note", MAX_NOTE, code="invalid_note")
    if not isinstance(promote, bool):
        raise InvalidInput("promote_to_gold must be true or false", code="invalid_promote")
    item = session.scalar(
        select(Item).where(Item.public_id == public_id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if item is None or item.is_gold or project_id not in (None, item.project_id):
        raise NotFound(f"item {public_id} not found in review")
    try:
        project = reach(session, expert, item.project_id, "review")
    except NotFound:
        raise NotFound(f"item {public_id} not found in review") from None
    if label not in project.labels:
        raise InvalidInput(f"{label!r} is not one of this project's labels", code="unknown_label")
    if item.status == "resolved":
        raise Conflict("this item was already resolved by an expert", code="already_resolved")
    if item.status != "in_review":
        raise Conflict("this item is not in review", code="not_in_review")
    item.status = "resolved"
    item.result_label, item.result_source, item.confidence = label, "expert", 1.0
    item.review_note, item.resolved_by_id, item.resolved_at = note, expert.id, now
    if promote:
        item.is_gold, item.gold_label = True, label
    session.commit()
    return {"item_id": item.public_id, "external_id": item.external_id, "status": item.status,
            "label": label, "source": "expert", "promoted_to_gold": promote}
