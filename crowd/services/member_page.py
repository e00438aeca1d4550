"""The members page's list: current members by username, paged by keyset.

A page key is the username of the previous page's last row; the next page holds
the members whose username sorts after it (usernames are unique), so every member
is shown once however many there are and no page needs an OFFSET. Any username
is a valid key, a member's or not, so a page key never goes stale: a removed
member's key still gives the page after where they stood. The ordering and the
comparison are the database's, in one statement, so they agree under any
collation. Current members are the listed ones not removed and, as in
``crowd.services.members.list_members``, the workers who joined by working.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from crowd.domain.errors import BadRequest
from crowd.persistence import ProjectMember, User, WorkerStanding, iso

PAGE = 50
MAX_KEY = 80  # the longest username


@dataclass(frozen=True)
class MemberPage:
    """One page of current members, the next page's key (None: the last page),
    how many current members there are in all, and the removed ones (first page only)."""

    rows: list[dict[str, Any]]
    next_key: str | None
    total: int
    removed: list[dict[str, Any]]


def parse_key(after: str | None) -> str | None:
    """The page key of a query string (None: the first page), or ``BadRequest``."""
    if after in (None, ""):
        return None
    if len(after) > MAX_KEY or not after.isprintable():
        raise BadRequest(f"after must be a username (at most {MAX_KEY} printable characters)",
                         code="invalid_page_key")
    return after


def _unlisted(project_id: int) -> Any:
    """Workers of ``project_id`` who joined by working, with no member row of their own."""
    return ~exists().where(ProjectMember.project_id == project_id,
                           ProjectMember.user_id == WorkerStanding.worker_id)


def _current(project_id: int) -> Any:
    listed = (select(User.id.label("user_id"), User.username, ProjectMember.role,
                     ProjectMember.added_at)
              .select_from(ProjectMember).join(User, User.id == ProjectMember.user_id)
              .where(ProjectMember.project_id == project_id, ProjectMember.removed_at.is_(None)))
    joined = (select(User.id, User.username, literal("worker"), null())
              .select_from(WorkerStanding).join(User, User.id == WorkerStanding.worker_id)
              .where(WorkerStanding.project_id == project_id, _unlisted(project_id)))
    return union_all(listed, joined).subquery("current")


def _total(session: Session, project_id: int) -> int:
    listed = select(func.count()).select_from(ProjectMember).where(
        ProjectMember.project_id == project_id, ProjectMember.removed_at.is_(None))
    joined = select(func.count()).select_from(WorkerStanding).where(
        WorkerStanding.project_id == project_id, _unlisted(project_id))
    counts = session.execute(select(listed.scalar_subquery(), joined.scalar_subquery())).one()
    return int(counts[0]) + int(counts[1])


def _removed(session: Session, project_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(User.username, ProjectMember.role, ProjectMember.removed_at)
        .select_from(ProjectMember).join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id, ProjectMember.removed_at.is_not(None))
        .order_by(User.username))
    return [{"username": name, "role": role, "removed_at": iso(removed_at)}
            for name, role, removed_at in rows]


def page(session: Session, project_id: int, after: str | None,
         size: int | None = None) -> MemberPage:
    """The ``size`` (``PAGE``) current members whose username sorts after ``after``
    (from the first when None), by username."""
    size = size or PAGE
    current = _current(project_id)
    query = select(current)
    if after is not None:
        query = query.where(current.c.username > after)
    found = session.execute(query.order_by(current.c.username).limit(size + 1)).all()
    rows = [{"user_id": user_id, "username": name, "role": role, "added_at": iso(added_at)}
            for user_id, name, role, added_at in found[:size]]
    next_key = rows[-1]["username"] if len(found) > size else None
    return MemberPage(rows, next_key, _total(session, project_id),
                      _removed(session, project_id) if after is None else [])
