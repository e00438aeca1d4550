"""SQLAlchemy models and queries. Nothing here commits."""
from crowd.persistence.accounts import ROLES, ApiToken, User
from crowd.persistence.base import Base, utcnow
from crowd.persistence.projects import Item, Project
from crowd.persistence.runs import AggregationRun, JobRun, JobState
from crowd.persistence.work import Assignment, Label, StateEvent, WorkerStanding

__all__ = [
    "ROLES", "AggregationRun", "ApiToken", "Assignment", "Base", "Item", "JobRun", "JobState",
    "Label", "Project",
    "StateEvent", "User", "WorkerStanding", "utcnow",
]
