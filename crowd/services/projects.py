"""Creating, changing and reading projects."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crowd.domain.access import ENROLLMENTS
from crowd.domain.errors import Conflict, InvalidInput, NotFound
from crowd.domain.settings import SETTING_NAMES, validate_labels, validate_settings
from crowd.domain.text import MAX_GUIDELINES, MAX_PROJECT_NAME, clean_text
from crowd.persistence import Item, Label, Project, ProjectMember, User, utcnow
from crowd.persistence.statistics import refresh_after
from crowd.services.members import list_workers_into_members

EDITABLE = {"name", "guidelines", "labels", "enrollment", *SETTING_NAMES}


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PROJECT_NAME:
        raise InvalidInput(
            f"name must be a non-empty string of at most {MAX_PROJECT_NAME} characters",
            code="invalid_name")
    return clean_text(value, "name", code="invalid_name").strip()


def _enrollment(value: Any) -> str:
    if value not in ENROLLMENTS:
        raise InvalidInput(f"enrollment must be one of {', '.join(ENROLLMENTS)}",
                           code="invalid_setting")
    return str(value)


def _guidelines(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("guidelines must be a string", code="invalid_guidelines")
    return clean_text(value, "guidelines", MAX_GUIDELINES, code="invalid_guidelines")


def _reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", code="unknown_field")


def create_project(session: Session, body: Any, creator: User | None) -> Project:
    """Create a project from an API body: ``name`` and ``labels`` are required."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    _reject_unknown(body, EDITABLE)
    for field in ("name", "labels"):
        if field not in body:
            raise InvalidInput(f"{field} is required", code="missing_field")
    settings = validate_settings(body)
    project = Project(
        name=_name(body["name"]),
        labels=validate_labels(body["labels"]),
        guidelines=_guidelines(body.get("guidelines", "")),
        guidelines_version=1,
        created_by_id=creator.id if creator else None,
        enrollment=_enrollment(body.get("enrollment", "open")),
        **settings,
    )
    session.add(project)
    if creator is not None and creator.role == "manager":  # its first manager
        session.flush()
        session.add(ProjectMember(project_id=project.id, user_id=creator.id, role="manager"))
    session.commit()
    return project


def get_project(session: Session, project_id: int) -> Project:
    """The project, or ``NotFound``."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def update_project(session: Session, project_id: int, body: Any) -> Project:
    """Apply a PATCH; a change of guidelines bumps ``guidelines_version``."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    _reject_unknown(body, EDITABLE)
    project = session.get(Project, project_id, with_for_update=True)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    current = {name: getattr(project, name) for name in SETTING_NAMES}
    settings = validate_settings(body, current)
    if "name" in body:
        project.name = _name(body["name"])
    if "enrollment" in body:
        enrollment = _enrollment(body["enrollment"])
        if project.enrollment == "open" and enrollment == "invite":
            list_workers_into_members(session, project_id, utcnow())
        project.enrollment = enrollment
    if "labels" in body:
        labels = validate_labels(body["labels"])
        if labels != project.labels and _has_labels(session, project_id):
            raise Conflict("labels cannot change once answers were collected",
                           code="labels_in_use")
        project.labels = labels
    if "guidelines" in body:
        text = _guidelines(body["guidelines"])
        if text != project.guidelines:
            project.guidelines = text
            project.guidelines_version += 1
    old_redundancy = project.redundancy
    for name, value in settings.items():
        setattr(project, name, value)
    retargeted = 0
    if project.redundancy != old_redundancy:
        retargeted = _retarget_open_items(session, project_id, old_redundancy,
                                          project.redundancy)
    session.commit()
    refresh_after(session, [Item.__table__], retargeted)
    session.commit()
    return project


def _has_labels(session: Session, project_id: int) -> bool:
    return session.scalar(select(Label.id).where(Label.project_id == project_id).limit(1)) is not None


def _retarget_open_items(session: Session, project_id: int, old: int, new: int) -> int:
    """Open items that were waiting on the old redundancy now wait on the new one;
    how many.

    Items whose target was raised by disagreement keep it if it is higher.
    An item that already has enough labels is settled by the next answer or
    aggregation run.
    """
    result = session.execute(
        update(Item)
        .where(Item.project_id == project_id, Item.status == "open", Item.is_gold.is_(False),
               (Item.needed == old) | (Item.needed < new))
        .values(needed=new)
    )
    return int(result.rowcount)


def progress(session: Session, project_id: int) -> dict[str, int]:
    """Counts of items by status, gold items, and labels collected."""
    counts = {"items": 0, "gold": 0, "open": 0, "complete": 0, "in_review": 0, "resolved": 0}
    rows = session.execute(
        select(Item.is_gold, Item.status, func.count())
        .where(Item.project_id == project_id)
        .group_by(Item.is_gold, Item.status)
    )
    for is_gold, status, n in rows:
        if is_gold:
            counts["gold"] += n
        else:
            counts["items"] += n
            counts[status] = counts.get(status, 0) + n
    counts["labels_collected"] = session.scalar(
        select(func.count()).select_from(Label)
        .where(Label.project_id == project_id, Label.is_gold.is_(False))
    ) or 0
    return counts
