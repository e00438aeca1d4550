"""Undo of an answer against what an adversary tries, on both databases: undo twice,
someone else's, after the lease, to see feedback (a round's, or a hidden-gold block's
on /me), to get a fresh lease, an earlier answer, where the project does not allow
it, after a sanction, suspended, removed; and undo then a different label, which is
what counts."""
from __future__ import annotations

from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Item, Label
from tests.integration.undo_support import (
    HIDDEN_GOLD_BLOCK,
    answer,
    database,
    is_gold,
    offer,
    refused,
    undo,
    undo_project,
)


def test_undo_twice_is_refused_and_changes_nothing(app, make_project, make_user,
                                                   manager) -> None:
    project = undo_project(make_project)
    worker = manager.as_(make_user("worker")[1])
    held = offer(worker, project["id"])
    answer(worker, held["assignment_id"])
    undo(worker, held["assignment_id"])
    before = database(app)
    assert "no answer to undo" in refused(worker, held["assignment_id"], 409, "undo_refused")
    assert database(app) == before


def test_someone_elses_or_an_unknown_assignment_is_404(app, make_project, make_user,
                                                       manager) -> None:
    project = undo_project(make_project)
    owner, thief = (manager.as_(make_user("worker")[1]) for _ in range(2))
    held = offer(owner, project["id"])
    answer(owner, held["assignment_id"])
    before = database(app)
    refused(thief, held["assignment_id"], 404, "not_found")
    refused(thief, held["assignment_id"] + 1000, 404, "not_found")
    assert database(app) == before


def test_after_the_lease_the_answer_stands(app, make_project, make_user, manager,
                                           clock) -> None:
    project = undo_project(make_project, lease_seconds=60)
    worker = manager.as_(make_user("worker")[1])
    held = offer(worker, project["id"])
    answer(worker, held["assignment_id"])
    clock.advance(60)
    before = database(app)
    assert "expired" in refused(worker, held["assignment_id"], 410, "lease_expired")
    assert database(app) == before


def test_undo_gives_no_fresh_lease(app, make_project, make_user, manager, clock) -> None:
    """The lease is the one `next` gave: undo does not move it, `next` offers the same
    one, and once it is over the answer again is 410 and stores nothing."""
    project = undo_project(make_project, lease_seconds=60)
    worker = manager.as_(make_user("worker")[1])
    held = offer(worker, project["id"])
    clock.advance(50)
    answer(worker, held["assignment_id"])
    assert undo(worker, held["assignment_id"])["expires_at"] == held["expires_at"]
    assert offer(worker, project["id"]) == held
    clock.advance(11)
    before = database(app)
    body = answer(worker, held["assignment_id"], "a", status=410)
    assert body["error"]["code"] == "lease_expired"
    assert database(app) == before


def test_no_undo_in_rounds_with_feedback(app, make_project, make_user, manager) -> None:
    """A qualification answer shows the right label: undoing it would let a worker try
    every label. Refused, with no feedback in the refusal."""
    project = undo_project(make_project, n_items=2, n_gold=6, qualification_size=4,
                           qualification_accuracy=0.5)
    worker = manager.as_(make_user("worker")[1])
    held = offer(worker, project["id"])
    assert held["mode"] == "qualification"
    assert "feedback" in answer(worker, held["assignment_id"], "b")
    before = database(app)
    body = undo(worker, held["assignment_id"], 409)
    assert body["error"]["code"] == "undo_refused" and "feedback" not in body
    assert "qualification" in body["error"]["message"]
    assert database(app) == before


def test_work_undo_answers_carry_no_feedback(app, make_project, make_user, manager) -> None:
    project = undo_project(make_project, n_items=2, n_gold=2, gold_rate=1.0)
    worker = manager.as_(make_user("worker")[1])
    held = offer(worker, project["id"])
    assert is_gold(app, held["assignment_id"]) and held["mode"] == "work"
    assert answer(worker, held["assignment_id"], "b") == {"accepted": True}
    assert set(undo(worker, held["assignment_id"])) == {"undone", "assignment_id",
                                                        "expires_at"}


def test_only_the_last_answer_and_only_where_the_project_allows(
    app, make_project, make_user, manager
) -> None:
    project = undo_project(make_project, allow_undo=False)
    pid = project["id"]
    worker = manager.as_(make_user("worker")[1])
    first = offer(worker, pid)
    answer(worker, first["assignment_id"])
    assert "does not let" in refused(worker, first["assignment_id"], 409, "undo_refused")
    assert manager.patch(f"/projects/{pid}", {"allow_undo": True}).status_code == 200
    # answered before undo was allowed: nothing was kept to put back
    assert "last answer" in refused(worker, first["assignment_id"], 409, "undo_refused")
    second = offer(worker, pid)
    answer(worker, second["assignment_id"])
    third = offer(worker, pid)
    answer(worker, third["assignment_id"])
    assert "last answer" in refused(worker, second["assignment_id"], 409, "undo_refused")
    undo(worker, third["assignment_id"])
    assert "last answer" in refused(worker, second["assignment_id"], 409, "undo_refused")
    unanswered = offer(worker, pid)
    assert unanswered["assignment_id"] == third["assignment_id"]


