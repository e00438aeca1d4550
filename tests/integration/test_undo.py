"""Undo of a worker's last answer, on both databases: exactly reversible (answer then
undo leaves every table as before; answer, undo and the same answer again leave it as
one answer), hidden gold and work undone by the same statements with the same answers
and refusals, and what undo and its snapshot cost. What an adversary might try is in
test_undo_adversary.py."""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Assignment, Item, WorkerStanding
from tests.integration.test_statement_counts import _recording
from tests.integration.undo_support import (
    LABELS,
    answer,
    database,
    is_gold,
    offer,
    undo,
    undo_project,
    without_last_answer,
)


# --- exactly reversible ------------------------------------------------------------------

@st.composite
def scenes(draw: st.DrawFn) -> dict[str, Any]:
    redundancy = draw(st.integers(1, 3))
    return {
        "redundancy": redundancy,
        "max_redundancy": redundancy + draw(st.integers(0, 2)),
        "confidence_threshold": draw(st.sampled_from([0.5, 0.9, 0.99])),
        "gold_rate": draw(st.sampled_from([0.0, 0.5, 1.0, 1.0])),
        "others": draw(st.lists(st.lists(st.sampled_from(LABELS), max_size=4), max_size=3)),
        "mine": draw(st.lists(st.sampled_from(LABELS), max_size=4)),
        "label": draw(st.sampled_from(LABELS)),
    }


@given(scene=scenes())
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_answer_then_undo_is_as_before_and_answering_again_is_one_answer(
    scene: dict[str, Any], app, make_project, make_user, manager
) -> None:
    """Whatever came before (other workers' labels, the worker's own earlier answers,
    gold or work, items completed, widened or sent to review), an answer and its undo
    leave every table as it was, the undo snapshot aside (nothing is left to undo), and
    the same answer again leaves every table as the single answer did."""
    project = undo_project(
        make_project, n_items=6, n_gold=8, redundancy=scene["redundancy"],
        max_redundancy=scene["max_redundancy"], gold_rate=scene["gold_rate"],
        confidence_threshold=scene["confidence_threshold"])
    pid = project["id"]
    for labels in scene["others"]:
        other = manager.as_(make_user("worker")[1])
        for label in labels:
            response = other.post(f"/projects/{pid}/next")
            if response.status_code == 204:
                break
            answer(other, response.get_json()["assignment_id"], label)
    wid, token = make_user("worker")
    worker = manager.as_(token)
    for label in scene["mine"]:
        response = worker.post(f"/projects/{pid}/next")
        if response.status_code != 200:
            break
        answer(worker, response.get_json()["assignment_id"], label)
    response = worker.post(f"/projects/{pid}/next")
    if response.status_code != 200:
        event("nothing left to answer")
        return
    held = response.get_json()
    before = database(app)
    answer(worker, held["assignment_id"], scene["label"])
    once = database(app)
    event("hidden gold" if is_gold(app, held["assignment_id"]) else "work item")
    if held["mode"] != "work" or state_of(app, wid) != "active":
        event("refused: a round or a sanction")
        # A round with feedback, or an answer that drew a sanction: it stands.
        refusal = worker.post(f"/assignments/{held['assignment_id']}/undo")
        assert (refusal.status_code, refusal.get_json()["error"]["code"]) in (
            (409, "undo_refused"), (403, "suspended")), refusal.get_json()
        assert database(app) == once
        return
    undone = undo(worker, held["assignment_id"])
    assert undone == {"undone": True, "assignment_id": held["assignment_id"],
                      "expires_at": held["expires_at"]}
    after_undo = database(app)
    assert without_last_answer(after_undo) == without_last_answer(before)
    assert [row["last_answer"] for row in after_undo["worker_standings"]
            if row["worker_id"] == wid] == [None]
    answer(worker, held["assignment_id"], scene["label"])
    assert database(app) == once


def state_of(app: Any, worker_id: int) -> str:
    with app.app_context():
        return db.session.scalars(select(WorkerStanding.state).where(
            WorkerStanding.worker_id == worker_id)).one()


