"""Expert review: the queue of uncertain items, resolutions, promotion to gold."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Item
from tests.support import item_names, join, make_users, results_by_name, work_through

# Three classes; a newcomer counts as 70% right and 15% for each wrong class.
# a,a,a: 0.343 / (0.343 + 2 * 0.15^3) = 0.9807 (complete; random QA at rate 1)
# a,a,b: 0.0735 / 0.092625 = 0.7935 (split at max_redundancy 3: disagreement)
# a,b,c: 1/3 each (disagreement)
PLAN = {"q0": "aaa", "d1": "aab", "d2": "abc"}


def _build(app: Any, manager: Any, plan: dict[str, str], review_rate: float
           ) -> tuple[int, list[int], dict[str, int]]:
    """A project whose items are labelled per ``plan`` (k-th letter by the k-th
    worker); returns (project id, worker ids, item id by external id)."""
    body = {"name": "review", "labels": ["a", "b", "c"], "qualification_size": 0,
            "gold_rate": 0.0, "redundancy": 3, "max_redundancy": 3,
            "confidence_threshold": 0.95, "review_rate": review_rate}
    pid = manager.post("/projects", body).get_json()["id"]
    items = [{"external_id": name, "data": {"text": f"about {name}"}} for name in plan]
    assert manager.post(f"/projects/{pid}/items", items).status_code == 201
    names = item_names(app, pid)
    workers = make_users(app, manager, "w1", "w2", "w3")
    for k, (_, worker) in enumerate(workers):
        work_through(worker, pid, names, lambda name, k=k: plan[name][k])
    return pid, [wid for wid, _ in workers], {v: k for k, v in names.items()}


@pytest.fixture
def expert(app: Any, manager: Any) -> Any:
    return make_users(app, manager, "the-expert", role="expert")[0][1]


def test_queue_lists_items_in_review_least_confident_first(app, manager, expert):
    pid, worker_ids, ids = _build(app, manager, PLAN, review_rate=1.0)
    join(manager, pid, "the-expert")
    response = expert.get(f"/reviews?project={pid}")
    assert response.status_code == 200, response.get_json()
    queue = response.get_json()["items"]

    assert [entry["item"]["external_id"] for entry in queue] == ["d2", "d1", "q0"]
    assert [entry["reason"] for entry in queue] == ["disagreement", "disagreement", "random_qa"]
    confidences = [entry["confidence"] for entry in queue]
    assert confidences == sorted(confidences)
    assert confidences == pytest.approx([1 / 3, 0.0735 / 0.092625, 0.343 / 0.34975], abs=1e-4)
    for entry in queue:
        name = entry["item"]["external_id"]
        assert entry["item"] == {"id": ids[name], "external_id": name,
                                 "data": {"text": f"about {name}"}}
        assert [(label["worker"], label["label"]) for label in entry["labels"]] == list(
            zip(worker_ids, PLAN[name]))
        # No gold seen and no aggregation yet: the Beta(3.5, 1.5) prior, 3.5 / 5.
        assert {label["reliability"] for label in entry["labels"]} == {0.7}
        assert set(entry["posterior"]) == {"a", "b", "c"}
        assert max(entry["posterior"].values()) == entry["confidence"]
    assert queue[0]["posterior"] == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, abs=1e-5)


def test_queue_needs_a_project_and_the_expert_role(app, manager, expert):
    pid, _, _ = _build(app, manager, PLAN, review_rate=1.0)
    join(manager, pid, "the-expert")
    assert expert.get("/reviews").status_code == 422
    assert expert.get("/reviews?project=999999").status_code == 404
    (_, worker), = make_users(app, manager, "nosy")
    assert worker.get(f"/reviews?project={pid}").status_code == 403
    assert expert.get(f"/reviews?project={pid}&limit=1").get_json()["items"][0]["item"][
        "external_id"] == "d2"


def test_resolving_makes_the_item_resolved_with_source_expert(app, manager, expert):
    pid, _, ids = _build(app, manager, PLAN, review_rate=0.0)
    join(manager, pid, "the-expert")
    assert results_by_name(manager, pid)["q0"]["status"] == "complete"  # no random QA at rate 0

    response = expert.post(f"/reviews/{ids['d1']}", {"label": "b", "note": "the b reading"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "resolved" and body["source"] == "expert" and body["label"] == "b"

    row = results_by_name(manager, pid)["d1"]
    assert (row["status"], row["label"], row["source"], row["confidence"]) == (
        "resolved", "b", "expert", 1.0)
    assert row["n_labels"] == 3
    progress = manager.get(f"/projects/{pid}").get_json()["progress"]
    assert (progress["resolved"], progress["in_review"], progress["complete"]) == (1, 1, 1)
    queue = expert.get(f"/reviews?project={pid}").get_json()["items"]
    assert [entry["item"]["external_id"] for entry in queue] == ["d2"]
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.public_id == ids["d1"]))
        assert item.review_note == "the b reading" and item.resolved_by_id is not None


def test_resolution_refusals(app, manager, expert):
    pid, _, ids = _build(app, manager, PLAN, review_rate=0.0)
    join(manager, pid, "the-expert")
    path = f"/reviews/{ids['d1']}"

    unknown = expert.post(path, {"label": "zebra"})
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["code"] == "unknown_label"
    assert expert.post(path, {}).status_code == 422
    assert expert.post("/reviews/999999", {"label": "a"}).status_code == 404
    not_in_review = expert.post(f"/reviews/{ids['q0']}", {"label": "a"})  # complete
    assert not_in_review.status_code == 409
    (_, worker), = make_users(app, manager, "nosy")
    assert worker.post(path, {"label": "a"}).status_code == 403

    assert expert.post(path, {"label": "a"}).status_code == 200
    again = expert.post(path, {"label": "a"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_resolved"
    assert expert.post(path, {"label": "c"}).status_code == 409
    assert results_by_name(manager, pid)["d1"]["label"] == "a"


def test_promote_to_gold_turns_the_item_into_gold(app, manager, expert):
    pid, _, ids = _build(app, manager, PLAN, review_rate=0.0)
    join(manager, pid, "the-expert")
    before = manager.get(f"/projects/{pid}").get_json()["progress"]
    assert (before["items"], before["gold"]) == (3, 0)

    response = expert.post(f"/reviews/{ids['d2']}", {"label": "c", "promote_to_gold": True})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["promoted_to_gold"] is True

    assert "d2" not in results_by_name(manager, pid)
    after = manager.get(f"/projects/{pid}").get_json()["progress"]
    assert (after["items"], after["gold"], after["in_review"]) == (2, 1, 1)
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.public_id == ids["d2"]))
        assert item.is_gold and item.gold_label == "c"
    # Now gold, it is no longer in review either.
    assert expert.post(f"/reviews/{ids['d2']}", {"label": "c"}).status_code == 404


def test_resolution_counts_as_truth_in_the_next_aggregation(app, manager, expert):
    # Fifteen items all three agree on, then d1 (w1 a, w2 a, w3 b) and
    # d2 (a, b, c), both in review for disagreement.
    plan = {f"k{i}": "abc"[i % 3] * 3 for i in range(15)} | {"d1": "aab", "d2": "abc"}
    pid, (w1, w2, w3), ids = _build(app, manager, plan, review_rate=0.0)
    join(manager, pid, "the-expert")

    def accuracy() -> dict[int, float]:
        table = manager.get(f"/projects/{pid}/workers").get_json()["workers"]
        return {row["worker"]: row["estimated_accuracy"] for row in table}

    assert manager.post(f"/projects/{pid}/aggregate").status_code == 200
    before = accuracy()
    # Unresolved, d1 reads as an "a": w3 is the one who slipped there.
    assert min(before[w1], before[w2]) > before[w3]
    queue = expert.get(f"/reviews?project={pid}").get_json()["items"]
    reliability = {label["worker"]: label["reliability"] for label in queue[0]["labels"]}
    assert reliability == before

    assert expert.post(f"/reviews/{ids['d1']}", {"label": "b"}).status_code == 200
    run = manager.post(f"/projects/{pid}/aggregate").get_json()
    assert run["items"] == 17
    after = accuracy()
    # The expert's b is now known truth: w3 was right, w1 and w2 were wrong.
    assert after[w3] > max(after[w1], after[w2])
    assert after[w3] > before[w3] and after[w1] < before[w1]
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.public_id == ids["d1"]))
        assert (item.status, item.result_label, item.result_source) == ("resolved", "b", "expert")
