"""Every low-quality sanction goes through ``sanction_low_quality``: the agreement
CUSUM, the Dawid-Skene check and a rule of one's own all discount the worker's
labels since the onset, reopen their items and record the evidence."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from crowd.domain.sequential import AGREEMENT_THRESHOLD
from crowd.extensions import db
from crowd.jobs.bodies import check_drift
from crowd.persistence import AggregationRun, Label, Project, StateEvent, User, WorkerStanding
from crowd.services.drift import check_estimated_drift
from crowd.services.sanctions import Finding, sanction_low_quality
from tests.support import item_names, make_users, results_by_name, work_through

N_ITEMS = 25


@pytest.fixture
def project(manager: Any) -> dict[str, Any]:
    """No gold, no qualification; three labels per item; w<i> is of class i mod 3."""
    body = {"name": "agreement", "labels": ["a", "b", "c"], "gold_rate": 0.0,
            "qualification_size": 0, "redundancy": 3, "max_redundancy": 3,
            "confidence_threshold": 0.5, "drift_window": 5}
    response = manager.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    items = [{"external_id": f"w{i:02d}", "data": {"i": i}} for i in range(N_ITEMS)]
    assert manager.post(f"/projects/{created['id']}/items", items).status_code == 201
    return created


LABELS = ("a", "b", "c")


def truth(name: str) -> str:
    """Item w<i> is of class a, b, c by i mod 3."""
    return LABELS[int(name[1:]) % 3]


def wrong(name: str) -> str:
    return LABELS[(int(name[1:]) + 1) % 3]


def _crowd(app: Any, manager: Any, project: dict[str, Any], clock: Any,
           drifter_agrees: list[bool]) -> tuple[int, Any, list[str], list[Any]]:
    """Two honest workers label every item right; then the drifter labels items
    one a second, right or wrong as ``drifter_agrees`` says. Returns the
    drifter's id, client, items in the order answered, and the answer times."""
    pid = project["id"]
    names = item_names(app, pid)
    (_, honest1), (_, honest2), (wid, drifter) = make_users(app, manager, "h1", "h2", "drifter")
    for honest in (honest1, honest2):
        assert len(work_through(honest, pid, names, truth)) == N_ITEMS
    done, times = [], []
    for agrees in drifter_agrees:
        clock.advance(1)
        offer = drifter.post(f"/projects/{pid}/next").get_json()
        name = names[offer["item"]["id"]]
        label = truth(name) if agrees else wrong(name)
        answered = drifter.post(f"/assignments/{offer['assignment_id']}/answer", {"label": label})
        assert answered.status_code == 200
        done.append(name)
        times.append(clock.current)
    return wid, drifter, done, times


def _states(app: Any, pid: int) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(
            select(User.username, WorkerStanding.state)
            .join(User, User.id == WorkerStanding.worker_id)
            .where(WorkerStanding.project_id == pid)).all())


def _last_event(app: Any, pid: int, wid: int) -> StateEvent:
    with app.app_context():
        return db.session.scalars(select(StateEvent).where(
            StateEvent.project_id == pid, StateEvent.worker_id == wid)
            .order_by(StateEvent.id.desc()).limit(1)).one()


def _counted(app: Any, pid: int, wid: int) -> dict[bool, int]:
    with app.app_context():
        rows = db.session.scalars(select(Label.counted).where(
            Label.project_id == pid, Label.worker_id == wid)).all()
    return {flag: rows.count(flag) for flag in (True, False)}


