"""Adversarial workers against the fraud rules, on both databases: a speed bot, a
same-label runner, a majority clicker, a colluding pair and a gold sniffer are each
caught with their reason code and evidence; an honest worker at 0.85 on a skewed
class mix is not; a manager's override is not re-fired on; a second finding suspends.

Where a test loosens ``min_accuracy`` it is so that the drift rules (which would
also catch some of these workers, later) stay out of the way of the rule tested.
"""
from __future__ import annotations

import pytest

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import select

from crowd.extensions import db
from crowd.jobs.bodies import check_drift
from crowd.persistence import Item, Label, StateEvent
from tests.support import make_users

LABELS = ["a", "b", "c"]


def truth_of(name: str) -> str:
    """Shares 0.6 / 0.3 / 0.1 by item number."""
    i = int(name[1:]) % 10
    return "a" if i < 6 else "b" if i < 9 else "c"


def honest(seed: int, accuracy: float = 0.85) -> Callable[[str], str]:
    rng = np.random.default_rng(seed)

    def choose(name: str) -> str:
        true = truth_of(name)
        if rng.random() < accuracy:
            return true
        return str(rng.choice([x for x in LABELS if x != true]))

    return choose


def new_project(manager: Any, n_items: int, n_gold: int = 0, start: int = 0,
                **settings: Any) -> int:
    body = {"name": "fraud", "labels": LABELS, "qualification_size": 0, "gold_rate": 0.0,
            "redundancy": 3, "max_redundancy": 3, "confidence_threshold": 0.5, **settings}
    response = manager.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    pid = response.get_json()["id"]
    add_items(manager, pid, n_items, start)
    if n_gold:
        gold = [{"external_id": f"g{i}", "data": {"g": i}, "gold_label": truth_of(f"g{i}")}
                for i in range(n_gold)]
        assert manager.post(f"/projects/{pid}/items", gold).status_code == 201
    return pid


def add_items(manager: Any, pid: int, n: int, start: int = 0) -> None:
    items = [{"external_id": f"w{i}", "data": {"i": i}} for i in range(start, start + n)]
    assert manager.post(f"/projects/{pid}/items", items).status_code == 201


def names_of(app: Any, pid: int) -> dict[int, str]:
    with app.app_context():
        return dict(db.session.execute(
            select(Item.public_id, Item.external_id).where(Item.project_id == pid)).all())


def work(app: Any, worker: Any, pid: int, clock: Any, choose: Callable[[str], str],
         duration: int | None = 4000, limit: int = 500) -> list[dict[str, Any]]:
    """Take and answer items until ``next`` is empty, refused, offers another mode
    than the first, or ``limit`` answers; each answer's offer, name and response."""
    done: list[dict[str, Any]] = []
    names = names_of(app, pid)
    for _ in range(limit):
        response = worker.post(f"/projects/{pid}/next")
        if response.status_code != 200:
            break
        offer = response.get_json()
        if done and offer["mode"] != done[0]["mode"]:
            break
        name = names.get(offer["item"]["id"]) or names_of(app, pid)[offer["item"]["id"]]
        clock.advance(5)
        body: dict[str, Any] = {"label": choose(name)}
        if duration is not None:
            body["duration_ms"] = duration
        answered = worker.post(f"/assignments/{offer['assignment_id']}/answer", body)
        assert answered.status_code == 200, answered.get_json()
        done.append({"name": name, "mode": offer["mode"], "response": answered.get_json()})
    return done


def events(app: Any, pid: int, wid: int) -> list[StateEvent]:
    with app.app_context():
        return list(db.session.scalars(select(StateEvent).where(
            StateEvent.project_id == pid, StateEvent.worker_id == wid).order_by(StateEvent.id)))


def state(worker: Any, pid: int) -> dict[str, Any]:
    return worker.get(f"/projects/{pid}/me").get_json()


def run_job(app: Any) -> str:
    with app.app_context():
        return check_drift(db.session)