def test_a_first_answer_undone_leaves_the_database_exactly_as_before(
    app, make_project, make_user, manager
) -> None:
    for n_gold, gold_rate in ((0, 0.0), (3, 1.0)):
        project = undo_project(make_project, n_items=3, n_gold=n_gold, gold_rate=gold_rate)
        worker = manager.as_(make_user("worker")[1])
        held = offer(worker, project["id"])
        assert is_gold(app, held["assignment_id"]) is bool(n_gold)
        before = database(app)
        answer(worker, held["assignment_id"], "b")
        assert database(app) != before
        undo(worker, held["assignment_id"])
        assert database(app) == before


def test_undo_puts_back_the_gold_record_cusum_and_fraud_summary(
    app, make_project, make_user, manager
) -> None:
    """A wrong hidden-gold answer moves the gold counters and the CUSUM; undo puts them
    back, and a right answer instead counts as right."""
    project = undo_project(make_project, n_items=3, n_gold=3, gold_rate=1.0)
    wid, token = make_user("worker")
    worker = manager.as_(token)
    first = offer(worker, project["id"])
    answer(worker, first["assignment_id"], "a")  # gold labels are "a": right
    held = offer(worker, project["id"])
    assert is_gold(app, held["assignment_id"])

    def standing() -> tuple[Any, ...]:
        with app.app_context():
            row = db.session.scalars(select(WorkerStanding).where(
                WorkerStanding.worker_id == wid)).one()
            return (row.gold_seen, row.gold_correct, row.hidden_gold_seen,
                    row.hidden_gold_correct, row.gold_cusum, row.gold_cusum_zero_at,
                    row.recent_answers, row.work_labels)

    before = standing()
    answer(worker, held["assignment_id"], "c")
    wrong = standing()
    assert wrong[0] == before[0] + 1 and wrong[1] == before[1] and wrong[4] > before[4]
    undo(worker, held["assignment_id"])
    assert standing() == before
    answer(worker, held["assignment_id"], "a")
    right = standing()
    assert right[:4] == (before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1)


def test_an_item_another_worker_labelled_since_is_reopened_and_settled_again(
    app, make_project, make_user, manager
) -> None:
    """Two workers hold the same item; one answers, the other answers and completes it,
    then the first undoes: the item is open again on the other's label alone (with the
    first's lease still holding its slot), and the first's new answer completes it."""
    project = undo_project(make_project, n_items=1, redundancy=2, max_redundancy=2)
    pid = project["id"]
    first, second = (manager.as_(make_user("worker")[1]) for _ in range(2))
    mine, theirs = offer(first, pid), offer(second, pid)
    answer(first, mine["assignment_id"], "a")
    answer(second, theirs["assignment_id"], "a")
    with app.app_context():
        item_id = db.session.get_one(Assignment, mine["assignment_id"]).item_id
        assert db.session.get_one(Item, item_id).status == "complete"
    undo(first, mine["assignment_id"])
    with app.app_context():
        item = db.session.get_one(Item, item_id)
        assert (item.status, item.n_labels, item.result_label) == ("open", 1, "a")
    third = manager.as_(make_user("worker")[1])
    assert third.post(f"/projects/{pid}/next").status_code == 204  # the slot is still held
    answer(first, mine["assignment_id"], "a")
    with app.app_context():
        item = db.session.get_one(Item, item_id)
        assert (item.status, item.n_labels) == ("complete", 2)


# --- hidden gold stays hidden ------------------------------------------------------------

def test_gold_and_work_are_undone_by_the_same_statements_with_the_same_answer(
    app, make_project, make_user, manager
) -> None:
    """The statements of an undo (whole text, parameters aside) and the shape of its
    answer are one and the same for hidden gold and work; so are a refusal's."""
    project = undo_project(make_project, n_items=12, n_gold=12, gold_rate=0.5,
                           redundancy=2, max_redundancy=3, confidence_threshold=0.9)
    pid = project["id"]
    worker = manager.as_(make_user("worker")[1])
    answer(worker, offer(worker, pid)["assignment_id"])  # the standing and its caches
    undone: dict[bool, set[tuple[str, ...]]] = {True: set(), False: set()}
    shapes: dict[bool, set[tuple[Any, ...]]] = {True: set(), False: set()}
    twice: dict[bool, set[tuple[Any, ...]]] = {True: set(), False: set()}
    for round_ in range(16):
        held = offer(worker, pid)
        gold = is_gold(app, held["assignment_id"])
        answer(worker, held["assignment_id"], LABELS[round_ % 3])
        with _recording(app) as statements:
            response = worker.post(f"/assignments/{held['assignment_id']}/undo")
        assert response.status_code == 200, response.get_json()
        undone[gold].add(tuple(statements))
        body = response.get_json()
        shapes[gold].add(tuple(sorted((k, type(v).__name__) for k, v in body.items())))
        with _recording(app) as statements:
            again = worker.post(f"/assignments/{held['assignment_id']}/undo")
        twice[gold].add((again.status_code, again.get_json()["error"]["message"],
                         len(statements)))
        answer(worker, held["assignment_id"], LABELS[round_ % 3])
    assert undone[True] and undone[False], "both kinds were undone"
    assert undone[True] == undone[False] and len(undone[True]) == 1, undone
    assert shapes[True] == shapes[False] and len(shapes[True]) == 1
    assert twice[True] == twice[False] and len(twice[True]) == 1


