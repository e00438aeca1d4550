"""Project members: who may reach a project, adding and removing them.

A project a user may not reach is ``NotFound``, the same as one that does not
exist: a manager of another team learns nothing from the answer.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from crowd.domain.access import may, role_problem
from crowd.domain.errors import InvalidInput, NotFound
from crowd.persistence import Project, ProjectMember, User, WorkerStanding, iso
from crowd.services.standing import release_leases

MAX_BULK = 1_000


def reach(session: Session, account: User, project_id: int, need: str) -> Project:
    """The project if ``account`` may ``need`` it (manage, review, work or see),
    else ``NotFound``. One statement: the project and the user's membership."""
    row = session.execute(
        select(Project, ProjectMember)
        .outerjoin(ProjectMember, and_(ProjectMember.project_id == Project.id,
                                       ProjectMember.user_id == account.id))
        .where(Project.id == project_id)
    ).first()
    if row is None:
        raise NotFound(f"project {project_id} not found")
    project, member = row
    if not may(account.role, need, project.enrollment, member and member.role,
               member is not None and member.removed_at is not None):
        raise NotFound(f"project {project_id} not found")
    return project


def visible_projects(session: Session, account: User) -> list[Project]:
    """The projects ``account`` may see, newest first."""
    query = select(Project).order_by(Project.id.desc())
    if account.role == "admin":
        return list(session.scalars(query))
    member = (select(ProjectMember.project_id)
              .where(ProjectMember.user_id == account.id, ProjectMember.role == account.role,
                     ProjectMember.removed_at.is_(None)))
    if account.role == "worker":
        any_row = select(ProjectMember.project_id).where(ProjectMember.user_id == account.id)
        query = query.where(Project.id.in_(member) | (
            (Project.enrollment == "open") & Project.id.not_in(any_row)))
    else:
        query = query.where(Project.id.in_(member))
    return list(session.scalars(query))


def member_json(member: ProjectMember, username: str) -> dict[str, Any]:
    return {"user_id": member.user_id, "username": username, "role": member.role,
            "added_at": iso(member.added_at), "added_by": member.added_by_id,
            "removed_at": iso(member.removed_at)}


def list_members(session: Session, project_id: int) -> list[dict[str, Any]]:
    """Listed members (current and removed) and, in an open project, the workers who
    joined by starting work (``"joined": "open"``, no row of their own)."""
    rows = session.execute(
        select(ProjectMember, User.username).join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id))
    out = {member.user_id: {**member_json(member, name), "joined": "listed"}
           for member, name in rows}
    joined = session.execute(
        select(WorkerStanding.worker_id, User.username)
        .join(User, User.id == WorkerStanding.worker_id)
        .where(WorkerStanding.project_id == project_id))
    for worker_id, name in joined:
        out.setdefault(worker_id, {"user_id": worker_id, "username": name, "role": "worker",
                                   "added_at": None, "added_by": None,
                                   "removed_at": None, "joined": "open"})
    return [out[user_id] for user_id in sorted(out)]


def list_workers_into_members(session: Session, project_id: int, now: datetime) -> None:
    """Give every worker who joined an open project by working a row of their own
    (done when it turns ``invite``: the team stays, the door shuts)."""
    listed = select(ProjectMember.user_id).where(ProjectMember.project_id == project_id)
    for (worker_id,) in session.execute(
            select(WorkerStanding.worker_id).where(WorkerStanding.project_id == project_id,
                                                   WorkerStanding.worker_id.not_in(listed))):
        session.add(ProjectMember(project_id=project_id, user_id=worker_id, role="worker",
                                  added_at=now))


def _accounts(session: Session, body: Any) -> list[User]:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    unknown = set(body) - {"user_id", "username", "usernames", "role"}
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", code="unknown_field")
    given = [key for key in ("user_id", "username", "usernames") if key in body]
    if len(given) != 1:
        raise InvalidInput("give one of user_id, username or usernames", code="missing_field")
    if given[0] == "user_id":
        user_id = body["user_id"]
        if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**31:
            raise InvalidInput("user_id must be a user's id", code="invalid_user")
        account = session.get(User, user_id)
        if account is None:
            raise InvalidInput(f"no user {user_id}", code="unknown_user")
        return [account]
    names = [body["username"]] if given[0] == "username" else body["usernames"]
    if (not isinstance(names, list) or not names or len(names) > MAX_BULK
            or not all(isinstance(name, str) and 0 < len(name) <= 80 for name in names)):
        raise InvalidInput(f"usernames must be a list of 1 to {MAX_BULK} usernames",
                           code="invalid_user")
    found = {account.username: account
             for account in session.scalars(select(User).where(User.username.in_(set(names))))}
    missing = [name for name in dict.fromkeys(names) if name not in found]
    if missing:
        raise InvalidInput(f"no such user: {', '.join(missing[:20])}", code="unknown_user",
                           details={"unknown": missing})
    return [found[name] for name in dict.fromkeys(names)]


def add_members(session: Session, project_id: int, body: Any, actor: User,
                now: datetime) -> list[dict[str, Any]]:
    """Add users (by id, username or a list of usernames) as members: all or none."""
    accounts = _accounts(session, body)
    role = body.get("role")
    for account in accounts:
        problem = role_problem(account.role, role)
        if problem:
            raise InvalidInput(f"{account.username}: {problem}", code="invalid_role")
    existing = {member.user_id: member for member in session.scalars(
        select(ProjectMember).where(ProjectMember.project_id == project_id,
                                    ProjectMember.user_id.in_([a.id for a in accounts])))}
    added = []
    for account in accounts:
        member = existing.get(account.id)
        if member is None:
            member = ProjectMember(project_id=project_id, user_id=account.id, role=account.role,
                                   added_at=now, added_by_id=actor.id)
            session.add(member)
        elif member.removed_at is not None:
            member.removed_at, member.added_at, member.added_by_id = None, now, actor.id
        added.append((member, account.username))
    session.commit()
    return [member_json(member, name) for member, name in added]


def remove_member(session: Session, project_id: int, user_id: int, now: datetime) -> None:
    """Take a member out: their live leases are released at once; their labels stay,
    with who gave them. The row stays too, so a removed worker cannot rejoin an
    open project by starting work."""
    member = session.get(ProjectMember, (project_id, user_id), with_for_update=True)
    if member is None and session.scalar(select(WorkerStanding.id).where(
            WorkerStanding.project_id == project_id, WorkerStanding.worker_id == user_id)):
        member = ProjectMember(project_id=project_id, user_id=user_id, role="worker",
                               added_at=now)  # joined an open project by working
        session.add(member)
    if member is None or member.removed_at is not None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    member.removed_at = now
    release_leases(session, project_id, user_id, now)
    session.commit()
