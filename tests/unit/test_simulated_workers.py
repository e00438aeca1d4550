"""The simulator's pure parts: worker models, the crowd and items, and the report's measures."""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from crowd.simulate.report import (
    accuracy,
    drift_delay,
    first_sanction,
    label_effort,
    open_takeable,
)
from crowd.simulate.workers import (
    KINDS,
    adversary_confusion,
    make_crowd,
    make_dataset,
    make_worker,
    reliable_confusion,
    split_counts,
    swap_pairs,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def empirical(model, truth: int, n: int, work_answers: int = 0, seed: int = 1) -> np.ndarray:
    generator = rng(seed)
    answers = [model.answer(truth, work_answers, generator) for _ in range(n)]
    return np.bincount(answers, minlength=model.confusion.shape[0]) / n


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a_proper_confusion_matrix(kind: str) -> None:
    model = make_worker(kind, 5, rng())
    for matrix in (model.confusion, model.degraded):
        if matrix is None:
            continue
        assert matrix.shape == (5, 5)
        assert (matrix >= 0).all()
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


def test_reliable_accuracy_varies_by_class_around_the_mean() -> None:
    diagonals = np.array([np.diag(reliable_confusion(4, rng(s))) for s in range(300)])
    assert diagonals.min() >= 0.75 - 1e-9 and diagonals.max() <= 0.95 + 1e-9
    assert abs(diagonals.mean() - 0.85) < 0.01
    # Within one worker the classes differ: class-dependent, not one coin.
    assert (np.ptp(diagonals, axis=1) > 0.02).mean() > 0.9


def test_reliable_errors_are_not_spread_evenly() -> None:
    matrix = reliable_confusion(4, rng(3))
    off = matrix[0, 1:]
    assert np.ptp(off) > 1e-3


def test_answers_follow_the_confusion_row() -> None:
    model = make_worker("reliable", 4, rng(7))
    shares = empirical(model, truth=2, n=20_000)
    np.testing.assert_allclose(shares, model.confusion[2], atol=0.015)


def test_spammer_answers_uniformly_whatever_the_truth() -> None:
    model = make_worker("spammer", 4, rng())
    np.testing.assert_allclose(empirical(model, truth=0, n=20_000), 0.25, atol=0.015)
    assert model.accuracy == pytest.approx(0.25)


def test_swap_pairs_is_an_involution_without_fixed_points_for_even_classes() -> None:
    for seed in range(20):
        target = swap_pairs(6, rng(seed))
        assert sorted(target) == list(range(6))
        assert (target != np.arange(6)).all()
        assert (target[target] == np.arange(6)).all()
    odd = swap_pairs(5, rng(1))
    assert (odd == np.arange(5)).sum() == 1


def test_adversary_systematically_gives_the_partner_class() -> None:
    matrix = adversary_confusion(4, rng(2), consistency=0.85)
    partner = matrix.argmax(axis=1)
    assert (partner != np.arange(4)).all()
    assert (partner[partner] == np.arange(4)).all()
    assert matrix.max(axis=1) == pytest.approx([0.85 + 0.15 / 4] * 4)
    assert np.diag(matrix).mean() < 0.1


def test_drifter_is_reliable_until_its_onset_then_degraded() -> None:
    model = make_worker("drifter", 4, rng(5), onset=40, degraded_accuracy=0.3)
    assert not model.is_degraded(39) and model.is_degraded(40)
    assert model.matrix(0) is model.confusion
    before = np.mean([empirical(model, t, 5_000, work_answers=39, seed=t)[t] for t in range(4)])
    after = np.mean([empirical(model, t, 5_000, work_answers=40, seed=t)[t] for t in range(4)])
    assert before > 0.75
    assert after == pytest.approx(0.3, abs=0.03)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown worker kind"):
        make_worker("saboteur", 4, rng())


def test_split_counts_uses_largest_remainders() -> None:
    assert split_counts(60, [0.6, 0.2, 0.1, 0.1]) == [36, 12, 6, 6]
    assert split_counts(12, [0.6, 0.2, 0.1, 0.1]) == [7, 3, 1, 1]
    assert sum(split_counts(7, [1, 1, 1])) == 7
    with pytest.raises(ValueError):
        split_counts(5, [0, 0])


def test_make_crowd_orders_kinds_and_is_repeatable() -> None:
    crowd = make_crowd(20, [0.5, 0.25, 0.15, 0.1], 4, rng(9), onset=12)
    assert [w.kind for w in crowd] == ["reliable"] * 10 + ["spammer"] * 5 + \
        ["adversary"] * 3 + ["drifter"] * 2
    assert all(w.onset == 12 for w in crowd if w.kind == "drifter")
    again = make_crowd(20, [0.5, 0.25, 0.15, 0.1], 4, rng(9), onset=12)
    for a, b in zip(crowd, again, strict=True):
        np.testing.assert_array_equal(a.confusion, b.confusion)


def test_make_dataset_hides_the_requested_gold_among_the_items() -> None:
    data = make_dataset(500, 50, 4, rng(4))
    assert (data.n_items, data.n_gold) == (500, 50)
    assert set(np.unique(data.truth)) == {0, 1, 2, 3}
    positions = np.flatnonzero(data.gold)
    assert positions.min() < 100 and positions.max() > 450  # spread, not a block at the end


# -- the report's measures ----------------------------------------------------------


def test_accuracy_scores_complete_resolved_and_labelled_review_items() -> None:
    truth = {"a": "x", "b": "y", "c": "x", "d": "y", "e": "x"}
    rows = [
        {"external_id": "a", "status": "complete", "label": "x"},
        {"external_id": "b", "status": "complete", "label": "x"},
        {"external_id": "c", "status": "resolved", "label": "x"},
        {"external_id": "d", "status": "in_review", "label": "y"},
        {"external_id": "e", "status": "open", "label": "x"},
    ]
    result = accuracy(rows, truth)
    assert result["overall"] == pytest.approx(3 / 4) and result["scored"] == 4
    assert result["crowd"] == pytest.approx(1 / 2) and result["crowd_items"] == 2
    assert result["statuses"] == {"complete": 2, "in_review": 1, "open": 1, "resolved": 1}


def test_label_effort_counts_work_labels_and_gold_by_mode() -> None:
    rows = [
        {"is_gold": False, "mode": "work", "counted": True},
        {"is_gold": False, "mode": "work", "counted": False},
        {"is_gold": False, "mode": "work", "counted": True},
        {"is_gold": True, "mode": "qualification", "counted": True},
        {"is_gold": True, "mode": "work", "counted": True},
    ]
    effort = label_effort(rows, n_items=2)
    assert effort["labels_per_item"] == 1.5 and effort["counted_labels_per_item"] == 1.0
    assert effort["discounted_labels"] == 1
    assert effort["gold_answers"] == 2
    assert effort["gold_by_mode"] == {"qualification": 1, "work": 1}


def label(ref: str, minute: int, gold: bool = False, mode: str = "work") -> dict:
    return {"external_id": ref, "created_at": f"2026-01-01T12:{minute:02d}:00Z",
            "is_gold": gold, "mode": mode}


HISTORY = [
    {"at": "2026-01-01T11:00:00Z", "from": None, "to": "qualification",
     "reason_code": "new_worker"},
    {"at": "2026-01-01T11:30:00Z", "from": "qualification", "to": "active",
     "reason_code": "qualification_passed"},
    {"at": "2026-01-01T12:07:00Z", "from": "active", "to": "retraining", "reason_code": "drift"},
    {"at": "2026-01-01T12:09:00Z", "from": "retraining", "to": "suspended",
     "reason_code": "retraining_failed"},
]


def test_drift_delay_counts_hidden_gold_from_onset_to_the_sanction() -> None:
    rows = [label("g0", 1, gold=True), label("w1", 2), label("w2", 3),
            label("g1", 4, gold=True), label("g2", 5, gold=True), label("w3", 6),
            label("g3", 7, gold=True),  # the answer that triggered the check
            label("t1", 8, gold=True, mode="training"), label("g4", 10, gold=True)]
    delay = drift_delay(rows, "w2", HISTORY)
    assert delay["sanctioned"] and delay["reason"] == "drift" and delay["state"] == "retraining"
    assert delay["delay"] == 3  # g1, g2, g3: g0 was before the onset, t1 is training
    assert delay["gold_after_onset"] == 4


def test_drift_delay_of_an_uncaught_or_unstarted_drifter() -> None:
    rows = [label("w1", 1), label("g1", 2, gold=True)]
    missed = drift_delay(rows, "w1", HISTORY[:2])
    assert missed == {"reached_onset": True, "sanctioned": False, "gold_after_onset": 1,
                      "delay": None, "reason": None}
    assert drift_delay(rows, None, HISTORY)["reached_onset"] is False
    with pytest.raises(ValueError):
        drift_delay(rows, "nowhere", HISTORY)


def test_first_sanction_ignores_moves_before_the_given_time() -> None:
    assert first_sanction(HISTORY)["to"] == "retraining"
    early = [{"at": "2026-01-01T10:00:00Z", "to": "suspended", "reason_code": "x"}]
    assert first_sanction(early, datetime(2026, 1, 1, 11, tzinfo=UTC)) is None


def test_open_items_an_active_worker_never_labelled_are_takeable_the_rest_stranded():
    results = [{"external_id": "a", "status": "open"}, {"external_id": "b", "status": "open"},
               {"external_id": "c", "status": "complete"}, {"external_id": "d", "status": "open"}]
    labels = [{"external_id": "a", "worker": "ann"}, {"external_id": "a", "worker": "bob"},
              {"external_id": "b", "worker": "ann"}, {"external_id": "c", "worker": "cy"}]
    workers = [{"username": "ann", "state": "active"}, {"username": "bob", "state": "active"},
               {"username": "cy", "state": "suspended"}]
    # a: both active workers labelled it (stranded); b: bob could take it; c is
    # done; d: nobody labelled it.
    assert open_takeable(results, labels, workers) == 2
    assert open_takeable(results, labels, workers[2:]) == 0  # nobody active