def test_a_sanction_the_answer_caused_stands(app, make_project, make_user, manager,
                                             clock) -> None:
    """An answer that fires the too-fast rule sends the worker to retraining: the
    sanction is not undone, so neither is the answer."""
    project = undo_project(make_project, n_items=3, n_gold=6, fast_answer_ms=1000,
                           fast_answer_count=1, fast_answer_window=1)
    worker = manager.as_(make_user("worker")[1])
    held = offer(worker, project["id"])
    clock.advance(1)  # the rule reads answers given after the worker became active
    response = worker.post(f"/assignments/{held['assignment_id']}/answer",
                           {"label": "a", "duration_ms": 5})
    assert response.status_code == 200
    before = database(app)
    assert "retraining" in refused(worker, held["assignment_id"], 409, "undo_refused")
    assert database(app) == before


def test_a_suspended_worker_gets_403_as_next_gives(app, make_project, make_user,
                                                   manager) -> None:
    project = undo_project(make_project)
    pid = project["id"]
    wid, token = make_user("worker")
    worker = manager.as_(token)
    held = offer(worker, pid)
    answer(worker, held["assignment_id"])
    assert manager.post(f"/projects/{pid}/workers/{wid}/state",
                        {"state": "suspended", "reason": "spam"}).status_code == 200
    refused(worker, held["assignment_id"], 403, "suspended")
    assert worker.post(f"/projects/{pid}/next").status_code == 403


def test_a_removed_member_cannot_undo(app, make_project, make_user, manager) -> None:
    """Removal released their leases; undo must not give one back (404: the project is
    out of their reach)."""
    project = undo_project(make_project)
    pid = project["id"]
    wid, token = make_user("worker")
    worker = manager.as_(token)
    held = offer(worker, pid)
    answer(worker, held["assignment_id"])
    assert manager.post(f"/projects/{pid}/members", {"user_id": wid}).status_code == 201
    assert manager.delete(f"/projects/{pid}/members/{wid}").status_code == 204
    before = database(app)
    refused(worker, held["assignment_id"], 404, "not_found")
    assert database(app) == before


def test_undo_then_a_different_label_is_what_counts(app, make_project, make_user,
                                                    manager) -> None:
    project = undo_project(make_project, n_items=2)
    worker = manager.as_(make_user("worker")[1])
    held = offer(worker, project["id"])
    answer(worker, held["assignment_id"], "a")
    undo(worker, held["assignment_id"])
    answer(worker, held["assignment_id"], "c")
    with app.app_context():
        labels = db.session.scalars(select(Label).where(
            Label.assignment_id == held["assignment_id"])).all()
        item = db.session.get_one(Item, labels[0].item_id)
        assert [label.label for label in labels] == ["c"]
        assert (item.status, item.result_label, item.n_labels) == ("complete", "c", 1)
        assert item.posterior is not None and item.posterior["c"] > 0.5


def test_a_block_completed_by_an_answer_shows_only_once_the_answer_stands(
    app, make_project, make_user, manager
) -> None:
    """/me shows hidden gold in blocks of ten; the answer that completes a block is
    left out while it may be undone (else undo and answer again would let a worker try
    labels on a known gold item), and /me counts gold and work answers alike."""
    project = undo_project(make_project, n_items=4, n_gold=HIDDEN_GOLD_BLOCK + 1,
                           gold_rate=1.0)
    pid = project["id"]
    worker = manager.as_(make_user("worker")[1])
    for n in range(1, HIDDEN_GOLD_BLOCK + 1):
        held = offer(worker, pid)
        assert is_gold(app, held["assignment_id"])
        answer(worker, held["assignment_id"], "a")
        me = worker.get(f"/projects/{pid}/me").get_json()
        assert me["labels"] == n
        assert me["gold_seen"] == 0, "the block shows only once its last answer stands"
    undo(worker, held["assignment_id"])
    answer(worker, held["assignment_id"], "b")
    assert worker.get(f"/projects/{pid}/me").get_json()["gold_seen"] == 0
    answer(worker, offer(worker, pid)["assignment_id"], "a")
    me = worker.get(f"/projects/{pid}/me").get_json()
    assert (me["gold_seen"], me["gold_correct"]) == (HIDDEN_GOLD_BLOCK, HIDDEN_GOLD_BLOCK - 1)
