"""Drift: a worker whose hidden-gold accuracy falls goes back to training, and
their labels since the drop stop counting; retraining, suspension, overrides."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Assignment, StateEvent
from tests.support import item_names, make_users, results_by_name

N_GOLD = 40
N_WORK = 10


@pytest.fixture
def project(manager: Any) -> dict[str, Any]:
    """Every ``next`` of an active worker is hidden gold (gold label "a") while
    gold_rate is 1.0; the gold CUSUM judges drift against the 0.7 floor (no other
    labels on any item, so the agreement CUSUM has nothing to go on). One label
    settles a work item (redundancy 1, threshold 0.5)."""
    body = {"name": "drift", "labels": ["a", "b", "c"], "gold_rate": 1.0,
            "qualification_size": 0, "drift_window": 10, "min_accuracy": 0.7,
            "redundancy": 1, "max_redundancy": 1, "confidence_threshold": 0.5}
    response = manager.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    items = [{"external_id": f"w{i}", "data": {"i": i}} for i in range(N_WORK)]
    items += [{"external_id": f"g{i}", "data": {"g": i}, "gold_label": "a"} for i in range(N_GOLD)]
    assert manager.post(f"/projects/{created['id']}/items", items).status_code == 201
    return created


class Run:
    """One worker's run through the project, one answer per simulated second."""

    def __init__(self, worker: Any, project_id: int, names: dict[int, str], clock: Any) -> None:
        self.worker, self.pid, self.names, self.clock = worker, project_id, names, clock

    def take(self) -> dict[str, Any]:
        response = self.worker.post(f"/projects/{self.pid}/next")
        assert response.status_code == 200, (response.status_code, response.get_data())
        return response.get_json()

    def answer(self, label: str, *, expect: str) -> dict[str, Any]:
        """Take the next item (its external id must start with ``expect``) and answer it."""
        self.clock.advance(1)
        offer = self.take()
        assert self.names[offer["item"]["id"]].startswith(expect), offer
        response = self.worker.post(f"/assignments/{offer['assignment_id']}/answer",
                                    {"label": label})
        assert response.status_code == 200, response.get_json()
        return {"offer": offer, "answer": response.get_json(),
                "name": self.names[offer["item"]["id"]]}

    def state(self) -> dict[str, Any]:
        return self.worker.get(f"/projects/{self.pid}/me").get_json()


def _gold_rate(manager: Any, project_id: int, rate: float) -> None:
    assert manager.patch(f"/projects/{project_id}", {"gold_rate": rate}).status_code == 200


def _drift(manager: Any, run: Run) -> list[str]:
    """10 right gold answers, 2 work labels, 1 right gold answer, 2 wrong, 2 work
    labels, then wrong gold until the gold CUSUM fires; returns the work items
    labelled after its statistic was last zero.

    The CUSUM (p0 0.85, p1 0.5 for the 0.7 floor) adds 1.2 per miss and takes
    0.5 off per right answer, down to zero; it fires at 6.0, so five misses in
    a row from zero: the 11th gold answer leaves it at zero (that is the onset),
    the 4th miss after it leaves it at 4.8 and the 5th at 6.0.
    """
    pid = run.pid
    for _ in range(10):
        assert run.answer("a", expect="g")["answer"] == {"accepted": True}
    _gold_rate(manager, pid, 0.0)
    before = [run.answer("b", expect="w")["name"] for _ in range(2)]
    _gold_rate(manager, pid, 1.0)
    run.answer("a", expect="g")
    for _ in range(2):
        run.answer("b", expect="g")
    _gold_rate(manager, pid, 0.0)
    after = [run.answer("b", expect="w")["name"] for _ in range(2)]
    _gold_rate(manager, pid, 1.0)
    for _ in range(2):
        run.answer("b", expect="g")
        assert run.state()["state"] == "active"
    run.answer("b", expect="g")
    assert run.state()["state"] == "retraining"
    assert before == ["w0", "w1"] and after == ["w2", "w3"]
    return after


def _events(app: Any, project_id: int, worker_id: int) -> list[StateEvent]:
    with app.app_context():
        return list(db.session.scalars(
            select(StateEvent).where(StateEvent.project_id == project_id,
                                     StateEvent.worker_id == worker_id)
            .order_by(StateEvent.id)))


