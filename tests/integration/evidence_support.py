"""Helpers of the evidence tests: a project of known truth, a worker's state, and
answering offers by their mode, as a gold sniffer would."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import select

from crowd.domain.aggregation import dawid_skene
from crowd.extensions import db
from crowd.persistence import Item, Label, WorkerStanding
from crowd.services import aggregation_runs


def project_with_truth(manager: Any, labels: list[str], n_work: int, n_gold: int,
                       **settings: Any) -> tuple[int, dict[str, str]]:
    """A project whose item ``w<i>`` / ``g<i>`` has the truth ``labels[i % len]``;
    returns its id and the truth by external id."""
    body = {"name": "evidence", "labels": labels, **settings}
    response = manager.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    pid = response.get_json()["id"]
    truth = {f"w{i:03d}": labels[i % len(labels)] for i in range(n_work)}
    gold = {f"g{i:03d}": labels[i % len(labels)] for i in range(n_gold)}
    items = [{"external_id": n, "data": {"n": i}} for i, n in enumerate(truth)]
    items += [{"external_id": n, "data": {"g": i}, "gold_label": t}
              for i, (n, t) in enumerate(gold.items())]
    assert manager.post(f"/projects/{pid}/items", items).status_code == 201
    return pid, {**truth, **gold}


def right_answers(truth: dict[str, str]) -> Callable[[str, str], str]:
    """A worker who answers every offer right, whatever its mode."""
    return lambda name, mode: truth[name]


def standing_of(app: Any, pid: int, wid: int) -> WorkerStanding:
    """The worker's standing, detached from the session."""
    with app.app_context():
        standing = db.session.scalar(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid))
        assert standing is not None
        db.session.expunge(standing)
        return standing


def state_of(app: Any, pid: int, wid: int) -> str:
    """The worker's state, ``new`` before their first offer."""
    with app.app_context():
        return db.session.scalar(select(WorkerStanding.state).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid)) or "new"


def answer_one(worker: Any, pid: int, names: dict[int, str], clock: Any,
               choose: Callable[[str, str], str]) -> str | None:
    """Take one offer and answer ``choose(external id, mode)``; its mode, None
    when there is nothing left, or ``suspended``."""
    clock.advance(1)
    response = worker.post(f"/projects/{pid}/next")
    if response.status_code == 204:
        return None
    if response.status_code == 403 and response.get_json()["error"]["code"] == "suspended":
        return "suspended"
    assert response.status_code == 200, response.get_json()
    offer = response.get_json()
    label = choose(names[offer["item"]["id"]], offer["mode"])
    answered = worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": label})
    assert answered.status_code == 200, answered.get_json()
    return offer["mode"]


def until_active(app: Any, worker: Any, wid: int, pid: int, names: dict[int, str],
                 clock: Any, choose: Callable[[str, str], str]) -> None:
    """Answer round offers (qualification or training) until the worker is active."""
    for _ in range(200):
        if state_of(app, pid, wid) not in ("new", "qualification", "retraining"):
            return
        assert answer_one(worker, pid, names, clock, choose) is not None
    raise AssertionError("the round never ended")


def work(worker: Any, pid: int, names: dict[int, str], clock: Any,
         choose: Callable[[str, str], str], n: int) -> None:
    """Answer offers until ``n`` work-mode ones are answered (round offers, after a
    sanction, are answered as well and not counted), or the worker is suspended."""
    given = 0
    for _ in range(10 * n):
        mode = answer_one(worker, pid, names, clock, choose)
        assert mode is not None, "the project ran out of items"
        if mode == "suspended":
            return
        given += mode == "work"
        if given == n:
            return
    raise AssertionError("too few work offers")


def retrain(manager: Any, pid: int, wid: int) -> None:
    """A manager sends the worker (active, or suspended by a failed or disguised
    round) back to a retraining round."""
    response = manager.post(f"/projects/{pid}/workers/{wid}/state",
                            {"state": "retraining", "reason": "another round for the test"})
    assert response.status_code == 200, response.get_json()


def aggregate(manager: Any, pid: int) -> None:
    """Run Dawid-Skene over the project through the API."""
    assert manager.post(f"/projects/{pid}/aggregate").status_code == 200


def fit_on_every_label(app: Any, pid: int, labels: list[str]) -> dict[int, float]:
    """The accuracy estimates the fit gave before this change: Dawid-Skene on every
    counted label, qualification and training answers included."""
    with app.app_context():
        rows = db.session.execute(
            select(Label.item_id, Label.worker_id, Label.label)
            .where(Label.project_id == pid, Label.counted.is_(True))).all()
        truth = dict(db.session.execute(
            select(Item.id, Item.gold_label).where(Item.project_id == pid,
                                                    Item.is_gold.is_(True))).all())
    class_of = {name: i for i, name in enumerate(labels)}
    item_ids, worker_ids = sorted({r[0] for r in rows}), sorted({r[1] for r in rows})
    item_at = {v: i for i, v in enumerate(item_ids)}
    worker_at = {v: i for i, v in enumerate(worker_ids)}
    known = np.array([class_of.get(truth.get(i), -1) for i in item_ids])
    fit = dawid_skene(np.array([item_at[r[0]] for r in rows]),
                      np.array([worker_at[r[1]] for r in rows]),
                      np.array([class_of[r[2]] for r in rows]), len(item_ids),
                      len(worker_ids), len(labels), known=known,
                      tol=aggregation_runs.TOLERANCE, max_iter=aggregation_runs.MAX_ITER)
    n = len(labels)
    accuracy = (fit.confusions[:, np.arange(n), np.arange(n)] * fit.priors).sum(axis=1)
    return {wid: float(accuracy[w]) for wid, w in worker_at.items()}
