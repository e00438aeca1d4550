"""The quality report, checked against figures worked out by hand on a project
whose every label the test chooses; and the flag on gold that looks wrong."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support import internal_ids, item_ids, join, make_users, work_through


def _project(app: Any, manager: Any, labels: list[str], gold: dict[str, str], work: list[str],
             answers: list[dict[str, str]], **settings: Any) -> tuple[int, dict[str, int]]:
    """Gold items (name -> gold label) and work items; worker k answers item
    ``name`` with ``answers[k][name]``. gold_rate 1.0: each worker answers all
    gold first (hidden), then the work items."""
    body = {"name": "quality", "labels": labels, "qualification_size": 0, "gold_rate": 1.0,
            **settings}
    response = manager.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    pid = response.get_json()["id"]
    items = [{"external_id": n, "data": {"n": n}, "gold_label": g} for n, g in gold.items()]
    items += [{"external_id": n, "data": {"n": n}} for n in work]
    assert manager.post(f"/projects/{pid}/items", items).status_code == 201
    ids = item_ids(app, pid)
    names = {v: k for k, v in ids.items()}
    workers = make_users(app, manager, *[f"w{k + 1}" for k in range(len(answers))])
    for (_, worker), plan in zip(workers, answers):
        done = work_through(worker, pid, names, plan.__getitem__)
        assert sorted(done) == sorted(plan)
        assert set(done[:len(gold)]) == set(gold)
    return pid, ids


# Three workers, classes a b c.
GOLD = {"G1": "a", "G2": "a", "G3": "b", "G4": "c"}
WORK = ["I1", "I2", "I3", "I4"]
ANSWERS = [
    #     gold answers                           work labels
    {"G1": "a", "G2": "a", "G3": "b", "G4": "c", "I1": "a", "I2": "b", "I3": "c", "I4": "a"},  # w1
    {"G1": "a", "G2": "a", "G3": "c", "G4": "c", "I1": "a", "I2": "b", "I3": "c", "I4": "b"},  # w2
    {"G1": "b", "G2": "a", "G3": "b", "G4": "a", "I1": "a", "I2": "a", "I3": "c", "I4": "c"},  # w3
]
# An expert then settles I1 as a and I2 as b.


@pytest.fixture
def report(app: Any, manager: Any) -> dict[str, Any]:
    # Threshold 0 and review rate 1: each work item completes with its third
    # label and goes straight to random QA, where the expert can settle it.
    pid, ids = _project(app, manager, ["a", "b", "c"], GOLD, WORK, ANSWERS,
                        redundancy=3, max_redundancy=3, confidence_threshold=0.0,
                        review_rate=1.0, drift_window=10)
    ((_, expert),) = make_users(app, manager, "expert", role="expert")
    join(manager, pid, "expert")
    assert expert.post(f"/reviews/{ids['I1']}", {"label": "a"}).status_code == 200
    assert expert.post(f"/reviews/{ids['I2']}", {"label": "b"}).status_code == 200
    response = manager.get(f"/projects/{pid}/quality")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _check_fleiss_kappa(report: dict[str, Any]) -> None:
    # Work labels per item (a, b, c counts), n = 3 raters each:
    #   I1 (3,0,0)  I2 (1,2,0)  I3 (0,0,3)  I4 (1,1,1)
    # P_i = sum_j n_ij (n_ij - 1) / (n (n - 1)) = sum / 6:
    #   I1 6/6 = 1, I2 (0 + 2)/6 = 1/3, I3 1, I4 0;  mean P = (7/3) / 4 = 7/12
    # p_j = column totals / 12 = (5, 3, 4) / 12;  P_e = (25 + 9 + 16) / 144 = 25/72
    # kappa = (7/12 - 25/72) / (1 - 25/72) = (17/72) / (47/72) = 17/47 = 0.3617
    assert report["agreement"]["fleiss_kappa"] == round(17 / 47, 4)


def _check_krippendorff_alpha(report: dict[str, Any]) -> None:
    # Nominal alpha: n = 12 pairable values; within-class coincidences
    # o_cc = sum_u n_uc (n_uc - 1) / (m_u - 1) = I1 6/2 + I2 2/2 + I3 6/2 + I4 0 = 7.
    # Class totals n_c = (5, 3, 4); expected = n^2 - sum n_c^2 = 144 - 50 = 94.
    # alpha = 1 - (n - 1)(n - o) / expected = 1 - 11 * 5 / 94 = 39/94 = 0.4149
    assert report["agreement"]["krippendorff_alpha"] == round(39 / 94, 4)


def _check_per_class_agreement(report: dict[str, Any]) -> None:
    # For class c: sum_i n_ic (n_ic - 1) / sum_i n_ic (n_i - 1)
    #   a: (I1 3*2) / (I1 3*2 + I2 1*2 + I4 1*2) = 6 / 10 = 0.6
    #   b: (I2 2*1) / (I2 2*2 + I4 1*2)          = 2 / 6  = 0.3333
    #   c: (I3 3*2) / (I3 3*2 + I4 1*2)          = 6 / 8  = 0.75
    assert report["agreement"]["per_class"] == {"a": 0.6, "b": round(1 / 3, 4), "c": 0.75}


def test_agreement_figures_by_hand(report):
    assert report["labels"] == 24  # 3 workers x (4 gold + 4 work)
    assert report["work_labels"] == 12  # agreement is measured on these alone
    _check_fleiss_kappa(report)
    _check_krippendorff_alpha(report)
    _check_per_class_agreement(report)


def test_class_balance_and_confusion_by_hand(report):
    # Work labels: a 5, b 3, c 4 of 12. Results: only I1 (a) and I2 (b) are
    # settled (resolved); I3 and I4 still wait in review.
    assert report["class_balance"] == {
        "labels": {"a": {"count": 5, "share": round(5 / 12, 4)},
                   "b": {"count": 3, "share": 0.25},
                   "c": {"count": 4, "share": round(4 / 12, 4)}},
        "results": {"a": 1, "b": 1, "c": 0},
    }
    confusion = report["confusion"]
    assert confusion["classes"] == ["a", "b", "c"]
    # Rows: true class; columns: label given. Gold answers:
    #   G1 (a): a a b   G2 (a): a a a   G3 (b): b c b   G4 (c): c c a
    #   true a: a 5, b 1, c 0;  true b: b 2, c 1;  true c: a 1, c 2
    assert confusion["against_gold"] == [[5, 1, 0], [0, 2, 1], [1, 0, 2]]
    # Expert truth: I1 = a (labels a a a), I2 = b (labels b b a).
    assert confusion["against_expert"] == [[3, 0, 0], [1, 2, 0], [0, 0, 0]]


def test_worker_accuracy_distribution_by_hand(report):
    # Against gold and expert truth, six labels each (4 gold + I1 + I2):
    #   w1: all six right                        -> 6/6 = 1.0
    #   w2: misses G3                            -> 5/6 = 0.8333
    #   w3: misses G1, G4 and I2                 -> 3/6 = 0.5
    accuracy = report["worker_accuracy"]
    assert accuracy["workers_scored"] == 3
    edges = accuracy["histogram"]["edges"]
    assert edges == [round(0.1 * i, 2) for i in range(11)]
    # 0.5 falls in [0.5, 0.6), 0.8333 in [0.8, 0.9), 1.0 in the closed last bin.
    assert accuracy["histogram"]["counts"] == [0, 0, 0, 0, 0, 1, 0, 0, 1, 1]
    # Linear quantiles of (0.5, 0.8333, 1.0): position p * (3 - 1) = 2p.
    #   0.1 -> 0.2: 0.5 + 0.2 * (1/3) = 0.5667      0.25 -> 0.5: 0.5 + 0.5 * (1/3) = 0.6667
    #   0.5 -> 1:   5/6 = 0.8333                     0.75 -> 1.5: 5/6 + 0.5 * (1/6) = 0.9167
    #   0.9 -> 1.8: 5/6 + 0.8 * (1/6) = 0.9667
    assert accuracy["quantiles"] == {
        "0.1": round(0.5 + 0.2 / 3, 4), "0.25": round(0.5 + 0.5 / 3, 4),
        "0.5": round(5 / 6, 4), "0.75": round(5 / 6 + 0.5 / 6, 4),
        "0.9": round(5 / 6 + 0.8 / 6, 4),
    }
    # Nobody's misses here make a gold item suspect.
    assert report["gold_to_recheck"] == []


def test_quality_needs_a_manager_and_a_project(app, manager):
    assert manager.get("/projects/999999/quality").status_code == 404
    ((_, worker),) = make_users(app, manager, "nosy")
    assert worker.get("/projects/1/quality").status_code == 403


def test_empty_project_has_undefined_agreement(manager, make_project):
    pid = make_project(n_items=3)["id"]
    body = manager.get(f"/projects/{pid}/quality").get_json()
    assert body["labels"] == 0
    assert body["agreement"]["fleiss_kappa"] is None
    assert body["agreement"]["krippendorff_alpha"] is None
    assert body["worker_accuracy"]["workers_scored"] == 0
    assert body["gold_to_recheck"] == []


def test_wrong_gold_that_reliable_workers_all_miss_is_flagged(app, manager):
    # Five workers agree on 16 work items (8 a, 8 b) and on four good gold
    # items; all five answer b to "bad", whose gold label says a. w5 also misses
    # the good gold "g4" once. After aggregation the workers are ~0.85-0.88
    # accurate and miss a true "a" about 15% of the time, so five misses of
    # five on "bad" has probability ~0.15^5 = 9e-5, below the 0.001 bar; one
    # miss on g4 is fewer than the three needed to flag anything.
    gold = {"g1": "a", "g2": "a", "g3": "b", "g4": "b", "bad": "a"}
    work = [f"i{i}" for i in range(16)]
    plan = {**{f"i{i}": "a" if i < 8 else "b" for i in range(16)},
            "g1": "a", "g2": "a", "g3": "b", "g4": "b", "bad": "b"}
    answers = [dict(plan) for _ in range(5)]
    answers[4]["g4"] = "a"
    pid, ids = _project(app, manager, ["a", "b"], gold, work, answers,
                        redundancy=5, max_redundancy=5)

    # Before any aggregation, reliability comes from the gold record alone:
    # 4/5 right is a Beta posterior of (4 + 3.5) / (5 + 5) = 0.75, below the
    # 0.8 needed to judge gold, so nothing is flagged yet.
    assert manager.get(f"/projects/{pid}/quality").get_json()["gold_to_recheck"] == []

    assert manager.post(f"/projects/{pid}/aggregate").status_code == 200
    table = manager.get(f"/projects/{pid}/workers").get_json()["workers"]
    assert all(row["estimated_accuracy"] >= 0.8 for row in table)

    flagged = manager.get(f"/projects/{pid}/quality").get_json()["gold_to_recheck"]
    assert [entry["external_id"] for entry in flagged] == ["bad"]
    entry = flagged[0]
    # The manager's report names the internal id, not the opaque one workers see.
    assert entry["item_id"] == internal_ids(app, pid)[ids["bad"]] and entry["gold_label"] == "a"
    assert entry["answers"] == 5 and entry["missed"] == 5
    assert entry["most_common_answer"] == "b"
    assert entry["p_value"] < 0.001
    assert 0.4 < entry["expected_misses"] < 1.0  # five chances of ~0.15