def test_worker_who_misses_hidden_gold_is_sent_to_retraining_with_evidence(
    app, manager, project, clock
):
    pid = project["id"]
    (wid, worker), = make_users(app, manager, "drifter")
    run = Run(worker, pid, item_names(app, pid), clock)
    _drift(manager, run)

    me = run.state()
    assert me["state"] == "retraining" and me["state_reason_code"] == "drift"
    assert "0/5 hidden-gold answers right since 2026-01-01 12:00:13 UTC" in me["state_reason"]
    table = {row["worker"]: row for row in manager.get(f"/projects/{pid}/workers")
             .get_json()["workers"]}
    assert table[wid]["state"] == "retraining" and table[wid]["state_reason"] == me["state_reason"]
    assert (table[wid]["gold_seen"], table[wid]["gold_correct"]) == (16, 11)

    drift_event = _events(app, pid, wid)[-1]
    assert (drift_event.from_state, drift_event.to_state) == ("active", "retraining")
    assert drift_event.reason_code == "drift" and drift_event.actor_id is None
    evidence = drift_event.evidence
    assert evidence["rule"] == "gold_cusum"
    assert evidence["statistic"] == pytest.approx(6.0) and evidence["threshold"] == 6.0
    assert (evidence["gold_since_onset"], evidence["correct_since_onset"]) == (5, 0)
    assert (evidence["min_accuracy"], evidence["p0"], evidence["p1"]) == (0.7, 0.85, 0.5)
    # The statistic was last zero after the 11th gold answer, the 13th answer (t = 13 s).
    assert evidence["onset"].startswith("2026-01-01T12:00:13")
    assert evidence["discounted_labels"] == 2


def test_worker_at_85_percent_on_the_same_number_of_answers_stays_active(
    app, manager, project, clock
):
    pid = project["id"]
    (_, worker), = make_users(app, manager, "steady")
    run = Run(worker, pid, item_names(app, pid), clock)
    # 17 of 20 right, misses at answers 3, 10 and 17: six right answers between
    # misses take the CUSUM back to zero each time, so it never passes 1.2.
    for n in range(1, 21):
        run.answer("b" if n in (3, 10, 17) else "a", expect="g")
        assert run.state()["state"] == "active", n
    me = run.state()
    assert me["state_reason_code"] == "no_qualification"
    assert [event["to"] for event in me["history"]] == ["active"]


def test_labels_since_the_onset_stop_counting_and_their_items_reopen(
    app, manager, project, clock
):
    pid = project["id"]
    (_, worker), (_, other) = make_users(app, manager, "drifter", "other")
    run = Run(worker, pid, item_names(app, pid), clock)
    discounted = _drift(manager, run)

    export = manager.get(f"/projects/{pid}/labels?format=jsonl")
    assert export.status_code == 200
    rows = [json.loads(line) for line in export.get_data(as_text=True).splitlines()]
    work = {row["external_id"]: row for row in rows if not row["is_gold"]}
    assert {name: row["counted"] for name, row in work.items()} == {
        "w0": True, "w1": True, "w2": False, "w3": False}
    # Gold answers keep counting: they are the evidence, not the work.
    assert all(row["counted"] for row in rows if row["is_gold"])
    csv_rows = list(csv.DictReader(io.StringIO(
        manager.get(f"/projects/{pid}/labels?format=csv").get_data(as_text=True))))
    assert {r["external_id"]: r["counted"] for r in csv_rows if r["is_gold"] == "False"} == {
        "w0": "True", "w1": "True", "w2": "False", "w3": "False"}

    results = results_by_name(manager, pid)
    assert (results["w0"]["status"], results["w0"]["n_labels"]) == ("complete", 1)
    assert (results["w1"]["status"], results["w1"]["n_labels"]) == ("complete", 1)
    for name in discounted:
        assert results[name]["status"] == "open" and results[name]["n_labels"] == 0
        assert results[name]["label"] is None and results[name]["posterior"] is None

    # The reopened items go to the next worker first (they were started).
    _gold_rate(manager, pid, 0.0)
    other_run = Run(other, pid, item_names(app, pid), clock)
    taken = [other_run.answer("c", expect="w")["name"] for _ in range(2)]
    assert taken == discounted
    results = results_by_name(manager, pid)
    assert all(results[n]["status"] == "complete" and results[n]["label"] == "c"
               for n in discounted)


