"""The quality report from grouped counts equals, figure for figure, the report
as it was computed before from every label loaded one by one (``_reference_report``
below, a verbatim copy of that implementation), on random projects: gold items
(one whose gold label is not a label, one every reliable worker misses), items an
expert settled, labels that do not count, labels outside the label set, workers
with fewer than five labels, with and without a standing or a confusion matrix."""
from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from crowd.domain import agreement
from crowd.domain.gold_audit import suspicious
from crowd.domain.reliability import worker_confusion
from crowd.extensions import db
from crowd.persistence import Assignment, Item, Label, WorkerStanding, utcnow
from crowd.services.projects import get_project
from crowd.services.quality import RELIABLE, quality_report

LABELS = ("a", "b", "c")


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def _reference_report(session: Session, project_id: int) -> dict[str, Any]:
    """REFERENCE ONLY: ``crowd.services.quality.quality_report`` as it was before it
    read grouped counts (every counted label as a row, looped over in Python); kept
    here unchanged as the oracle the new implementation must match exactly."""
    project = get_project(session, project_id)
    labels = project.labels
    class_of = {name: i for i, name in enumerate(labels)}
    n_classes = len(labels)
    rows = session.execute(
        select(Label.item_id, Label.worker_id, Label.label, Item.is_gold, Item.gold_label,
               Item.result_source, Item.result_label)
        .join(Item, Item.id == Label.item_id)
        .where(Label.project_id == project_id, Label.counted.is_(True))
    ).all()
    rows = [r for r in rows if r[2] in class_of]
    item_ids = sorted({r[0] for r in rows})
    worker_ids = sorted({r[1] for r in rows})
    item_index = {v: i for i, v in enumerate(item_ids)}
    worker_index = {v: i for i, v in enumerate(worker_ids)}
    items = np.array([item_index[r[0]] for r in rows], dtype=np.intp)
    workers = np.array([worker_index[r[1]] for r in rows], dtype=np.intp)
    classes = np.array([class_of[r[2]] for r in rows], dtype=np.intp)
    is_gold = np.array([bool(r[3]) for r in rows], dtype=bool)
    gold_truth = np.full(len(item_ids), -1)
    expert_truth = np.full(len(item_ids), -1)
    for r in rows:
        if r[3] and r[4] in class_of:
            gold_truth[item_index[r[0]]] = class_of[r[4]]
        elif r[5] == "expert" and r[6] in class_of:
            expert_truth[item_index[r[0]]] = class_of[r[6]]

    work = ~is_gold
    counts = agreement.rating_counts(items[work], classes[work], len(item_ids), n_classes)
    specific = agreement.specific_agreement(counts)
    balance = agreement.class_balance(classes[work], n_classes)
    results = Counter(session.scalars(
        select(Item.result_label).where(Item.project_id == project_id, Item.is_gold.is_(False),
                                        Item.status.in_(("complete", "resolved")))
    ))
    truth = np.where(gold_truth >= 0, gold_truth, expert_truth)
    distribution = agreement.accuracy_distribution(items, workers, classes, truth,
                                                   len(worker_ids), min_labels=5)
    return {
        "project_id": project_id,
        "labels": len(rows),
        "work_labels": int(work.sum()),
        "agreement": {
            "fleiss_kappa": _num(agreement.fleiss_kappa(counts)),
            "krippendorff_alpha": _num(agreement.krippendorff_alpha(counts)),
            "per_class": {name: _num(specific[i]) for i, name in enumerate(labels)},
        },
        "class_balance": {
            "labels": {name: {"count": int(balance.counts[i]), "share": _num(balance.shares[i])}
                       for i, name in enumerate(labels)},
            "results": {name: results.get(name, 0) for name in labels},
        },
        "confusion": {
            "classes": labels,
            "against_gold": agreement.confusion_matrix(items, classes, gold_truth,
                                                       n_classes).tolist(),
            "against_expert": agreement.confusion_matrix(items, classes, expert_truth,
                                                         n_classes).tolist(),
        },
        "worker_accuracy": {
            "workers_scored": int(np.sum(~np.isnan(distribution.accuracy))),
            "histogram": {"edges": [round(float(e), 2) for e in distribution.edges],
                          "counts": distribution.counts.tolist()},
            "quantiles": {str(level): _num(q) for level, q in
                          zip(distribution.levels, distribution.quantiles)},
        },
        "gold_to_recheck": _reference_gold_audit(session, project_id, labels),
    }


