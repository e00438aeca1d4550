"""SQLAlchemy models and queries. Nothing here commits."""
from crowd.persistence.accounts import ROLES, ApiToken, User
from crowd.persistence.base import Base, utcnow
from crowd.persistence.projects import Item, Project
from crowd.persistence.work import Assignment, Label, StateEvent, WorkerStanding

__all__ = [
    "ROLES", "ApiToken", "Assignment", "Base", "Item", "Label", "Project",
    "StateEvent", "User", "WorkerStanding", "utcnow",
]
