"""`next` and `answer` cost a small, constant number of SQL statements, whatever the
project's size."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from tests.support import HUMAN_DURATION_MS

# Every statement of the request (the bearer-token lookup is answered from the
# process's token cache here: tests/integration/test_token_cache.py).
MAX_STATEMENTS = 15
# A worker's usual next (a fresh work item) and answer (a work label, no rule firing),
# and their repeats (a held lease offered again, an answer sent twice).
COMMON_BUDGET = {"next": 5, "answer 2": 8, "held next": 3, "answer again": 3}


@contextmanager
def _recording(app: Any) -> Iterator[list[str]]:
    engine = app.extensions["crowd_db"].engine
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _loop_costs(app: Any, worker: Any, project_id: int) -> dict[str, list[str]]:
    """The statements of a worker's first and second `next`, a repeated `next`, and two answers."""
    costs: dict[str, list[str]] = {}

    def step(name: str, call: Callable[[], Any], status: int = 200) -> Any:
        with _recording(app) as statements:
            response = call()
        assert response.status_code == status, response.get_json()
        costs[name] = statements
        return response.get_json()

    first = step("first next", lambda: worker.post(f"/projects/{project_id}/next"))
    step("held next", lambda: worker.post(f"/projects/{project_id}/next"))
    step("answer", lambda: worker.post(f"/assignments/{first['assignment_id']}/answer",
                                       {"label": "a"}))
    step("answer again", lambda: worker.post(f"/assignments/{first['assignment_id']}/answer",
                                             {"label": "a"}))
    second = step("next", lambda: worker.post(f"/projects/{project_id}/next"))
    step("answer 2", lambda: worker.post(f"/assignments/{second['assignment_id']}/answer",
                                         {"label": "b"}))
    return costs


def _warm_up(make_project: Any, worker: Any) -> None:
    """Run the loop once so first-use work (compiling and caching statements) is out of the way."""
    project = make_project(n_items=2)
    offer = worker.post(f"/projects/{project['id']}/next").get_json()
    worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})


def _with_history(make_user: Any, manager: Any, project_id: int, n_workers: int) -> None:
    """Other workers label the project first, so the big one has assignments and labels too."""
    for _ in range(n_workers):
        other = manager.as_(make_user("worker")[1])
        for _ in range(2):
            offer = other.post(f"/projects/{project_id}/next").get_json()
            other.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "c"})


def test_next_and_answer_issue_the_same_few_statements_for_20_or_2000_items(
    app, make_project, make_user, manager
):
    worker = manager.as_(make_user("worker")[1])
    _warm_up(make_project, worker)
    small = make_project(n_items=20, redundancy=3)
    big = make_project(n_items=2000, redundancy=3)
    _with_history(make_user, manager, small["id"], 2)
    _with_history(make_user, manager, big["id"], 2)

    small_costs = _loop_costs(app, worker, small["id"])
    big_costs = _loop_costs(app, worker, big["id"])
    for name, statements in small_costs.items():
        print(f"{name}: {len(statements)} statements")
        for statement in statements:
            print("   ", statement[:150])
    assert {k: len(v) for k, v in small_costs.items()} == {k: len(v) for k, v in big_costs.items()}
    for name, statements in big_costs.items():
        assert 0 < len(statements) <= MAX_STATEMENTS, (name, statements)
    # The common case, counted without SQLite's BEGIN IMMEDIATE: the budgets of
    # benchmarks/load.py's loop (the worker's standing and token already known).
    common = {name: len([s for s in big_costs[name] if not s.startswith("BEGIN")])
              for name in COMMON_BUDGET}
    assert all(common[name] <= budget for name, budget in COMMON_BUDGET.items()), common


def _is_gold_pick(statement: str) -> bool:
    return statement.startswith("SELECT items.") and "ORDER BY items.shuffle_key" in statement


def test_gold_next_and_answer_statement_counts_do_not_grow_with_the_gold_pool(
    app, make_project, make_user, manager
):
    worker = manager.as_(make_user("worker")[1])
    _warm_up(make_project, worker)
    # gold_rate 1: every `next` of an active worker tries hidden gold first.
    small = make_project(n_items=5, n_gold=5, gold_rate=1.0)
    big = make_project(n_items=5, n_gold=2000, gold_rate=1.0)
    small_costs = _loop_costs(app, worker, small["id"])
    big_costs = _loop_costs(app, worker, big["id"])
    # The gold pick walks the shuffle ring from a random point: one query, or a
    # second one when it wraps around past the end. That depends on the random
    # start, not on the pool's size, so the two are counted apart.
    for costs in (small_costs, big_costs):
        for name in ("first next", "next"):
            picks = [s for s in costs[name] if _is_gold_pick(s)]
            assert 1 <= len(picks) <= 2, (name, costs[name])
            costs[name] = [s for s in costs[name] if not _is_gold_pick(s)]
    assert {k: len(v) for k, v in small_costs.items()} == {k: len(v) for k, v in big_costs.items()}
    for name, statements in big_costs.items():
        assert 0 < len(statements) + 2 <= MAX_STATEMENTS, (name, statements)


