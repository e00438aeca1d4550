"""SQLAlchemy models and queries. Nothing here commits."""
from crowd.persistence.accounts import ROLES, ApiToken, LoginThrottle, User
from crowd.persistence.activity import (
    ActivityWatermark,
    LabelHour,
    ProjectBacklog,
    StoredQualityReport,
    WorkerActivity,
)
from crowd.persistence.base import Base, iso, utcnow
from crowd.persistence.projects import Item, Project, ProjectMember
from crowd.persistence.runs import AggregationRun, JobRun, JobState
from crowd.persistence.work import Assignment, Label, StateEvent, WorkerStanding

__all__ = [
    "ROLES", "ActivityWatermark", "AggregationRun", "ApiToken", "Assignment", "Base", "Item",
    "JobRun", "JobState",
    "Label", "LabelHour", "LoginThrottle", "Project", "ProjectBacklog", "ProjectMember",
    "StateEvent", "StoredQualityReport", "User", "WorkerActivity", "WorkerStanding",
    "iso", "utcnow",
]
