"""Aggregation: Dawid-Skene runs over a project and what they change; completion per answer."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from crowd.domain.aggregation import dawid_skene
from crowd.extensions import db
from crowd.persistence import AggregationRun, Item, WorkerStanding
from crowd.services import aggregation_runs
from tests.support import item_names, make_users, results_by_name, work_through


def _workers(app: Any, manager: Any, n: int, prefix: str = "agg") -> list[tuple[int, Any]]:
    """(id, client) of ``n`` workers, ``<prefix>0`` on."""
    return make_users(app, manager, *(f"{prefix}{i}" for i in range(n)))


def _import(manager: Any, project_id: int, items: list[dict[str, Any]]) -> None:
    response = manager.post(f"/projects/{project_id}/items", items)
    assert response.status_code == 201, response.get_json()


def _project(manager: Any, labels: list[str], **settings: Any) -> int:
    body = {"name": "aggregation", "labels": labels, "qualification_size": 0, "gold_rate": 0.0,
            **settings}
    response = manager.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _agreeing_two_class_project(app: Any, manager: Any) -> tuple[int, list[tuple[int, Any]]]:
    """Two classes, three newcomers who agree on all eight items.

    Per answer a newcomer counts as 70% accurate (the Beta(3.5, 1.5) prior), so
    three agreeing labels give 0.7^3 / (0.7^3 + 0.3^3) = 0.343 / 0.370 = 0.927,
    short of 0.95: every item asks for a fourth worker, and there is none.
    """
    pid = _project(manager, ["a", "b"], redundancy=3, max_redundancy=5,
                   confidence_threshold=0.95)
    _import(manager, pid, [{"external_id": f"w{i}", "data": {"i": i}} for i in range(8)])
    names = item_names(app, pid)
    workers = _workers(app, manager, 3)
    truth = {f"w{i}": "a" if i < 4 else "b" for i in range(8)}
    for _, worker in workers:
        assert sorted(work_through(worker, pid, names, truth.__getitem__)) == sorted(truth)
    return pid, workers


def test_aggregate_returns_items_iterations_converged_and_records_the_run(app, manager):
    pid, workers = _agreeing_two_class_project(app, manager)

    response = manager.post(f"/projects/{pid}/aggregate")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {"items", "iterations", "converged"} <= set(body)
    assert body["items"] == 8 and body["converged"] is True and body["iterations"] >= 1

    with app.app_context():
        runs = db.session.scalars(
            select(AggregationRun).where(AggregationRun.project_id == pid)).all()
        assert len(runs) == 1
        run = runs[0]
        assert run.method == "ds" and run.trigger == "api"
        assert run.settings == {"tol": aggregation_runs.TOLERANCE,
                                "max_iter": aggregation_runs.MAX_ITER, "smoothing": "default"}
        assert run.iterations == body["iterations"] and run.converged is True
        assert (run.items, run.workers, run.labels) == (8, 3, 24)
        assert run.duration_ms >= 0 and run.created_at is not None
        assert set(run.priors) == {"a", "b"}
        assert run.changes["completed"] == 8

    table = manager.get(f"/projects/{pid}/workers").get_json()["workers"]
    assert {row["worker"] for row in table} == {wid for wid, _ in workers}
    for row in table:
        # Three workers always agreeing look reliable; smoothing keeps it below 1.
        assert 0.8 < row["estimated_accuracy"] < 1.0


def test_confident_items_complete_after_the_run_with_posteriors_in_the_results(app, manager):
    pid, _ = _agreeing_two_class_project(app, manager)
    before = results_by_name(manager, pid)
    assert {row["status"] for row in before.values()} == {"open"}
    assert {row["n_labels"] for row in before.values()} == {3}
    assert all(row["confidence"] == pytest.approx(0.343 / 0.370, abs=1e-3)
               for row in before.values())

    changes = manager.post(f"/projects/{pid}/aggregate").get_json()["changes"]
    assert changes["completed"] == 8

    after = results_by_name(manager, pid)
    for name, row in after.items():
        expected = "a" if int(name[1:]) < 4 else "b"
        assert row["status"] == "complete" and row["label"] == expected
        assert row["source"] == "crowd"
        assert row["confidence"] >= 0.95
        assert set(row["posterior"]) == {"a", "b"}
        assert sum(row["posterior"].values()) == pytest.approx(1.0, abs=1e-5)
        assert row["posterior"][expected] == row["confidence"]
    # A fifth worker finds nothing: the items need no more labels.
    (_, late), = _workers(app, manager, 1, prefix="late")
    assert late.post(f"/projects/{pid}/next").status_code == 204


def test_gold_items_are_clamped_to_their_gold_label(app, manager):
    # Two classes; gold g0 (a) and g1 (b) answered right by everyone, g2 whose
    # gold label is a answered b by everyone. Clamped, g2 says every worker
    # once gave b for a true a; left free, the model would call g2 a b.
    pid = _project(manager, ["a", "b"], redundancy=3, max_redundancy=5, gold_rate=1.0)
    work = [{"external_id": f"w{i}", "data": {"i": i}} for i in range(8)]
    gold = [{"external_id": f"g{i}", "data": {"g": i}, "gold_label": label}
            for i, label in enumerate(["a", "b", "a"])]
    _import(manager, pid, work + gold)
    names = item_names(app, pid)
    answers = {**{f"w{i}": "a" if i < 4 else "b" for i in range(8)},
               "g0": "a", "g1": "b", "g2": "b"}
    workers = _workers(app, manager, 3)
    for _, worker in workers:
        done = work_through(worker, pid, names, answers.__getitem__)
        assert done[:3] and set(done[:3]) == {"g0", "g1", "g2"}  # gold first at rate 1.0

    assert manager.post(f"/projects/{pid}/aggregate").status_code == 200

    # The same model, fitted here on the same labels with and without the clamp.
    order = [f"w{i}" for i in range(8)] + ["g0", "g1", "g2"]
    items = np.repeat(np.arange(len(order)), 3)
    who = np.tile(np.arange(3), len(order))
    given = np.array([0 if answers[name] == "a" else 1 for name in order for _ in range(3)])
    fits = {
        clamp: dawid_skene(items, who, given, len(order), 3, 2,
                           known=np.array([-1] * 8 + [0, 1, 0]) if clamp else None,
                           tol=aggregation_runs.TOLERANCE, max_iter=aggregation_runs.MAX_ITER)
        for clamp in (True, False)
    }
    clamped, free = fits[True].confusions[0], fits[False].confusions[0]
    assert clamped[0, 1] > free[0, 1] + 0.05  # the clamp makes a-read-as-b a real error

    with app.app_context():
        standings = db.session.scalars(
            select(WorkerStanding).where(WorkerStanding.project_id == pid)).all()
        assert len(standings) == 3
        for standing in standings:
            assert standing.confusion is not None
            assert standing.confusion["a"]["b"] == pytest.approx(clamped[0, 1], abs=1e-5)
            assert standing.confusion["b"]["a"] == pytest.approx(clamped[1, 0], abs=1e-5)


def _completed_with_disagreement(app: Any, manager: Any, max_redundancy: int) -> int:
    """Three classes, three newcomers: fifteen items they agree on, three split 2 to 1.

    With a 0.75 threshold every item completes as it fills: a 2-to-1 split of
    70%-accurate newcomers (the rest spread 15%/15%) gives
    0.7*0.7*0.15 / (0.7*0.7*0.15 + 0.15*0.15*0.7 + 0.15^3)
    = 0.0735 / 0.092625 = 0.794.
    """
    pid = _project(manager, ["a", "b", "c"], redundancy=3, max_redundancy=max_redundancy,
                   confidence_threshold=0.75)
    agreed = ["a", "b", "c"] * 5
    splits = [("a", "a", "b"), ("b", "a", "a"), ("a", "b", "a")]
    _import(manager, pid, [{"external_id": f"w{i}", "data": {"i": i}} for i in range(15)]
            + [{"external_id": f"s{i}", "data": {"s": i}} for i in range(3)])
    names = item_names(app, pid)
    for k, (_, worker) in enumerate(_workers(app, manager, 3)):
        def choose(name: str, k: int = k) -> str:
            return agreed[int(name[1:])] if name[0] == "w" else splits[int(name[1:])][k]
        work_through(worker, pid, names, choose)
    results = results_by_name(manager, pid)
    assert {row["status"] for row in results.values()} == {"complete"}
    for i in range(3):
        assert results[f"s{i}"]["confidence"] == pytest.approx(0.0735 / 0.092625, abs=1e-4)
    return pid


def test_an_unconfident_complete_item_reopens_after_the_run(app, manager):
    pid = _completed_with_disagreement(app, manager, max_redundancy=5)
    # The model puts the splits near 0.88 (each worker dissents once in eighteen)
    # and the agreed items at 0.97 or more: asking for 0.95 now leaves only the
    # splits unconfident.
    assert manager.patch(f"/projects/{pid}", {"confidence_threshold": 0.95}).status_code == 200
    changes = manager.post(f"/projects/{pid}/aggregate").get_json()["changes"]
    assert changes["reopened"] == 3 and changes["to_review"] == 0

    results = results_by_name(manager, pid)
    for i in range(3):
        row = results[f"s{i}"]
        assert row["status"] == "open" and row["confidence"] < 0.95
        assert row["label"] == "a"
    assert all(results[f"w{i}"]["status"] == "complete" for i in range(15))
    # A fourth worker is now asked for exactly the reopened items.
    (_, fourth), = _workers(app, manager, 1, prefix="fourth")
    taken = work_through(fourth, pid, item_names(app, pid), lambda name: "a")
    assert sorted(taken) == ["s0", "s1", "s2"]


def test_an_unconfident_complete_item_at_max_redundancy_goes_to_review(app, manager):
    pid = _completed_with_disagreement(app, manager, max_redundancy=3)
    assert manager.patch(f"/projects/{pid}", {"confidence_threshold": 0.95}).status_code == 200
    changes = manager.post(f"/projects/{pid}/aggregate").get_json()["changes"]
    assert changes["to_review"] == 3 and changes["reopened"] == 0

    results = results_by_name(manager, pid)
    assert {results[f"s{i}"]["status"] for i in range(3)} == {"in_review"}
    with app.app_context():
        reasons = set(db.session.scalars(
            select(Item.review_reason).where(Item.project_id == pid, Item.status == "in_review")))
    assert reasons == {"disagreement"}


# -- completion decided after each answer ------------------------------------


def test_item_completes_when_confident_asks_for_more_then_goes_to_review(app, manager):
    # Three classes; newcomers count as 70% right, 15% for each wrong class.
    pid = _project(manager, ["a", "b", "c"], redundancy=3, max_redundancy=5,
                   confidence_threshold=0.95)
    _import(manager, pid, [{"external_id": n, "data": {"n": n}} for n in ("i0", "i1", "i2")])
    names = item_names(app, pid)
    plan = {"i0": "aaa", "i1": "aabaa", "i2": "abcab"}
    workers = _workers(app, manager, 6)
    taken: dict[str, int] = {n: 0 for n in plan}

    def choose(name: str) -> str:
        label = plan[name][taken[name]]
        taken[name] += 1
        return label

    def states() -> dict[str, tuple[str, int, float]]:
        rows = results_by_name(manager, pid)
        return {n: (r["status"], r["n_labels"], r["confidence"]) for n, r in rows.items()}

    for _, worker in workers[:3]:
        work_through(worker, pid, names, choose)
    after3 = states()
    # i0 a,a,a: 0.343 / (0.343 + 2 * 0.15^3) = 0.343 / 0.34975 = 0.9807 -> complete.
    assert after3["i0"][:2] == ("complete", 3)
    assert after3["i0"][2] == pytest.approx(0.343 / 0.34975, abs=1e-4)
    # i1 a,a,b: 0.0735 / 0.092625 = 0.794 -> one more worker.
    assert after3["i1"][:2] == ("open", 3)
    assert after3["i1"][2] == pytest.approx(0.0735 / 0.092625, abs=1e-4)
    # i2 a,b,c: all equal -> one more worker.
    assert after3["i2"][:2] == ("open", 3)
    assert after3["i2"][2] == pytest.approx(1 / 3, abs=1e-4)

    assert sorted(work_through(workers[3][1], pid, names, choose)) == ["i1", "i2"]
    after4 = states()
    # i1 a,a,b,a: 0.7^3*0.15 = 0.05145 against 0.15^3*0.7 = 0.0023625 and
    # 0.15^4 = 0.00050625: 0.05145 / 0.05431875 = 0.9472, still short -> a fifth.
    assert after4["i1"][:2] == ("open", 4)
    assert after4["i1"][2] == pytest.approx(0.05145 / 0.05431875, abs=1e-4)
    assert after4["i2"][:2] == ("open", 4)

    assert sorted(work_through(workers[4][1], pid, names, choose)) == ["i1", "i2"]
    after5 = states()
    # i1 a,a,b,a,a: 0.7^4*0.15 = 0.036015 against 0.15^4*0.7 = 0.000354375 and
    # 0.15^5 = 0.0000759375: 0.036015 / 0.03644531 = 0.9882 -> complete.
    assert after5["i1"][:2] == ("complete", 5)
    assert after5["i1"][2] == pytest.approx(0.036015 / 0.0364453125, abs=1e-4)
    # i2 a,b,c,a,b: still split at max_redundancy -> an expert.
    assert after5["i2"][:2] == ("in_review", 5)
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.project_id == pid,
                                                    Item.external_id == "i2"))
        assert item.review_reason == "disagreement"
    # Nothing is left for a sixth worker.
    assert workers[5][1].post(f"/projects/{pid}/next").status_code == 204


def test_review_rate_one_sends_every_completed_item_to_random_qa(app, manager):
    pid = _project(manager, ["a", "b", "c"], redundancy=3, max_redundancy=5,
                   confidence_threshold=0.95, review_rate=1.0)
    _import(manager, pid, [{"external_id": f"w{i}", "data": {"i": i}} for i in range(4)])
    names = item_names(app, pid)
    for _, worker in _workers(app, manager, 3):
        work_through(worker, pid, names, lambda name: "b")
    results = results_by_name(manager, pid)
    assert {row["status"] for row in results.values()} == {"in_review"}
    assert all(row["label"] == "b" and row["confidence"] > 0.95 for row in results.values())
    with app.app_context():
        reasons = db.session.scalars(
            select(Item.review_reason).where(Item.project_id == pid)).all()
    assert reasons == ["random_qa"] * 4
