"""Who may reach a project, and what they may do there.

Each project has members with a project role (``manager``, ``expert`` or
``worker``, always the account's own role); admins reach every project and need
no membership. A project's ``enrollment`` is ``open`` (any active worker may
join by starting work) or ``invite`` (only its worker members). A removed member
is out, even of an open project.
"""
from __future__ import annotations

ENROLLMENTS = ("open", "invite")
PROJECT_ROLES = ("manager", "expert", "worker")
# What each need asks of the user's project role.
NEEDS = {"manage": "manager", "review": "expert", "work": "worker"}


def may(account_role: str, need: str, enrollment: str, member_role: str | None,
        removed: bool) -> bool:
    """Whether a user with ``account_role`` may ``need`` (manage, review, work or
    see) a project, given their membership row (None: no row)."""
    if account_role == "admin":
        return True
    if need == "see":
        return any(may(account_role, other, enrollment, member_role, removed) for other in NEEDS)
    wanted = NEEDS[need]
    if account_role != wanted:
        return False
    if member_role is not None:
        return member_role == wanted and not removed
    return need == "work" and enrollment == "open"


def role_problem(account_role: str, project_role: object) -> str | None:
    """Why ``project_role`` cannot be given to an account of ``account_role``, or None."""
    if account_role == "admin":
        return "admins reach every project; they need no membership"
    if project_role is None:
        return None
    if project_role not in PROJECT_ROLES:
        return f"role must be one of {', '.join(PROJECT_ROLES)}"
    if project_role != account_role:
        return f"a {account_role} account can only be a {account_role} member"
    return None