def _gold_and_work(make_project: Any, make_user: Any, manager: Any,
                   n: int) -> tuple[Any, dict[str, Any]]:
    """A warmed-up worker with a standing in a project of ``n`` work and ``n`` gold
    items at gold_rate 0.5, some work items already started by two others."""
    worker = manager.as_(make_user("worker")[1])
    _warm_up(make_project, worker)
    project = make_project(n_items=n, n_gold=n, gold_rate=0.5, redundancy=2)
    _with_history(make_user, manager, project["id"], 2)
    first = worker.post(f"/projects/{project['id']}/next").get_json()  # makes the standing
    worker.post(f"/assignments/{first['assignment_id']}/answer", {"label": "a"})
    return worker, project


def test_a_hidden_gold_offer_costs_the_same_statements_as_a_work_offer(
    app, make_project, make_user, manager
):
    """A worker timing `next` learns nothing: hidden gold and work run the same
    number and kinds of statements (started work items and fresh ones alike)."""
    from crowd.extensions import db
    from crowd.persistence import Assignment

    worker, project = _gold_and_work(make_project, make_user, manager, 30)
    shapes: dict[bool, set[tuple[str, ...]]] = {True: set(), False: set()}
    for _ in range(24):
        with _recording(app) as statements:
            response = worker.post(f"/projects/{project['id']}/next")
        assert response.status_code == 200, response.get_json()
        offer = response.get_json()
        with app.app_context():
            is_gold = db.session.get(Assignment, offer["assignment_id"]).is_gold
        shapes[is_gold].add(tuple(s.split()[0] for s in statements))
        worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
    print({kind: sorted(shape) for kind, shape in shapes.items()})
    assert shapes[True] and shapes[False]
    assert shapes[True] == shapes[False] and len(shapes[True]) == 1, shapes


def test_a_hidden_gold_answer_costs_the_same_statements_as_a_work_answer(
    app, make_project, make_user, manager
):
    """A worker timing `answer` learns nothing afterwards either: answering hidden
    gold and answering work run the same number and kinds of statements."""
    from crowd.extensions import db
    from crowd.persistence import Assignment, WorkerStanding
    from crowd.services.drift import AGREEMENT_EVERY

    worker, project = _gold_and_work(make_project, make_user, manager, 40)
    shapes: dict[tuple[bool, bool], set[tuple[str, ...]]] = defaultdict(set)
    for n in range(28):
        offer = worker.post(f"/projects/{project['id']}/next").get_json()
        with app.app_context():
            lease = db.session.get(Assignment, offer["assignment_id"])
            is_gold = lease.is_gold
            standing = db.session.scalars(select(WorkerStanding).where(
                WorkerStanding.project_id == project["id"],
                WorkerStanding.worker_id == lease.worker_id)).one()
            # Every AGREEMENT_EVERY-th work-mode answer (gold or work alike) also
            # runs the agreement check: those are compared among themselves.
            checked = not (standing.hidden_gold_seen + standing.work_labels + 1) % AGREEMENT_EVERY
        with _recording(app) as statements:
            # Gold answered right, work in turn, at a human pace: no rule may fire.
            response = worker.post(f"/assignments/{offer['assignment_id']}/answer",
                                   {"label": "a" if is_gold else "abc"[n % 3],
                                    "duration_ms": HUMAN_DURATION_MS[0] + 100 * n})
        assert response.status_code == 200, response.get_json()
        shapes[is_gold, checked].add(tuple(s.split()[0] + " " + s.split()[1] if s.startswith("UPDATE")
                                  else s.split()[0] for s in statements))
    print(dict(shapes))
    assert shapes[True, False] and shapes[False, False]
    assert shapes[True, False] == shapes[False, False] and len(shapes[True, False]) == 1, shapes
    if shapes[True, True] and shapes[False, True]:
        assert shapes[True, True] == shapes[False, True], shapes
