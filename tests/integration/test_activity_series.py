"""The activity job's counters equal a direct count of the labels, run after run,
with labels committed late (holes under the watermark) counted once; the pages'
tail adds the labels since the last run."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, insert, select, update

from crowd.domain.activity import hour_of
from crowd.extensions import db
from crowd.jobs.activity import refresh_activity
from crowd.persistence import (
    ActivityWatermark,
    Label,
    LabelHour,
    ProjectBacklog,
    WorkerActivity,
)
from crowd.services import activity, backlog, dashboard
from crowd.services.activity import HOLE_SECONDS, WATERMARK
from tests.conftest import Api, Clock
from tests.support import make_users


def _work(app: Flask, manager: Api, project: int, workers: list[tuple[int, Api]], clock: Clock,
          rounds: int, step: float) -> None:
    """Each worker takes and answers up to ``rounds`` items, the clock moving ``step``
    seconds after each answer (so labels fall in several hours)."""
    for turn in range(rounds):
        for n, (_, worker) in enumerate(workers):
            offer = worker.post(f"/projects/{project}/next")
            if offer.status_code != 200:
                continue
            body = offer.get_json()
            label = body["labels"][(turn + n) % 2]
            answered = worker.post(f"/assignments/{body['assignment_id']}/answer",
                                   {"label": label, "duration_ms": 1500 + 700 * n + 90 * turn})
            assert answered.status_code == 200, answered.get_json()
            clock.advance(step)


def _direct(app: Flask, project: int) -> dict[str, Any]:
    with app.app_context():
        rows = db.session.execute(
            select(Label.worker_id, Label.created_at, Label.is_gold, Label.mode)
            .where(Label.project_id == project)).all()
    hours: Counter[Any] = Counter()
    hidden: Counter[Any] = Counter()
    rounds: Counter[Any] = Counter()
    answers: Counter[int] = Counter()
    last: dict[int, Any] = {}
    for worker_id, created_at, is_gold, mode in rows:
        hour = hour_of(created_at)
        hours[hour] += 1
        hidden[hour] += int(is_gold and mode == "work")
        rounds[hour] += int(mode != "work")
        answers[worker_id] += 1
        last[worker_id] = max(last.get(worker_id, created_at), created_at)
    return {"hours": {h: (hours[h], hidden[h], rounds[h]) for h in hours},
            "answers": dict(answers), "last": last, "total": len(rows)}


def _counted(app: Flask, project: int) -> dict[str, Any]:
    with app.app_context():
        hours = {row.hour: (row.labels, row.hidden_gold, row.rounds) for row in db.session.scalars(
            select(LabelHour).where(LabelHour.project_id == project))}
        workers = db.session.scalars(
            select(WorkerActivity).where(WorkerActivity.project_id == project)).all()
        return {"hours": hours, "answers": {w.worker_id: w.answers for w in workers},
                "last": {w.worker_id: w.last_active_at for w in workers}}


def _run_job(app: Flask) -> str:
    with app.app_context():
        return refresh_activity(db.session)


def _assert_counted_as_directly(app: Flask, project: int) -> None:
    direct, counted = _direct(app, project), _counted(app, project)
    assert counted["hours"] == direct["hours"]
    assert counted["answers"] == direct["answers"]
    assert counted["last"] == direct["last"]


def test_the_counters_equal_a_direct_count_run_after_run(app: Flask, manager: Api,
                                                         make_project, clock: Clock) -> None:
    project = make_project(n_items=40, n_gold=6, labels=("a", "b"), gold_rate=0.3,
                           redundancy=3, max_redundancy=3)["id"]
    workers = make_users(app, manager, "s1", "s2", "s3", "s4")
    _work(app, manager, project, workers, clock, rounds=5, step=900)
    assert "label(s) counted" in _run_job(app)
    _assert_counted_as_directly(app, project)
    assert len(_direct(app, project)["hours"]) > 1  # spread over several hours
    _work(app, manager, project, workers, clock, rounds=5, step=1300)
    _run_job(app)
    _assert_counted_as_directly(app, project)
    _run_job(app)  # nothing new: nothing counted twice
    _assert_counted_as_directly(app, project)


def test_a_label_that_appears_below_the_watermark_is_counted_once(
        app: Flask, manager: Api, make_project, clock: Clock) -> None:
    project = make_project(n_items=12, labels=("a", "b"), redundancy=2)["id"]
    workers = make_users(app, manager, "h1", "h2")
    _work(app, manager, project, workers, clock, rounds=3, step=60)
    with app.app_context():
        rows = db.session.execute(select(Label.__table__).where(Label.project_id == project)
                                  .order_by(Label.id)).mappings().all()
        late = dict(rows[-2])  # not the last: a slower transaction's, still uncommitted
        db.session.execute(delete(Label).where(Label.id == late["id"]))
        db.session.commit()
    _run_job(app)
    with app.app_context():
        mark = db.session.scalar(select(ActivityWatermark))
        assert mark.label_id == rows[-1]["id"] and str(late["id"]) in mark.holes
        db.session.execute(insert(Label.__table__).values(**late))
        db.session.commit()
    _run_job(app)
    _assert_counted_as_directly(app, project)
    with app.app_context():
        assert str(late["id"]) not in db.session.scalar(select(ActivityWatermark)).holes
    _run_job(app)
    _assert_counted_as_directly(app, project)


def test_a_hole_older_than_any_transaction_is_forgotten(app: Flask, manager: Api, make_project,
                                                        clock: Clock) -> None:
    project = make_project(n_items=6, labels=("a", "b"))["id"]
    _work(app, manager, project, make_users(app, manager, "o1"), clock, rounds=3, step=10)
    with app.app_context():
        old = (clock() - timedelta(seconds=10 * HOLE_SECONDS)).isoformat()
        db.session.add(ActivityWatermark(name=WATERMARK, label_id=0,
                                         holes={"999999": old}, updated_at=clock()))
        db.session.commit()
    _run_job(app)
    with app.app_context():
        assert "999999" not in db.session.scalar(select(ActivityWatermark)).holes


def test_the_pages_add_the_labels_since_the_last_run(app: Flask, manager: Api, make_project,
                                                     clock: Clock) -> None:
    project = make_project(n_items=30, n_gold=3, labels=("a", "b"), gold_rate=0.2,
                           redundancy=2)["id"]
    workers = make_users(app, manager, "t1", "t2", "t3")
    _work(app, manager, project, workers, clock, rounds=3, step=700)
    _run_job(app)
    _work(app, manager, project, workers, clock, rounds=3, step=700)
    direct = _direct(app, project)
    with app.app_context():
        recent = activity.tail(db.session, project)
        assert recent.complete and sum(recent.fold.answers.values()) > 0
        totals = activity.totals(db.session, project, recent)
        hours = activity.hour_counts(db.session, project, min(direct["hours"]), recent)
        board = dashboard.dashboard(db.session, project, clock())
    assert totals["labels"] == direct["total"]
    assert {h: tuple(c) for h, c in hours.items()} == direct["hours"]
    assert sum(n for _, n in board.per_hour) == direct["total"]
    assert board.labels["work"] == direct["total"] - sum(
        hidden + rounds for _, hidden, rounds in direct["hours"].values())


def test_the_backlog_is_what_the_open_items_still_want(app: Flask, manager: Api, make_project,
                                                       clock: Clock) -> None:
    project = make_project(n_items=10, labels=("a", "b"), redundancy=3, max_redundancy=3)["id"]
    _work(app, manager, project, make_users(app, manager, "b1", "b2"), clock, rounds=4,
          step=30)
    _run_job(app)
    with app.app_context():
        stored = db.session.get(ProjectBacklog, project)
        assert (stored.labels_needed, stored.open_items) == backlog.measure(db.session, project)
        assert stored.item_counts == backlog.item_counts(db.session, project)
        assert stored.labels_needed == 10 * 3 - 8 and stored.open_items == 10
        db.session.execute(update(ProjectBacklog).values(computed_at=clock() - timedelta(days=1)))
        db.session.commit()
        assert backlog.is_stale(db.session.get(ProjectBacklog, project), clock())


def _catch_up(app: Flask, clock: Clock) -> None:
    with app.app_context():
        activity.catch_up(db.session, clock())


def test_an_answer_that_may_still_be_undone_is_counted_only_once_it_stands(
        app: Flask, manager: Api, make_project, clock: Clock) -> None:
    project = make_project(n_items=6, labels=("a", "b"), allow_undo=True,
                           lease_seconds=600)["id"]
    (_, worker), = make_users(app, manager, "u1")
    for _ in range(2):
        offer = worker.post(f"/projects/{project}/next").get_json()
        assert worker.post(f"/assignments/{offer['assignment_id']}/answer",
                           {"label": "a"}).status_code == 200
        clock.advance(5)
    _catch_up(app, clock)
    direct = _direct(app, project)
    counted = _counted(app, project)
    assert sum(c[0] for c in counted["hours"].values()) == direct["total"] - 1  # the last
    with app.app_context():
        recent = activity.tail(db.session, project)
        assert activity.totals(db.session, project, recent)["labels"] == direct["total"]
    undone = worker.post(f"/assignments/{offer['assignment_id']}/undo")
    assert undone.status_code == 200, undone.get_json()
    _catch_up(app, clock)
    assert worker.post(f"/assignments/{offer['assignment_id']}/answer",
                       {"label": "b"}).status_code == 200
    _catch_up(app, clock)
    clock.advance(601)  # the lease is over: the answer stands
    _catch_up(app, clock)
    _assert_counted_as_directly(app, project)
    clock.advance(HOLE_SECONDS + 1)
    _catch_up(app, clock)
    _assert_counted_as_directly(app, project)
    with app.app_context():
        assert db.session.scalar(select(ActivityWatermark)).holes == {}