def _reference_gold_audit(session: Session, project_id: int,
                          labels: list[str]) -> list[dict[str, Any]]:
    """REFERENCE ONLY: the old ``crowd.services.quality._gold_audit``, unchanged."""
    rows = session.execute(
        select(Item.id, Item.external_id, Item.gold_label, Label.label, WorkerStanding.confusion,
               WorkerStanding.hidden_gold_seen, WorkerStanding.hidden_gold_correct,
               WorkerStanding.estimated_accuracy)
        .join(Label, Label.item_id == Item.id)
        .join(WorkerStanding, and_(WorkerStanding.project_id == Label.project_id,
                                   WorkerStanding.worker_id == Label.worker_id))
        .where(Item.project_id == project_id, Item.is_gold.is_(True))
    ).all()
    class_of = {name: i for i, name in enumerate(labels)}
    answers: dict[int, list[tuple[float, bool, str]]] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    for item_id, external_id, gold, given, confusion, seen, correct, estimated in rows:
        if gold not in class_of:
            continue
        matrix = worker_confusion(labels, confusion, seen, correct)
        if (estimated if estimated is not None else float(np.mean(np.diag(matrix)))) < RELIABLE:
            continue
        miss = 1.0 - float(matrix[class_of[gold], class_of[gold]])
        answers[item_id].append((miss, given != gold, given))
        names[item_id] = (external_id, gold)
    flagged = []
    for item_id, given in answers.items():
        probs = np.array([g[0] for g in given])
        missed = np.array([g[1] for g in given])
        bad, p_value = suspicious(probs, missed)
        if bad:
            wrong = Counter(g[2] for g in given if g[1]).most_common(1)[0][0]
            flagged.append({
                "item_id": item_id, "external_id": names[item_id][0],
                "gold_label": names[item_id][1], "answers": len(given),
                "missed": int(missed.sum()), "expected_misses": round(float(probs.sum()), 2),
                "p_value": float(f"{p_value:.3g}"), "most_common_answer": wrong,
            })
    return sorted(flagged, key=lambda f: f["p_value"])


def _confusion(rng: random.Random, accuracy: float) -> dict[str, dict[str, float]]:
    return {t: {g: accuracy if g == t else (1 - accuracy) / 2 * rng.uniform(0.5, 1.5)
                for g in LABELS} for t in LABELS}


def _standing(rng: random.Random, project_id: int, worker_id: int,
              reliable: bool) -> WorkerStanding:
    kind = 0.9 if reliable else rng.random()
    return WorkerStanding(
        project_id=project_id, worker_id=worker_id, state="active",
        hidden_gold_seen=rng.randint(0, 30), hidden_gold_correct=rng.randint(0, 10),
        estimated_accuracy=None if kind < 0.3 else rng.uniform(0.85 if reliable else 0.6, 1.0),
        confusion=None if kind < 0.5 else _confusion(rng, rng.uniform(0.9 if reliable else 0.8,
                                                                      0.99)))


def _answer(rng: random.Random, item: Item, accurate: float) -> str:
    truth = item.gold_label if item.gold_label in LABELS else rng.choice(LABELS)
    if rng.random() < 0.04:
        return rng.choice(("zzz", "A", "a "))  # not one of the labels
    return truth if rng.random() < accurate else rng.choice(LABELS)


def _fill(session: Session, project_id: int, worker_ids: list[int], seed: int) -> None:
    """Random labels, results and standings on the project's items."""
    rng = random.Random(seed)
    items = session.scalars(select(Item).where(Item.project_id == project_id)
                            .order_by(Item.id)).all()
    gold = [item for item in items if item.is_gold]
    gold[0].gold_label = "not-a-label"
    bad = gold[1]
    for item in items:
        if not item.is_gold and rng.random() < 0.5:
            item.status = rng.choice(("complete", "resolved", "open"))
            item.result_source = rng.choice(("crowd", "expert", "expert", None))
            item.result_label = rng.choice((*LABELS, "zzz", None))
    skill = {w: rng.uniform(0.4, 0.98) for w in worker_ids}
    now = utcnow()
    for position, worker_id in enumerate(worker_ids):
        if position % 4:
            session.add(_standing(rng, project_id, worker_id, reliable=position < 4))
        share = 0.1 if position == 0 else rng.uniform(0.3, 0.9)  # worker 0: few labels
        for item in items:
            if item is not bad and rng.random() > share:
                continue
            given = "c" if item is bad else _answer(rng, item, skill[worker_id])
            assignment = Assignment(project_id=project_id, item_id=item.id, worker_id=worker_id,
                                    mode="work", is_gold=item.is_gold, answered_at=now,
                                    expires_at=now + timedelta(minutes=10))
            session.add(assignment)
            session.flush()
            session.add(Label(project_id=project_id, item_id=item.id, worker_id=worker_id,
                              assignment_id=assignment.id, label=given, mode="work",
                              is_gold=item.is_gold, counted=rng.random() > 0.1,
                              guidelines_version=1))
    session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_grouped_report_equals_the_reference(app, make_project, make_user, seed):
    project = make_project(n_items=30, n_gold=10, labels=LABELS)
    worker_ids = [make_user("worker")[0] for _ in range(9)]
    with app.app_context():
        _fill(db.session, project["id"], worker_ids, seed)
        expected = _reference_report(db.session, project["id"])
        got = quality_report(db.session, project["id"])
    assert got == expected
    assert expected["labels"] > expected["work_labels"] > 0
    assert expected["worker_accuracy"]["workers_scored"] > 0
    assert expected["confusion"]["against_expert"] != [[0] * 3] * 3
    assert [f["gold_label"] for f in expected["gold_to_recheck"]] == ["a"]


def test_a_project_without_labels(app, make_project):
    project = make_project(n_items=3, n_gold=1, labels=LABELS)
    with app.app_context():
        assert quality_report(db.session, project["id"]) == _reference_report(
            db.session, project["id"])