def test_a_speed_bot_is_retrained_then_suspended(app, manager, clock):
    pid = new_project(manager, 40)
    [(wid, bot)] = make_users(app, manager, "bot")
    done = work(app, bot, pid, clock, lambda _: "b", duration=200, limit=20)
    # Sent away at the fourth fast answer; with no gold to retrain on the round lets
    # them straight back, and four more fast answers suspend them.
    assert len(done) == 8
    assert [(e.reason_code, e.to_state) for e in events(app, pid, wid)] == [
        ("no_qualification", "active"), ("too_fast", "retraining"), ("no_gold", "active"),
        ("too_fast", "suspended")]
    first, _, last = events(app, pid, wid)[1:]
    assert first.evidence["rule"] == "fast_answers" and first.evidence["fast_answers"] == 4
    assert first.evidence["floor_ms"] == 1000 and first.evidence["fast_ms"] == [200] * 4
    assert first.evidence["step"] == "retraining" and first.evidence["discounted_labels"] == 4
    assert first.evidence["onset"] == first.evidence["evidence_since"].replace(
        "12:00:00", "12:00:05")  # the first fast answer, five seconds in
    assert last.evidence["step"] == "suspended" and last.evidence["earlier_sanctions"] == 1
    assert last.evidence["discounted_labels"] == 4
    me = state(bot, pid)
    assert me["state"] == "suspended" and me["state_reason_code"] == "too_fast"


def test_an_override_is_not_re_fired_on_and_restarts_the_ladder(app, manager, clock):
    pid = new_project(manager, 40)
    [(wid, bot)] = make_users(app, manager, "hasty")
    work(app, bot, pid, clock, lambda _: "b", duration=200, limit=4)
    assert state(bot, pid)["state_reason_code"] == "too_fast"
    assert manager.post(f"/projects/{pid}/workers/{wid}/state",
                        {"state": "active", "reason": "slow network clock"}).status_code == 200
    # Three fast answers after the override: the four before it no longer count.
    work(app, bot, pid, clock, lambda _: "b", duration=200, limit=3)
    assert state(bot, pid)["state"] == "active"
    work(app, bot, pid, clock, lambda _: "b", duration=200, limit=1)
    me = state(bot, pid)
    assert me["state"] == "retraining"  # a first strike again, since the manager's say
    assert events(app, pid, wid)[-1].evidence["earlier_sanctions"] == 0


def test_a_same_label_runner_is_caught_at_the_stated_run(app, manager, clock):
    pid = new_project(manager, 60, n_gold=10, redundancy=1, max_redundancy=1)
    [(wid, runner)] = make_users(app, manager, "runner")
    done = work(app, runner, pid, clock, lambda _: "c")
    # Alone on each item, each "c" has posterior 0.7 (a newcomer's prior accuracy):
    # 0.7^42 is the first power below 1e-6 / 3.
    assert len(done) == 42
    me = state(runner, pid)
    assert me["state"] == "retraining" and me["state_reason_code"] == "same_label_run"
    evidence = events(app, pid, wid)[-1].evidence
    assert evidence["rule"] == "same_label_run" and evidence["run"] == 42
    assert evidence["label"] == "c" and evidence["discounted_labels"] == 42
    assert evidence["statistic"] <= evidence["threshold"]


@pytest.mark.slow
def test_a_majority_clicker_is_caught_by_the_job(app, manager, clock):
    pid = new_project(manager, 60)
    workers = make_users(app, manager, "h1", "h2", "h3", "clicker")
    for seed, (_, worker) in enumerate(workers[:3]):
        work(app, worker, pid, clock, honest(seed))
    add_items(manager, pid, 60, start=60)  # the clicker's own items, nobody else's
    cid, clicker = workers[3]
    count = iter(range(1000))
    work(app, clicker, pid, clock, lambda _: "a" if next(count) % 6 == 5 else "b")
    assert run_job(app) == "1 worker(s) sent to retraining"
    me = state(clicker, pid)
    assert me["state"] == "retraining" and me["state_reason_code"] == "majority_clicker"
    evidence = events(app, pid, cid)[-1].evidence
    assert evidence["rule"] == "majority_clicker" and evidence["label"] == "b"
    assert (evidence["count"], evidence["labels"]) == (50, 60)
    assert evidence["statistic"] <= evidence["threshold"] and evidence["discounted_labels"] == 60
    assert all(state(w, pid)["state"] == "active" for _, w in workers[:3])


@pytest.mark.slow
def test_a_colluding_pair_is_caught(app, manager, clock):
    pid = new_project(manager, 40, redundancy=5, max_redundancy=5, min_accuracy=0.35)
    workers = make_users(app, manager, "h1", "h2", "h3", "leader", "follower")
    for seed, (_, worker) in enumerate(workers[:3]):
        work(app, worker, pid, clock, honest(seed))
    given: dict[str, str] = {}
    lead = honest(7, accuracy=0.6)

    def leader(name: str) -> str:
        given[name] = lead(name)
        return given[name]

    (lid, first), (fid, second) = workers[3], workers[4]
    work(app, first, pid, clock, leader)
    work(app, second, pid, clock, lambda name: given[name])
    assert manager.post(f"/projects/{pid}/aggregate").status_code in (200, 201)
    assert run_job(app) == "2 worker(s) sent to retraining"
    for wid, partner in ((lid, fid), (fid, lid)):
        event = events(app, pid, wid)[-1]
        assert event.reason_code == "collusion" and event.to_state == "retraining"
        evidence = event.evidence
        assert evidence["partner"] == partner and evidence["shared"] == 40
        assert evidence["agreed"] == 40 and evidence["expected_agreement"] < 0.7
        assert evidence["statistic"] <= evidence["threshold"] == 1e-6
    assert all(state(w, pid)["state"] == "active" for _, w in workers[:3])