def test_agreement_cusum_sanctions_and_discounts_since_it_was_last_zero(
    app, manager, project, clock
):
    pid = project["id"]
    wid, drifter, done, times = _crowd(app, manager, project, clock, [True] * 10 + [False] * 15)
    results = results_by_name(manager, pid)
    assert all(results[name]["status"] == "complete" for name in done)

    with app.app_context():
        check_drift(db.session)
    assert _states(app, pid) == {"h1": "active", "h2": "active", "drifter": "retraining"}
    me = drifter.get(f"/projects/{pid}/me").get_json()
    assert me["state"] == "retraining" and me["state_reason_code"] == "agreement_drift"

    evidence = _last_event(app, pid, wid).evidence
    assert evidence["rule"] == "agreement_cusum" and evidence["threshold"] == AGREEMENT_THRESHOLD
    assert evidence["statistic"] >= AGREEMENT_THRESHOLD
    # The CUSUM was last zero after the 10th (agreeing) label: the 11th is the onset,
    # and every label from there on stops counting, not only those before the alarm.
    assert evidence["onset"] == times[10].isoformat()
    assert evidence["discounted_labels"] == 15
    assert (evidence["min_accuracy"], evidence["p0"], evidence["p1"]) == (0.7, 0.85, 0.6)
    assert _counted(app, pid, wid) == {True: 10, False: 15}

    results = results_by_name(manager, pid)
    for name in done[:10]:
        assert results[name]["status"] == "complete" and results[name]["n_labels"] == 3
    for name in done[10:]:
        assert results[name]["status"] == "open" and results[name]["n_labels"] == 2

    # The next sanction starts from this one: the statistics restart here.
    with app.app_context():
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid)).one()
        assert standing.drift_since is not None and standing.gold_cusum == 0.0


def test_a_worker_who_agrees_is_left_alone(app, manager, project, clock):
    pid = project["id"]
    wid, drifter, _, _ = _crowd(app, manager, project, clock, [True] * 20 + [False] * 5)
    with app.app_context():
        assert check_drift(db.session) == "0 worker(s) sent to retraining"
    assert _states(app, pid) == {"h1": "active", "h2": "active", "drifter": "active"}
    assert _counted(app, pid, wid) == {True: 25, False: 0}


def test_dawid_skene_check_tests_only_the_labels_its_estimate_saw(
    app, manager, project, clock
):
    """An estimate fitted when the worker had 4 labels is not tested as if it
    rested on all 12 given since: too few for the test, so no sanction yet."""
    pid = project["id"]
    wid, drifter, done, times = _crowd(app, manager, project, clock, [False] * 12)
    assert manager.post(f"/projects/{pid}/aggregate").status_code in (200, 201)
    with app.app_context():
        run = db.session.scalars(select(AggregationRun).where(
            AggregationRun.project_id == pid)).one()
        run.created_at = times[3]  # the fit saw the first 4 labels only
        db.session.commit()
        proj = db.session.get(Project, pid)
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid)
            .with_for_update()).one()
        assert standing.estimated_accuracy < 0.5
        assert not check_estimated_drift(db.session, proj, standing,
                                         np.random.default_rng(1), clock.current)
        db.session.commit()
    assert drifter.get(f"/projects/{pid}/me").get_json()["state"] == "active"


def test_dawid_skene_check_discounts_labels_too(app, manager, project, clock):
    pid = project["id"]
    wid, drifter, done, times = _crowd(app, manager, project, clock, [False] * 12)
    assert manager.post(f"/projects/{pid}/aggregate").status_code in (200, 201)
    with app.app_context():
        proj = db.session.get(Project, pid)
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid)
            .with_for_update()).one()
        assert standing.estimated_accuracy < 0.5
        fired = check_estimated_drift(db.session, proj, standing, np.random.default_rng(1),
                                      clock.current)
        db.session.commit()
    assert fired
    me = drifter.get(f"/projects/{pid}/me").get_json()
    assert me["state"] == "retraining" and me["state_reason_code"] == "low_estimated_accuracy"
    evidence = _last_event(app, pid, wid).evidence
    assert evidence["rule"] == "dawid_skene" and evidence["threshold"] == 0.01
    assert evidence["statistic"] < 0.01 and evidence["labels"] == 12
    # Wrong from the start: no drop inside the record, so all of it is suspect.
    assert evidence["onset"] == times[0].isoformat()
    assert evidence["discounted_labels"] == 12
    assert _counted(app, pid, wid) == {True: 0, False: 12}
    results = results_by_name(manager, pid)
    assert all(results[name]["status"] == "open" for name in done)

    # Reinstated by a manager before the next aggregation: the old estimate,
    # from before the sanction, does not condemn them again.
    assert manager.post(f"/projects/{pid}/workers/{wid}/state",
                        {"state": "active", "reason": "talked it through"}).status_code == 200
    with app.app_context():
        proj = db.session.get(Project, pid)
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.worker_id == wid, WorkerStanding.project_id == pid)).one()
        assert not check_estimated_drift(db.session, proj, standing,
                                         np.random.default_rng(1), clock.current)


