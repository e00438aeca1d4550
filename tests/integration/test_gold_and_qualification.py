"""Hidden gold at its configured rate, looking like any other item; qualification rounds."""
from __future__ import annotations

import pytest

import math
from typing import Any

from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Item
from tests.support import make_users


def _gold_ids(app: Any, project_id: int) -> set[int]:
    """The opaque ids (as in offers) of the project's gold items."""
    with app.app_context():
        return set(db.session.scalars(
            select(Item.public_id).where(Item.project_id == project_id, Item.is_gold.is_(True))
        ))


def _shape(value: Any) -> Any:
    """The structure of a JSON value: keys recursively, and the type of every leaf."""
    if isinstance(value, dict):
        return {key: _shape(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return ["list", sorted({repr(_shape(inner)) for inner in value})]
    return type(value).__name__


def _binomial_interval(n: int, p: float, level: float) -> tuple[int, int]:
    """The central ``level`` interval [lo, hi] of Binomial(n, p), exactly."""
    tail = (1 - level) / 2

    def pmf(k: int) -> float:
        log = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
               + k * math.log(p) + (n - k) * math.log1p(-p))
        return math.exp(log)

    cumulative, lo, hi = 0.0, None, n
    for k in range(n + 1):
        cumulative += pmf(k)
        if lo is None and cumulative > tail:
            lo = k
        if cumulative >= 1 - tail:
            hi = k
            break
    assert lo is not None
    return lo, hi


# The gold-rate check fails a correct server with probability 1 - LEVEL (1 in
# 100,000): the interval is exact, so the only false failures are the binomial's
# own tails. 400 draws at rate 0.5 give [156, 244], which still refuses a server
# that injects at 0.4 or 0.6 more often than not, and one at 0.1 or 0.9 always.
LEVEL = 0.99999


def test_binomial_interval_matches_the_normal_approximation():
    lo, hi = _binomial_interval(400, 0.5, LEVEL)
    half_width = 4.4172 * math.sqrt(400 * 0.5 * 0.5)
    assert abs(lo - (200 - half_width)) < 3 and abs(hi - (200 + half_width)) < 3


@pytest.mark.slow
def test_hidden_gold_comes_at_the_gold_rate_and_looks_like_work(app, make_project, manager):
    n_workers, calls_each, rate = 20, 20, 0.5
    project = make_project(n_items=900, n_gold=60, gold_rate=rate, qualification_size=0,
                           redundancy=3)
    pid = project["id"]
    gold_ids = _gold_ids(app, pid)
    assert len(gold_ids) == 60
    workers = [w for _, w in make_users(app, manager, *(f"fast{i}" for i in range(n_workers)))]

    offers, answers = [], []
    for _ in range(calls_each):
        for worker in workers:
            response = worker.post(f"/projects/{pid}/next")
            assert response.status_code == 200, (response.status_code, response.get_data())
            offer = response.get_json()
            offers.append(offer)
            # Gold labels are the first class; answering it keeps every worker active.
            answered = worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
            assert answered.status_code == 200, answered.get_json()
            answers.append(answered.get_json())

    n = len(offers)
    assert n == n_workers * calls_each
    gold = [o for o in offers if o["item"]["id"] in gold_ids]
    lo, hi = _binomial_interval(n, rate, LEVEL)
    print(f"gold share: {len(gold)}/{n} = {len(gold) / n:.4f}; {LEVEL:.3%} interval [{lo}, {hi}]")
    assert lo <= len(gold) <= hi

    normal = [o for o in offers if o["item"]["id"] not in gold_ids]
    assert gold and normal
    assert {o["mode"] for o in offers} == {"work"}
    assert {repr(_shape(o)) for o in offers} == {repr(_shape(normal[0]))}
    keys = {"assignment_id", "item", "labels", "expires_at", "mode"}
    assert set(gold[0]) == set(normal[0]) == keys
    assert set(gold[0]["item"]) == set(normal[0]["item"]) == {"id", "data"}
    assert all(answer == {"accepted": True} for answer in answers)  # no feedback on hidden gold


def _qualifying_project(make_project: Any) -> dict[str, Any]:
    return make_project(n_items=5, n_gold=8, qualification_size=4, qualification_accuracy=0.75,
                        gold_rate=0.0)


def _take_round(worker: Any, pid: int, gold_ids: set[int], labels: list[str]) -> list[Any]:
    """Answer one qualification item per label; returns the answer bodies."""
    bodies = []
    for label in labels:
        response = worker.post(f"/projects/{pid}/next")
        assert response.status_code == 200, response.get_json()
        offer = response.get_json()
        assert offer["mode"] == "qualification"
        assert offer["item"]["id"] in gold_ids
        answered = worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": label})
        assert answered.status_code == 200, answered.get_json()
        again = worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": label})
        assert again.get_json() == answered.get_json()  # a replay repeats the feedback
        bodies.append(answered.get_json())
    return bodies


def test_new_worker_qualifies_on_gold_with_feedback_then_gets_work(
    app, make_project, make_user, manager
):
    project = _qualifying_project(make_project)
    pid = project["id"]
    gold_ids = _gold_ids(app, pid)
    worker = manager.as_(make_user("worker")[1])
    assert worker.get(f"/projects/{pid}/me").get_json()["state"] == "new"

    # The round is sequential (crowd.domain.qualification): 3/4 at a 0.75 bar is
    # not yet clear, so the round goes on, up to 3 x 4 = 12 answers; 7/8 passes.
    bodies = _take_round(worker, pid, gold_ids, ["a", "b", "a", "a"])
    me = worker.get(f"/projects/{pid}/me").get_json()
    assert me["state"] == "qualification"
    assert me["round"]["answered"] == 4 and me["round"]["at_most"] == 12
    assert me["round"]["text"] == "answered 4; the round continues until decided, at most 12"
    worker_id = next(r["worker"] for r in manager.get(f"/projects/{pid}/workers").get_json()[
        "workers"])
    assert manager.get(f"/projects/{pid}/workers/{worker_id}").get_json()["round"] == me["round"]
    bodies += _take_round(worker, pid, gold_ids, ["a"] * 4)
    assert bodies == [
        {"accepted": True, "feedback": {"correct": True, "expected": "a"}},
        {"accepted": True, "feedback": {"correct": False, "expected": "a"}},
        *[{"accepted": True, "feedback": {"correct": True, "expected": "a"}}] * 6,
    ]
    me = worker.get(f"/projects/{pid}/me").get_json()
    assert me["state"] == "active" and me["round"] is None
    assert me["state_reason_code"] == "qualification_passed"
    assert "7/8" in me["state_reason"]

    response = worker.post(f"/projects/{pid}/next")
    assert response.status_code == 200
    offer = response.get_json()
    assert offer["mode"] == "work"
    assert offer["item"]["id"] not in gold_ids
    answered = worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
    assert answered.get_json() == {"accepted": True}


def _fail_qualification(app: Any, make_project: Any, make_user: Any, manager: Any) -> tuple:
    project = _qualifying_project(make_project)
    pid = project["id"]
    worker_id, token = make_user("worker")
    worker = manager.as_(token)
    # 2/8 against a 0.75 bar: the sequential round fails it at the 8th answer,
    # before its cap of 12 (2/4 alone is not yet clear).
    labels = ["a", "b", "c", "a", "b", "c", "b", "c"]
    bodies = _take_round(worker, pid, _gold_ids(app, pid), labels)
    assert [b["feedback"]["correct"] for b in bodies] == [label == "a" for label in labels]
    return pid, worker_id, worker


def test_worker_short_of_qualification_accuracy_is_suspended_with_a_reason(
    app, make_project, make_user, manager
):
    pid, worker_id, worker = _fail_qualification(app, make_project, make_user, manager)
    response = worker.post(f"/projects/{pid}/next")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "suspended"

    me = worker.get(f"/projects/{pid}/me").get_json()
    assert me["state"] == "suspended"
    assert me["state_reason_code"] == "qualification_failed"
    assert "2/8" in me["state_reason"]
    assert [(e["from"], e["to"]) for e in me["history"]] == [
        (None, "qualification"), ("qualification", "suspended")
    ]
    evidence = manager.get(f"/projects/{pid}/workers/{worker_id}").get_json()["history"][-1][
        "evidence"]
    assert (evidence["seen"], evidence["correct"], evidence["decided_by"]) == (8, 2, "lower")
    assert evidence["llr"] <= evidence["fail_llr"] < 0 < evidence["pass_llr"]
    assert (evidence["at_least"], evidence["at_most"]) == (4, 12)


def test_manager_override_reactivates_a_suspended_worker_and_is_recorded(
    app, make_project, make_user, manager
):
    pid, worker_id, worker = _fail_qualification(app, make_project, make_user, manager)
    reason = "reviewed their answers by hand"
    response = manager.post(f"/projects/{pid}/workers/{worker_id}/state",
                            {"state": "active", "reason": reason})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "active"

    offer = worker.post(f"/projects/{pid}/next")
    assert offer.status_code == 200
    assert offer.get_json()["mode"] == "work"

    rows = manager.get(f"/projects/{pid}/workers").get_json()["workers"]
    row = next(r for r in rows if r["worker"] == worker_id)
    assert row["state"] == "active"
    assert row["state_reason"] == reason
    assert row["state_reason_code"] == "manager_override"
    assert row["gold_seen"] == 8 and row["gold_correct"] == 2 and row["gold_accuracy"] == 0.25
    history = worker.get(f"/projects/{pid}/me").get_json()["history"]
    assert history[-1]["to"] == "active" and history[-1]["by"] == "manager"
    assert history[-1]["reason"] == reason


def test_qualification_round_ends_early_when_the_gold_runs_out(
    app, make_project, make_user, manager
):
    project = make_project(n_items=3, n_gold=2, qualification_size=5, qualification_accuracy=0.8)
    pid = project["id"]
    worker = manager.as_(make_user("worker")[1])
    _take_round(worker, pid, _gold_ids(app, pid), ["a", "a"])
    response = worker.post(f"/projects/{pid}/next")
    assert response.status_code == 200
    assert response.get_json()["mode"] == "work"
    assert worker.get(f"/projects/{pid}/me").get_json()["state"] == "active"