def test_retraining_is_gold_with_feedback_and_passing_it_makes_the_worker_active(
    app, manager, project, clock
):
    pid = project["id"]
    (wid, worker), = make_users(app, manager, "drifter")
    run = Run(worker, pid, item_names(app, pid), clock)
    _drift(manager, run)
    patched = manager.patch(f"/projects/{pid}", {"qualification_size": 4,
                                                 "qualification_accuracy": 0.75})
    assert patched.status_code == 200
    _gold_rate(manager, pid, 0.0)  # training is gold whatever the rate

    # The round is sequential (crowd.domain.qualification): 3/4 is not yet clear
    # at a 0.75 bar, so the worker gets more gold, and 7/8 passes.
    answers = []
    for label in ["a", "b", "a", "a", "a", "a", "a", "a"]:
        state = run.state()
        assert state["state"] == "retraining"
        assert state["round"]["answered"] == len(answers) and state["round"]["at_most"] == 12
        step = run.answer(label, expect="g")
        assert step["offer"]["mode"] == "training"
        answers.append(step["answer"])
    assert answers == [
        {"accepted": True, "feedback": {"correct": True, "expected": "a"}},
        {"accepted": True, "feedback": {"correct": False, "expected": "a"}},
        *[{"accepted": True, "feedback": {"correct": True, "expected": "a"}}] * 6,
    ]
    me = run.state()
    assert me["round"] is None
    assert me["state"] == "active" and me["state_reason_code"] == "retraining_passed"
    assert [(e["from"], e["to"], e["reason_code"], e["by"]) for e in me["history"]] == [
        (None, "active", "no_qualification", "system"),
        ("active", "retraining", "drift", "system"),
        ("retraining", "active", "retraining_passed", "system"),
    ]
    times = [e["at"] for e in me["history"]]
    assert all(t.endswith("Z") for t in times) and times == sorted(times)
    # Back at work: work items, without feedback.
    step = run.answer("a", expect="w")
    assert step["offer"]["mode"] == "work" and step["answer"] == {"accepted": True}
    evidence = _events(app, pid, wid)[-1].evidence
    assert evidence["accuracy"] == 0.875 and evidence["seen"] == 8
    assert evidence["decided_by"] == "upper" and evidence["llr"] >= evidence["pass_llr"]


def test_failing_retraining_suspends_the_worker(app, manager, project, clock):
    pid = project["id"]
    (_, worker), = make_users(app, manager, "drifter")
    run = Run(worker, pid, item_names(app, pid), clock)
    _drift(manager, run)
    assert manager.patch(f"/projects/{pid}", {"qualification_size": 4}).status_code == 200
    # 2/7 against the default 0.8 bar: the evidence is overwhelming before the cap (12).
    for label in ["a", "b", "b", "a", "b", "b", "b"]:
        assert run.state()["state"] == "retraining"
        step = run.answer(label, expect="g")
        assert step["offer"]["mode"] == "training" and "feedback" in step["answer"]
    me = run.state()
    assert me["state"] == "suspended" and me["state_reason_code"] == "retraining_failed"
    assert me["history"][-1]["by"] == "system"
    refused = worker.post(f"/projects/{pid}/next")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "suspended"