def test_refusals_do_not_depend_on_gold(app, make_project, make_user, manager, clock) -> None:
    """After the lease, for an earlier answer, after a manager's decision: the same
    status and message whether the item was gold or not."""
    seen: dict[str, dict[bool, set[tuple[int, str]]]] = {}

    def record(case: str, gold: bool, worker: Any, assignment_id: int) -> None:
        response = worker.post(f"/assignments/{assignment_id}/undo")
        seen.setdefault(case, {True: set(), False: set()})[gold].add(
            (response.status_code, response.get_json()["error"]["message"]))

    for n_gold, gold_rate in ((0, 0.0), (4, 1.0)):
        gold = bool(n_gold)
        project = undo_project(make_project, n_items=4, n_gold=n_gold, gold_rate=gold_rate,
                               lease_seconds=60)
        pid = project["id"]
        wid, token = make_user("worker")
        worker = manager.as_(token)
        early = offer(worker, pid)
        answer(worker, early["assignment_id"])
        late = offer(worker, pid)
        answer(worker, late["assignment_id"])
        assert is_gold(app, early["assignment_id"]) is is_gold(app, late["assignment_id"]) \
            is gold
        record("earlier answer", gold, worker, early["assignment_id"])
        changed = manager.post(f"/projects/{pid}/workers/{wid}/state",
                               {"state": "active", "reason": "checked by hand"})
        assert changed.status_code == 200, changed.get_json()
        record("a manager's decision since", gold, worker, late["assignment_id"])
        expiring = offer(worker, pid)
        answer(worker, expiring["assignment_id"])
        clock.advance(61)
        record("after the lease", gold, worker, expiring["assignment_id"])
    for case, by_kind in seen.items():
        assert by_kind[True] == by_kind[False] and len(by_kind[True]) == 1, (case, by_kind)


# --- what it costs ---------------------------------------------------------------------

def test_undo_costs_a_few_statements_whatever_the_project_size(
    app, make_project, make_user, manager
) -> None:
    costs = []
    for n_items in (5, 500):
        project = undo_project(make_project, n_items=n_items)
        worker = manager.as_(make_user("worker")[1])
        answer(worker, offer(worker, project["id"])["assignment_id"])
        held = offer(worker, project["id"])
        answer(worker, held["assignment_id"])
        with _recording(app) as statements:
            undo(worker, held["assignment_id"])
        costs.append([s for s in statements if not s.startswith("BEGIN")])
    assert len(costs[0]) == len(costs[1]) <= 8, costs



def test_keeping_the_snapshot_costs_an_answer_no_statement(
    app, make_project, make_user, manager
) -> None:
    """The snapshot rides in the UPDATE of the standing the answer sends anyway: an
    answer costs the same statements where undo is allowed and where it is not, for a
    work item and for hidden gold."""
    costs: dict[tuple[bool, bool], list[int]] = {}
    for allow in (False, True):
        for n_gold, gold_rate in ((0, 0.0), (6, 1.0)):
            project = undo_project(make_project, n_items=6, n_gold=n_gold,
                                   gold_rate=gold_rate, allow_undo=allow)
            worker = manager.as_(make_user("worker")[1])
            counts = []
            for _ in range(3):
                held = offer(worker, project["id"])
                with _recording(app) as statements:
                    answer(worker, held["assignment_id"], "b")
                counts.append(len(statements))
            costs[(allow, bool(n_gold))] = counts
    assert costs[(True, False)] == costs[(False, False)], costs
    assert costs[(True, True)] == costs[(False, True)], costs
