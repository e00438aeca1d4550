"""SQLAlchemy models and queries. Nothing here commits."""
from crowd.persistence.accounts import ROLES, ApiToken, LoginThrottle, User
from crowd.persistence.base import Base, iso, utcnow
from crowd.persistence.projects import Item, Project, ProjectMember
from crowd.persistence.runs import AggregationRun, JobRun, JobState
from crowd.persistence.work import Assignment, Label, StateEvent, WorkerStanding

__all__ = [
    "ROLES", "AggregationRun", "ApiToken", "Assignment", "Base", "Item", "JobRun", "JobState",
    "Label", "LoginThrottle", "Project", "ProjectMember", "StateEvent", "User", "WorkerStanding",
    "iso", "utcnow",
]
