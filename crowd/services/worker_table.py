"""The manager's workers table: sorted by any column, paged by keyset.

A page key is the worker id of the previous page's last row; the next page starts
after that worker's current sort value (ties broken by worker id), so every
worker is shown once however many there are and no page needs an OFFSET. Answer
times and last activity come from the activity counters (plus the labels since
the job last ran, for last activity), never from a scan of the labels.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crowd.domain.errors import BadRequest
from crowd.persistence import Label, User, WorkerActivity, WorkerStanding, iso
from crowd.persistence.base import UTCDateTime
from crowd.services import activity
from crowd.services.projects import get_project

PAGE = 50
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
STATE_ORDER = {"qualification": 0, "active": 1, "retraining": 2, "suspended": 3}
DEFAULT_DIRECTION = {"worker": "asc", "state": "asc"}
COLUMNS = ("worker", "username", "state", "state_reason", "gold_seen", "gold_correct",
           "gold_accuracy", "estimated_accuracy", "labels", "median_answer_ms",
           "last_active_at")


def _keys(last: ColumnElement[Any]) -> dict[str, ColumnElement[Any]]:
    """The sort expressions; a missing value sorts lowest."""
    gold = case((WorkerStanding.gold_seen > 0,
                 cast(WorkerStanding.gold_correct, Float) / WorkerStanding.gold_seen),
                else_=-1.0)
    return {
        "worker": User.username,
        "state": case(STATE_ORDER, value=WorkerStanding.state, else_=9),
        "gold": gold,
        "estimated": func.coalesce(WorkerStanding.estimated_accuracy, -1.0),
        "labels": WorkerStanding.work_labels,
        "median": func.coalesce(WorkerActivity.median_ms, -1),
        "last_active": func.coalesce(last, literal(NEVER, UTCDateTime())),
    }


SORTS = tuple(_keys(WorkerActivity.last_active_at))


@dataclass(frozen=True)
class Page:
    """One page of rows, the key of the next page (None: the last page), the sort."""

    rows: list[dict[str, Any]]
    next_key: int | None
    sort: str
    direction: str


def parse(sort: str | None, direction: str | None,
          after: str | None) -> tuple[str, str, int | None]:
    """The sort, direction and page key of a query string, or ``BadRequest``."""
    sort = sort or "worker"
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", code="invalid_sort")
    direction = direction or DEFAULT_DIRECTION.get(sort, "desc")
    if direction not in ("asc", "desc"):
        raise BadRequest("dir must be asc or desc", code="invalid_sort")
    key = None
    if after not in (None, ""):
        if not (after.isascii() and after.isdigit() and len(after) <= 10) or int(after) > 2**31 - 1:
            raise BadRequest("after must be a worker id", code="invalid_page_key")
        key = int(after)
    return sort, direction, key


def _query(session: Session, project_id: int) -> tuple[Any, dict[str, ColumnElement[Any]]]:
    recent = activity.tail(session, project_id)
    last: ColumnElement[Any] = WorkerActivity.last_active_at
    query = (
        select(WorkerStanding, User.username, WorkerActivity.median_ms)
        .join(User, User.id == WorkerStanding.worker_id)
        .outerjoin(WorkerActivity, and_(WorkerActivity.project_id == WorkerStanding.project_id,
                                        WorkerActivity.worker_id == WorkerStanding.worker_id))
        .where(WorkerStanding.project_id == project_id)
    )
    if recent.complete:
        since = (select(Label.worker_id, func.max(Label.created_at).label("last"))
                 .where(Label.project_id == project_id,
                        or_(Label.id > recent.watermark, Label.id.in_(recent.holes)))
                 .group_by(Label.worker_id).subquery())
        query = query.outerjoin(since, since.c.worker_id == WorkerStanding.worker_id)
        last = func.coalesce(since.c.last, WorkerActivity.last_active_at)
    keys = _keys(last)
    return query.add_columns(keys["last_active"].label("last_active")), keys


def _row(standing: WorkerStanding, username: str, median: int | None,
         last: datetime | None) -> dict[str, Any]:
    seen, correct = standing.gold_seen, standing.gold_correct
    return {
        "worker": standing.worker_id, "username": username, "state": standing.state,
        "state_reason": standing.state_reason, "gold_seen": seen, "gold_correct": correct,
        "gold_accuracy": round(correct / seen, 4) if seen else None,
        "estimated_accuracy": standing.estimated_accuracy, "labels": standing.work_labels,
        "median_answer_ms": median,
        "last_active_at": iso(last) if last and last > NEVER else None,
    }


def page(session: Session, project_id: int, sort: str, direction: str,
         after: int | None, size: int | None = None) -> Page:
    """The page of ``size`` rows (``PAGE``) after worker ``after`` (the first page
    when None) in this order. ``BadRequest`` when ``after`` is no worker of the project."""
    size = size or PAGE
    get_project(session, project_id)
    query, keys = _query(session, project_id)
    key = keys[sort]
    if after is not None:
        value = session.execute(
            query.with_only_columns(key).where(WorkerStanding.worker_id == after)).first()
        if value is None:
            raise BadRequest("that page key is no worker of this project",
                               code="invalid_page_key")
        tie = WorkerStanding.worker_id
        query = query.where(
            or_(key > value[0], and_(key == value[0], tie > after)) if direction == "asc"
            else or_(key < value[0], and_(key == value[0], tie < after)))
    order = (key.asc(), WorkerStanding.worker_id.asc()) if direction == "asc" else (
        key.desc(), WorkerStanding.worker_id.desc())
    found = session.execute(query.order_by(*order).limit(size + 1)).all()
    rows = [_row(s, name, median, last) for s, name, median, last in found[:size]]
    next_key = found[size - 1][0].worker_id if len(found) > size else None
    return Page(rows, next_key, sort, direction)


def report_rows(session: Session, project_id: int) -> Iterator[dict[str, Any]]:
    """Every worker of the project, by username: the worker report download."""
    query, keys = _query(session, project_id)
    for standing, name, median, last in session.execute(
            query.order_by(keys["worker"], WorkerStanding.worker_id)):
        yield _row(standing, name, median, last)
