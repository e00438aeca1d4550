"""Helpers of the undo tests (tests/integration/test_undo*.py): the whole database as
rows, an undo-enabled project, and the worker's loop with its expected statuses."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Assignment, Base

LABELS = ["a", "b", "c"]
HIDDEN_GOLD_BLOCK = 10


def database(app: Any) -> dict[str, list[Any]]:
    """Every row of every table; a label's id left out (a label answered again after
    an undo is a new row: its id is the only thing that may differ)."""
    with app.app_context(), db.engine.connect() as conn:
        out = {}
        for table in Base.metadata.sorted_tables:
            rows = [{k: v for k, v in row._mapping.items()
                     if not (table.name == "labels" and k == "id")}
                    for row in conn.execute(select(table))]
            out[table.name] = sorted(rows, key=repr)
        return out


def without_last_answer(state: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``state`` with the standings' undo snapshots left out."""
    out = dict(state)
    out["worker_standings"] = [{k: v for k, v in row.items() if k != "last_answer"}
                               for row in state["worker_standings"]]
    return out


def undo_project(make_project: Any, **settings: Any) -> dict[str, Any]:
    base = {"n_items": 8, "n_gold": 0, "redundancy": 1, "max_redundancy": 1,
            "confidence_threshold": 0.5, "allow_undo": True, "labels": tuple(LABELS)}
    return make_project(**{**base, **settings})


def is_gold(app: Any, assignment_id: int) -> bool:
    with app.app_context():
        return db.session.get_one(Assignment, assignment_id).is_gold


def offer(worker: Any, project_id: int) -> dict[str, Any]:
    response = worker.post(f"/projects/{project_id}/next")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def answer(worker: Any, assignment_id: int, label: str = "a", status: int = 200) -> Any:
    response = worker.post(f"/assignments/{assignment_id}/answer", {"label": label})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def undo(worker: Any, assignment_id: int, status: int = 200) -> dict[str, Any]:
    response = worker.post(f"/assignments/{assignment_id}/undo")
    assert response.status_code == status, response.get_json()
    return response.get_json()


def refused(worker: Any, assignment_id: int, status: int, code: str) -> str:
    body = undo(worker, assignment_id, status)
    assert body["error"]["code"] == code, body
    return str(body["error"]["message"])