@pytest.mark.slow
def test_a_sniffer_is_caught_and_retrained_on_gold_that_looks_like_work(app, manager, clock):
    pid = new_project(manager, 60, n_gold=60, gold_rate=0.5, min_accuracy=0.35,
                      redundancy=4, max_redundancy=4)
    workers = make_users(app, manager, "h1", "h2", "h3", "sniffer")
    for seed, (_, worker) in enumerate(workers[:3]):
        work(app, worker, pid, clock, honest(seed, accuracy=0.9))
    sid, sniffer = workers[3]
    count = iter(range(1000))
    # Honest on gold, and on work the same cycle whatever the item: right one time in three.
    work(app, sniffer, pid, clock,
         lambda name: truth_of(name) if name.startswith("g") else LABELS[next(count) % 3],
         limit=100)
    assert run_job(app) == "1 worker(s) sent to retraining"
    me = state(sniffer, pid)
    assert me["state"] == "retraining" and me["state_reason_code"] == "gold_sniffing"
    evidence = events(app, pid, sid)[-1].evidence
    assert evidence["rule"] == "gold_sniffing" and evidence["gold_accuracy"] > 0.95
    assert evidence["work_accuracy"] < 0.5 and evidence["gold_seen"] >= 10
    assert evidence["work_labels"] >= 30
    assert evidence["statistic"] >= evidence["threshold"] > 3.7
    assert evidence["discounted_labels"] > 0
    with app.app_context():
        counted = db.session.scalars(select(Label.counted).where(
            Label.worker_id == sid, Label.is_gold.is_(False))).all()
    assert counted.count(False) == evidence["discounted_labels"]
    # The round is gold served as work, with no feedback; answered as work (at random),
    # it fails and the sniffer is suspended. (A round of the nominal 10 answers.)
    assert manager.patch(f"/projects/{pid}", {"qualification_size": 10}).status_code == 200
    done = work(app, sniffer, pid, clock, lambda name: "c")
    assert done and all(d["mode"] == "work" and d["name"].startswith("g") for d in done)
    assert all("feedback" not in d["response"] for d in done)
    me = state(sniffer, pid)
    assert me["state"] == "suspended" and me["state_reason_code"] == "retraining_failed"


@pytest.mark.slow
def test_honest_workers_on_a_skewed_mix_are_left_alone(app, manager, clock):
    pid = new_project(manager, 80, n_gold=40, gold_rate=0.2, redundancy=4, max_redundancy=4)
    workers = make_users(app, manager, "h1", "h2", "h3", "h4")
    for seed, (_, worker) in enumerate(workers):
        work(app, worker, pid, clock, honest(seed))
    assert manager.post(f"/projects/{pid}/aggregate").status_code in (200, 201)
    assert run_job(app) == "0 worker(s) sent to retraining"
    for wid, worker in workers:
        assert state(worker, pid)["state"] == "active"
        assert [e.reason_code for e in events(app, pid, wid)] == ["no_qualification"]


def test_the_rules_are_project_settings_a_manager_can_tune_or_switch_off(app, manager, clock):
    pid = new_project(manager, 20, fast_answer_ms=0)
    project = manager.get(f"/projects/{pid}").get_json()
    assert (project["fast_answer_ms"], project["majority_alpha"]) == (0, 1e-4)
    for body in ({"fast_answer_count": 11}, {"majority_alpha": 0.5}, {"fast_answer_ms": -1},
                 {"collusion_min_shared": 2.5}, {"sniffing_alpha": "1e-4"}):
        response = manager.patch(f"/projects/{pid}", body)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["code"] == "invalid_setting" and next(iter(body)) in error["message"]
    [(wid, bot)] = make_users(app, manager, "fast-but-allowed")
    assert len(work(app, bot, pid, clock, lambda _: "b", duration=200)) == 20  # rule off
    assert state(bot, pid)["state"] == "active"
    patched = manager.patch(f"/projects/{pid}", {"fast_answer_ms": 500, "fast_answer_count": 2,
                                                 "fast_answer_window": 3})
    assert patched.status_code == 200 and patched.get_json()["fast_answer_window"] == 3