def test_a_rule_of_its_own_calls_the_same_sanction(app, manager, project, clock):
    pid = project["id"]
    wid, drifter, done, times = _crowd(app, manager, project, clock, [True] * 8)
    with app.app_context():
        proj = db.session.get(Project, pid)
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid)
            .with_for_update()).one()
        evidence = sanction_low_quality(db.session, proj, standing, Finding(
            rule="speed", reason_code="too_fast", reason="answers faster than anyone reads",
            statistic=9.5, threshold=4.0, onset=times[5] - timedelta(microseconds=1),
            detail={"median_ms": 120}), np.random.default_rng(1), clock.current,
            to_state="suspended")
        db.session.commit()
    assert evidence["discounted_labels"] == 3
    me = drifter.get(f"/projects/{pid}/me").get_json()
    assert me["state"] == "suspended" and me["state_reason_code"] == "too_fast"
    recorded = _last_event(app, pid, wid).evidence
    assert recorded == {"rule": "speed", "statistic": 9.5, "threshold": 4.0,
                        "onset": (times[5] - timedelta(microseconds=1)).isoformat(),
                        "discounted_labels": 3, "step": "suspended", "earlier_sanctions": 0,
                        "median_ms": 120}
    assert _counted(app, pid, wid) == {True: 5, False: 3}
    results = results_by_name(manager, pid)
    assert [results[n]["status"] for n in done[5:]] == ["open"] * 3


def test_a_sanction_only_moves_to_retraining_or_suspension(app, manager, project, clock):
    wid, _, _, times = _crowd(app, manager, project, clock, [True])
    with app.app_context():
        proj = db.session.get(Project, project["id"])
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.worker_id == wid)).one()
        with pytest.raises(ValueError):
            sanction_low_quality(db.session, proj, standing, Finding(
                "x", "x", "x", 1.0, 0.5, times[0]), np.random.default_rng(1),
                clock.current, to_state="active")
        db.session.rollback()


def test_answers_check_agreement_every_tenth_answer(app, manager, project, clock):
    # Five agreeing labels, then disagreeing ones: the CUSUM passes 6.0 at the
    # 11th disagreement (0.56 each), but answers look only after every 10th
    # answer, gold or not, so the 20th answer is the one that sanctions.
    pid = project["id"]
    wid, drifter, done, times = _crowd(app, manager, project, clock, [True] * 5 + [False] * 14)
    assert drifter.get(f"/projects/{pid}/me").get_json()["state"] == "active"
    clock.advance(1)
    offer = drifter.post(f"/projects/{pid}/next").get_json()
    label = wrong(item_names(app, pid)[offer["item"]["id"]])
    assert drifter.post(f"/assignments/{offer['assignment_id']}/answer",
                        {"label": label}).status_code == 200
    me = drifter.get(f"/projects/{pid}/me").get_json()
    assert me["state"] == "retraining" and me["state_reason_code"] == "agreement_drift"
    evidence = _last_event(app, pid, wid).evidence
    assert evidence["onset"] == times[5].isoformat() and evidence["discounted_labels"] == 15
    assert _counted(app, pid, wid) == {True: 5, False: 15}


