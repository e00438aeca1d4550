"""Evidence that cannot be gamed: qualification and training answers (known gold,
with feedback) never raise a worker's reliability; only work labels and hidden
gold do. A gold sniffer, right on every round and random on work, stays near
chance however many retraining rounds it passes; a worker who stumbled through
qualification and is good on work is not held back by it."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Item, Label, StateEvent
from tests.integration.evidence_support import (
    aggregate,
    answer_one,
    fit_on_every_label,
    project_with_truth,
    retrain,
    right_answers,
    standing_of,
    state_of,
    until_active,
    work,
)
from tests.support import item_names, make_users

LABELS = ["a", "b", "c", "d"]
ROUNDS = 5  # the sniffer's work spells; each after the first follows a retraining round
WORK_PER_ROUND = 24  # work offers (hidden gold included) per spell


@pytest.mark.slow
def test_a_gold_sniffer_stays_near_chance_through_every_retraining_round(
    app, manager, clock
):
    pid, truth = project_with_truth(manager, LABELS, n_work=160, n_gold=120,
                                    qualification_size=4, qualification_accuracy=0.75,
                                    gold_rate=0.2, redundancy=3, max_redundancy=3)
    names = item_names(app, pid)
    (_, h1), (_, h2), (sid, sniffer) = make_users(app, manager, "honest1", "honest2", "sniffer")

    honest = right_answers(truth)
    for worker in (h1, h2):
        for _ in range(400):
            if answer_one(worker, pid, names, clock, honest) is None:
                break
    rng = np.random.default_rng(7)

    def sniff(name: str, mode: str) -> str:
        # Known gold (a round, with feedback) is answered honestly; work,
        # hidden gold included, at random.
        return truth[name] if mode != "work" else LABELS[int(rng.integers(len(LABELS)))]

    estimates, real, before = [], [], []
    for spell in range(ROUNDS):
        if spell and state_of(app, pid, sid) in ("active", "suspended"):
            retrain(manager, pid, sid)
        until_active(app, sniffer, sid, pid, names, clock, sniff)
        work(sniffer, pid, names, clock, sniff, WORK_PER_ROUND)
        aggregate(manager, pid)
        standing = standing_of(app, pid, sid)
        estimates.append(standing.estimated_accuracy)
        real.append(_share_right_in_the_fit(app, pid, sid, truth))
        before.append(round(fit_on_every_label(app, pid, LABELS)[sid], 4))

    standing = standing_of(app, pid, sid)
    hidden = (standing.hidden_gold_correct, standing.hidden_gold_seen)
    print(f"\nsniffer, true accuracy on work 0.25 ({ROUNDS} spells of {WORK_PER_ROUND} work "
          f"offers, {standing.gold_correct}/{standing.gold_seen} gold right of which "
          f"{hidden[0]}/{hidden[1]} hidden):")
    print(f"  estimate per spell, fitted on every label (before): {before}")
    print(f"  estimate per spell, work and hidden gold only (now): {estimates}")
    print(f"  its real share right of the labels in each fit: {real}")
    with app.app_context():
        reasons = db.session.scalars(select(StateEvent.reason_code).where(
            StateEvent.project_id == pid, StateEvent.worker_id == sid)
            .order_by(StateEvent.id)).all()
    print(f"  state changes: {reasons}")
    rounds_gold = standing.gold_seen - standing.hidden_gold_seen
    assert rounds_gold >= 4 * ROUNDS  # qualification and every retraining round were played
    assert standing.gold_correct - standing.hidden_gold_correct == rounds_gold  # all right
    # The estimate is the sniffer's real share right on the labels in the fit (its
    # work and hidden gold; the others' labels pin every item it labelled), not what
    # the rounds say. That share is near chance, 0.25: a few dozen random answers
    # after each sanction's discount put one standard error at 0.07-0.09.
    assert all(e is not None and abs(e - r) < 0.05 for e, r in zip(estimates, real)), (
        estimates, real)
    assert all(abs(r - 0.25) < 0.25 for r in real), real
    # The rounds do not lift it: the last spell ends where the first did.
    assert estimates[-1] < estimates[0] + 0.1, estimates
    # The scenario has teeth: counting the rounds lifted the old estimate round by
    # round, far from chance (the 0.59 to 0.61 seen from outside).
    assert before[-1] > before[0] + 0.1 and before[-1] > 0.5, before
    assert before[-1] > estimates[-1] + 0.2, (before, estimates)


def _share_right_in_the_fit(app, pid: int, wid: int, truth: dict[str, str]) -> float:
    """The share of the worker's counted work-mode labels that are right."""
    with app.app_context():
        rows = db.session.execute(
            select(Label.label, Item.external_id, Item.gold_label)
            .join(Item, Item.id == Label.item_id)
            .where(Label.project_id == pid, Label.worker_id == wid,
                   Label.counted.is_(True), Label.mode == "work")).all()
    right = [label == (gold or truth[name]) for label, name, gold in rows]
    return round(sum(right) / len(right), 4)


def test_stumbling_in_qualification_is_not_held_against_good_work(app, manager, clock):
    labels = ["a", "b", "c"]
    pid, truth = project_with_truth(manager, labels, n_work=45, n_gold=60,
                                    qualification_size=5, qualification_accuracy=0.8,
                                    gold_rate=0.2, redundancy=3, max_redundancy=3)
    names = item_names(app, pid)
    users = make_users(app, manager, "ace", "stumbler", "third")
    misses = {"n": 0}

    ace = right_answers(truth)

    def stumble(name: str, mode: str) -> str:
        # Every other qualification answer wrong; every work answer right.
        if mode == "qualification":
            misses["n"] += 1
            if misses["n"] % 2:
                return labels[(labels.index(truth[name]) + 1) % len(labels)]
        return truth[name]

    for (wid, worker), choose in zip(users, (ace, stumble, ace)):
        until_active(app, worker, wid, pid, names, clock, choose)
        if state_of(app, pid, wid) == "suspended":  # failed: a manager lets them in
            response = manager.post(f"/projects/{pid}/workers/{wid}/state",
                                    {"state": "active", "reason": "good work elsewhere"})
            assert response.status_code == 200, response.get_json()
        for _ in range(200):
            if answer_one(worker, pid, names, clock, choose) is None:
                break
    (ace_id, _), (stumbler_id, _), _ = users
    stumbler = standing_of(app, pid, stumbler_id)
    assert stumbler.gold_seen - stumbler.gold_correct >= 2  # qualification misses, recorded
    assert stumbler.hidden_gold_correct == stumbler.hidden_gold_seen > 0  # none of them here
    aggregate(manager, pid)
    estimated = {w: standing_of(app, pid, w).estimated_accuracy for w in (ace_id, stumbler_id)}
    before = fit_on_every_label(app, pid, labels)
    print(f"\nace / stumbler estimate, fitted on every label (before): "
          f"{before[ace_id]:.4f} / {before[stumbler_id]:.4f}; "
          f"work and hidden gold only (now): {estimated[ace_id]} / {estimated[stumbler_id]}")
    assert estimated[stumbler_id] > 0.85
    assert estimated[stumbler_id] == pytest.approx(estimated[ace_id], abs=0.02)
    assert before[stumbler_id] < before[ace_id] - 0.02  # what counting the misses did
