"""The quality report of a project: agreement, balance, confusion, worker accuracy."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from crowd.domain import agreement
from crowd.domain.gold_audit import suspicious
from crowd.domain.reliability import worker_confusion
from crowd.persistence import Item, Label, WorkerStanding
from crowd.services.projects import get_project

RELIABLE = 0.8  # workers at or above this estimated accuracy judge gold items


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def quality_report(session: Session, project_id: int) -> dict[str, Any]:
    """Every figure of the quality report (see README for definitions)."""
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
        "gold_to_recheck": _gold_audit(session, project_id, labels),
    }


def _gold_audit(session: Session, project_id: int, labels: list[str]) -> list[dict[str, Any]]:
    """Gold items that reliable workers miss far more often than their confusion predicts."""
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