def test_dawid_skene_onset_is_where_agreement_dropped(app, manager, project, clock):
    # Six labels that agree, then thirteen that do not (too few, between the
    # answer-time checks, for the agreement CUSUM): the Dawid-Skene check fires,
    # and the most likely split of the agreement record dates the onset.
    pid = project["id"]
    wid, _, done, times = _crowd(app, manager, project, clock, [True] * 6 + [False] * 13)
    assert manager.post(f"/projects/{pid}/aggregate").status_code in (200, 201)
    with app.app_context():
        proj = db.session.get(Project, pid)
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid)
            .with_for_update()).one()
        assert check_estimated_drift(db.session, proj, standing, np.random.default_rng(1),
                                     clock.current)
        db.session.commit()
    evidence = _last_event(app, pid, wid).evidence
    assert evidence["rule"] == "dawid_skene" and evidence["labels"] == 19
    assert evidence["onset"] == times[6].isoformat() and evidence["discounted_labels"] == 13
    assert _counted(app, pid, wid) == {True: 6, False: 13}
    results = results_by_name(manager, pid)
    assert [results[n]["status"] for n in done[:6]] == ["complete"] * 6


def _one_item_answered(app, manager, clock, name: str, redundancy: int, max_redundancy: int,
                       threshold: float, answers: tuple[str, str, str]) -> tuple[int, int]:
    """A project of one item that three new workers answer in turn with ``answers``;
    returns (project id, the first worker's id)."""
    body = {"name": name, "labels": list(LABELS), "gold_rate": 0.0,
            "qualification_size": 0, "redundancy": redundancy,
            "max_redundancy": max_redundancy, "confidence_threshold": threshold}
    pid = manager.post("/projects", body).get_json()["id"]
    assert manager.post(f"/projects/{pid}/items",
                        [{"external_id": "w00", "data": {"i": 0}}]).status_code == 201
    workers = make_users(app, manager, *(f"{name}-{n}" for n in range(3)))
    for (_, worker), label in zip(workers, answers, strict=True):
        clock.advance(1)
        offer = worker.post(f"/projects/{pid}/next").get_json()
        assert worker.post(f"/assignments/{offer['assignment_id']}/answer",
                           {"label": label}).status_code == 200
    return pid, workers[0][0]


def _sanction_too_fast(app, pid: int, wid: int, clock) -> None:
    """The speed rule's sanction of ``wid``, with its onset before every answer."""
    with app.app_context():
        proj = db.session.get(Project, pid)
        standing = db.session.scalars(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == wid)
            .with_for_update()).one()
        sanction_low_quality(db.session, proj, standing, Finding(
            rule="speed", reason_code="too_fast", reason="too fast", statistic=1.0,
            threshold=0.5, onset=clock.current - timedelta(seconds=10)),
            np.random.default_rng(1), clock.current)
        db.session.commit()


def test_a_discount_takes_back_the_widening_the_label_caused(app, manager, clock):
    """The bad label split the item (2 labels became 4 wanted); once it stops
    counting, the two agreeing labels left complete the item at once."""
    pid, wid = _one_item_answered(app, manager, clock, "widening", 2, 4, 0.9, ("b", "a", "a"))
    row = results_by_name(manager, pid)["w00"]
    assert row["status"] == "open" and row["n_labels"] == 3
    _sanction_too_fast(app, pid, wid, clock)
    row = results_by_name(manager, pid)["w00"]
    assert (row["status"], row["label"], row["n_labels"]) == ("complete", "a", 2)


def test_a_discount_on_an_item_whose_label_budget_is_spent_sends_it_to_review(
    app, manager, clock,
):
    """Three labels (max_redundancy) split three ways put the item in review; the bad
    worker's label stops counting, and the two left still disagree. Asking for a
    fourth label would pass max_redundancy (and a pool whose workers all labelled it
    would never give one): an expert decides."""
    pid, wid = _one_item_answered(app, manager, clock, "budget", 2, 3, 0.99, ("b", "a", "c"))
    assert results_by_name(manager, pid)["w00"]["status"] == "in_review"
    _sanction_too_fast(app, pid, wid, clock)
    row = results_by_name(manager, pid)["w00"]
    assert (row["status"], row["n_labels"]) == ("in_review", 2), row
