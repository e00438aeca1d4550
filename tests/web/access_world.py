"""The world the access matrix runs in: an invite-only project with a member of each
role, an outsider of each role (another team), a deactivated member and a member
whose token has expired, an item in review and a worker's live lease."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from flask import Flask
from sqlalchemy import update

from tests.conftest import Api, new_user

ROLES = ("worker", "expert", "manager")
PASSWORD = "password-123"


@dataclass
class Person:
    id: int
    username: str
    role: str
    token: str
    spare_token: int  # the id of a second token of theirs, for DELETE /tokens/<id>
    session_version: int = 0  # the user's current one (a late- user's cookie is older)


@dataclass
class World:
    project: int
    item: int  # an item in review
    assignment: int  # the worker member's live lease
    people: dict[str, Person] = field(default_factory=dict)

    def caller(self, column: str, role: str) -> Person | None:
        """Who sends a cell's request: ``role``'s member, outsider, deactivated member
        or expired member; the admin; None for anonymous."""
        if column == "anonymous":
            return None
        if column == "admin":
            return self.people["admin"]
        prefix = {"member": "", "non_member": "outsider-", "deactivated": "gone-",
                  "expired": "late-"}[column]
        return self.people[prefix + role]


def _person(app: Flask, role: str, name: str) -> Person:
    from crowd.extensions import db
    from crowd.persistence import User
    from crowd.services.accounts import issue_token_row

    user_id, token = new_user(app, role, name)
    with app.app_context():
        _, spare = issue_token_row(db.session, db.session.get_one(User, user_id),
                                   app.extensions["crowd_clock"]())
        return Person(user_id, name, role, token, spare.id)


def build_world(app: Flask, *, lapsed: bool = True) -> World:
    """The world; without ``lapsed`` no deactivated or expired members are made (a
    success needs only the member, the admin, a wrong role and an outsider)."""
    from crowd.extensions import db
    from crowd.persistence import ApiToken, User, utcnow
    from crowd.services.accounts import change_user, end_sessions

    client = app.test_client()
    prefixes = ("", "outsider-", "gone-", "late-") if lapsed else ("", "outsider-")
    people = {"admin": _person(app, "admin", "am-admin")}
    for role in ROLES:
        for prefix in prefixes:
            people[prefix + role] = _person(app, role, f"am-{prefix}{role}")
    manager = Api(client, people["manager"].token)
    project = manager.post("/projects", {
        "name": "matrix", "labels": ["a", "b"], "enrollment": "invite",
        "qualification_size": 0, "gold_rate": 0.0, "redundancy": 1, "max_redundancy": 1,
        "confidence_threshold": 1.0}).get_json()["id"]
    items = [{"external_id": f"w{i}", "data": {"text": f"item {i}"}} for i in range(4)]
    assert manager.post(f"/projects/{project}/items", items).status_code == 201
    team = [people[prefix + role].username for role in ROLES for prefix in prefixes
            if prefix in ("", "gone-", "late-") and not (role == "manager" and prefix == "")]
    assert manager.post(f"/projects/{project}/members",
                        {"usernames": team}).status_code == 201
    worker = manager.as_(people["worker"].token)
    first = worker.post(f"/projects/{project}/next").get_json()
    assert worker.post(f"/assignments/{first['assignment_id']}/answer",
                       {"label": "a"}).status_code == 200
    second = worker.post(f"/projects/{project}/next").get_json()
    past = app.extensions["crowd_clock"]() - timedelta(seconds=1)  # the app's own clock
    with app.app_context():
        for role in ROLES if lapsed else ():
            gone = db.session.get_one(User, people["gone-" + role].id)
            change_user(db.session, gone, {"active": False}, None, utcnow())
            late = people["late-" + role].id
            db.session.execute(update(ApiToken).where(ApiToken.user_id == late)
                               .values(expires_at=past))
            end_sessions(db.session, db.session.get_one(User, late))  # logged out since
        db.session.commit()
        for person in people.values():
            person.session_version = db.session.get_one(User, person.id).session_version
    return World(project, first["item"]["id"], second["assignment_id"], people)

