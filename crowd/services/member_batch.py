"""Adding members by a pasted list of usernames, each name answered on its own.

The names that can join are added through ``crowd.services.members.add_members``
(the API's path, in one transaction); each of the others is reported with why:
no such user, already a member, or an account of another role.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.domain.access import role_problem
from crowd.domain.errors import InvalidInput
from crowd.persistence import ProjectMember, User
from crowd.services.members import MAX_BULK, add_members

MAX_NAME = 80


@dataclass
class BatchResult:
    """The members added, and ``(name, why)`` for each name that was not."""

    added: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def pasted_names(text: str) -> list[str]:
    """The usernames of a pasted list: one a line (commas also split), blanks dropped,
    each once, in the order given."""
    names = (part.strip() for line in text.splitlines() for part in line.split(","))
    return list(dict.fromkeys(name for name in names if name))


def _a(role: str) -> str:
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"


def _role_mismatch(account_role: str, role: str) -> str | None:
    """Why an account of ``account_role`` cannot be a ``role`` member, or None."""
    if role_problem(account_role, role) is None:
        return None
    if account_role == "admin":
        return "an admin reaches every project without being a member"
    return f"{_a(account_role)} account, not {_a(role)}"


def add_by_names(session: Session, project_id: int, names: list[str], role: str,
                 actor: User, now: datetime) -> BatchResult:
    """Add each of ``names`` as a ``role`` member where it can be; say why not elsewhere."""
    if not names:
        raise InvalidInput("give at least one username", code="missing_field")
    if len(names) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} usernames at a time", code="invalid_user")
    result = BatchResult()
    fitting = [name for name in names if len(name) <= MAX_NAME]
    result.refused += [(name[:MAX_NAME] + "…", "no such user") for name in names
                       if len(name) > MAX_NAME]
    accounts = {a.username: a for a in session.scalars(
        select(User).where(User.username.in_(fitting)))}
    current = set(session.scalars(select(ProjectMember.user_id).where(
        ProjectMember.project_id == project_id, ProjectMember.removed_at.is_(None),
        ProjectMember.user_id.in_([a.id for a in accounts.values()]))))
    joining = []
    for name in fitting:
        account = accounts.get(name)
        problem = ("no such user" if account is None
                   else "already a member" if account.id in current
                   else _role_mismatch(account.role, role))
        if problem:
            result.refused.append((name, problem))
        else:
            joining.append(name)
    if joining:
        result.added = add_members(session, project_id, {"usernames": joining, "role": role},
                                   actor, now)
    return result
