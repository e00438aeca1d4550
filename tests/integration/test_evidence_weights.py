"""What weighs a label: the Dawid-Skene run fits work-mode labels only, and
without a fit a worker weighs by their hidden-gold record, never by their
qualification score."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import AggregationRun, Item, WorkerStanding
from tests.integration.evidence_support import (
    answer_one,
    project_with_truth,
    right_answers,
    standing_of,
    until_active,
)
from tests.support import item_names, make_users


def test_a_newcomer_weighs_as_the_prior_whatever_their_qualification_score(app, manager, clock):
    # Two classes, no hidden gold; three workers ace a four-item qualification and
    # agree on every item. Their hidden-gold record is empty, so each label weighs
    # as a 70% worker (the prior): 0.343 / 0.370 = 0.927 < 0.95, the items wait
    # for a fourth label. Counting the qualification (7.5/9 = 0.833 each) would
    # have completed them at 0.992.
    pid, truth = project_with_truth(manager, ["a", "b"], n_work=8, n_gold=12,
                                    qualification_size=4, qualification_accuracy=0.75,
                                    gold_rate=0.0, redundancy=3, max_redundancy=5,
                                    confidence_threshold=0.95)
    names = item_names(app, pid)
    right = right_answers(truth)
    for wid, worker in make_users(app, manager, "n1", "n2", "n3"):
        until_active(app, worker, wid, pid, names, clock, right)
        for _ in range(20):
            if answer_one(worker, pid, names, clock, right) is None:
                break
        standing = standing_of(app, pid, wid)
        assert standing.gold_seen == standing.gold_correct >= 4
        assert (standing.hidden_gold_seen, standing.hidden_gold_correct) == (0, 0)
    with app.app_context():
        rows = db.session.execute(select(Item.status, Item.confidence).where(
            Item.project_id == pid, Item.is_gold.is_(False))).all()
    assert len(rows) == 8
    for status, confidence in rows:
        assert status == "open" and confidence == pytest.approx(0.343 / 0.370, abs=1e-4)


def test_the_run_fits_work_labels_only_and_drops_estimates_left_without_evidence(
    app, manager, clock
):
    # Three workers qualify and label eight work items; a fourth only qualifies,
    # and carries an estimate from a fit that counted qualification (as before).
    pid, truth = project_with_truth(manager, ["a", "b"], n_work=8, n_gold=6,
                                    qualification_size=2, qualification_accuracy=0.5,
                                    gold_rate=0.0, redundancy=3, max_redundancy=5)
    names = item_names(app, pid)
    right = right_answers(truth)
    workers = make_users(app, manager, "q1", "q2", "q3", "only_qualified")
    for wid, worker in workers:
        until_active(app, worker, wid, pid, names, clock, right)
    for _, worker in workers[:3]:
        for _ in range(20):
            if answer_one(worker, pid, names, clock, right) is None:
                break
    only_id = workers[3][0]
    with app.app_context():
        standing = db.session.scalar(select(WorkerStanding).where(
            WorkerStanding.project_id == pid, WorkerStanding.worker_id == only_id))
        standing.estimated_accuracy = 0.93
        standing.confusion = {"a": {"a": 0.93, "b": 0.07}, "b": {"a": 0.07, "b": 0.93}}
        db.session.commit()

    body = manager.post(f"/projects/{pid}/aggregate").get_json()
    assert body["items"] == 8  # no gold item was met in work mode

    with app.app_context():
        run = db.session.scalars(select(AggregationRun)
                                 .where(AggregationRun.project_id == pid)).one()
        assert (run.items, run.workers, run.labels) == (8, 3, 24)
    only = standing_of(app, pid, only_id)
    assert only.estimated_accuracy is None and only.confusion is None
    assert only.gold_seen == 2 and only.hidden_gold_seen == 0
    for wid, _ in workers[:3]:
        fitted = standing_of(app, pid, wid)
        assert fitted.gold_seen == 2 and fitted.hidden_gold_seen == 0
        assert 0.8 < fitted.estimated_accuracy < 1.0