def test_suspension_by_a_manager_releases_leases_and_is_recorded(app, manager, project, clock):
    pid = project["id"]
    _gold_rate(manager, pid, 0.0)
    (wid, worker), (_, other) = make_users(app, manager, "holder", "other")
    held = Run(worker, pid, item_names(app, pid), clock).take()  # a lease on w0, unanswered

    # While the lease lives, w0 is nobody else's (redundancy 1).
    other_run = Run(other, pid, item_names(app, pid), clock)
    assert other_run.take()["item"]["id"] != held["item"]["id"]
    assert other.post(f"/assignments/{other_run.take()['assignment_id']}/answer",
                      {"label": "a"}).status_code == 200

    response = manager.post(f"/projects/{pid}/workers/{wid}/state",
                            {"state": "suspended", "reason": "copying answers"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "suspended"
    assert response.get_json()["state_reason_code"] == "manager_override"

    with app.app_context():
        lease = db.session.get(Assignment, held["assignment_id"])
        assert lease.released_at is not None and lease.answered_at is None
    late = worker.post(f"/assignments/{held['assignment_id']}/answer", {"label": "a"})
    assert late.status_code == 410
    assert worker.post(f"/projects/{pid}/next").get_json()["error"]["code"] == "suspended"
    # The released item is free again and goes to the other worker next (it was started).
    assert other_run.take()["item"]["id"] == held["item"]["id"]

    history = worker.get(f"/projects/{pid}/me").get_json()["history"]
    assert [(e["to"], e["reason_code"], e["by"]) for e in history] == [
        ("active", "no_qualification", "system"),
        ("suspended", "manager_override", "manager"),
    ]
    assert history[-1]["reason"] == "copying answers"
    assert history[-1]["at"] == clock.current.isoformat().replace("+00:00", "Z")
    event = _events(app, pid, wid)[-1]
    assert event.actor_id is not None and event.evidence["by"].startswith("manager")

    # A manager can bring them back; that too is recorded as the manager's.
    back = manager.post(f"/projects/{pid}/workers/{wid}/state",
                        {"state": "active", "reason": "cleared after review"})
    assert back.status_code == 200 and back.get_json()["state"] == "active"
    history = worker.get(f"/projects/{pid}/me").get_json()["history"]
    last = history[-1]
    assert (last["from"], last["to"], last["by"]) == ("suspended", "active", "manager")


def test_manager_override_needs_a_valid_state_and_a_reason(app, manager, project):
    pid = project["id"]
    (wid, worker), = make_users(app, manager, "someone")
    assert worker.post(f"/projects/{pid}/next").status_code == 200
    path = f"/projects/{pid}/workers/{wid}/state"
    assert manager.post(path, {"state": "retired", "reason": "x"}).status_code == 422
    assert manager.post(path, {"state": "active"}).status_code == 422
    assert manager.post(f"/projects/{pid}/workers/999999/state",
                        {"state": "active", "reason": "x"}).status_code == 404
    assert worker.post(path, {"state": "active", "reason": "me"}).status_code == 403


def test_manager_reads_a_workers_history_with_evidence(make_project, make_user, manager):
    project = make_project(n_items=2, n_gold=4, qualification_size=2,
                           qualification_accuracy=0.5)
    worker_id, token = make_user("worker")
    worker = manager.as_(token)
    for _ in range(2):
        offer = worker.post(f"/projects/{project['id']}/next").get_json()
        worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
    detail = manager.get(f"/projects/{project['id']}/workers/{worker_id}").get_json()
    assert detail["state"] == "active"
    assert [e["reason_code"] for e in detail["history"]] == ["new_worker", "qualification_passed"]
    passed = detail["history"][1]
    assert passed["by"] == "system"
    assert passed["evidence"]["seen"] == 2 and passed["evidence"]["correct"] == 2
    assert manager.get(f"/projects/{project['id']}/workers/999999").status_code == 404
    assert worker.get(f"/projects/{project['id']}/workers/{worker_id}").status_code == 403


def test_the_gold_cusum_is_carried_across_a_managers_suspension(app, manager, project, clock):
    # Four misses leave the CUSUM at 4.8; a suspension and reinstatement by a
    # manager do not wipe it, so the fifth miss still sends the worker back.
    pid = project["id"]
    (wid, worker), = make_users(app, manager, "drifter")
    run = Run(worker, pid, item_names(app, pid), clock)
    for _ in range(4):
        run.answer("b", expect="g")
    path = f"/projects/{pid}/workers/{wid}/state"
    assert manager.post(path, {"state": "suspended", "reason": "a look"}).status_code == 200
    assert manager.post(path, {"state": "active", "reason": "looked"}).status_code == 200
    run.answer("b", expect="g")
    me = run.state()
    assert me["state"] == "retraining" and me["state_reason_code"] == "drift"
    assert _events(app, pid, wid)[-1].evidence["gold_since_onset"] == 5


def test_after_a_passed_retraining_the_cusum_starts_afresh_and_a_second_alarm_suspends(
        app, manager, project, clock):
    pid = project["id"]
    (_, worker), = make_users(app, manager, "drifter")
    run = Run(worker, pid, item_names(app, pid), clock)
    _drift(manager, run)
    assert manager.patch(f"/projects/{pid}", {"qualification_size": 2}).status_code == 200
    for _ in range(12):  # all right: the round passes as soon as it can
        run.answer("a", expect="g")
        if run.state()["state"] == "active":
            break
    assert run.state()["state_reason_code"] == "retraining_passed"
    for _ in range(4):  # 4.8: below the threshold, from a fresh start
        run.answer("b", expect="g")
        assert run.state()["state"] == "active"
    run.answer("b", expect="g")
    state = run.state()
    assert (state["state"], state["state_reason_code"]) == ("suspended", "drift")
