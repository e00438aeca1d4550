"""The quality report of a project: agreement, balance, confusion, worker accuracy.

Computed from grouped counts (``crowd.services.quality_counts``): labels per
(item, class) for agreement, balance and confusion, per worker against the truth
for accuracy, so a project of millions of labels never has them in memory one
by one.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from crowd.domain import agreement
from crowd.domain.gold_audit import MIN_MISSES, suspicious
from crowd.domain.reliability import worker_confusion
from crowd.services import quality_counts
from crowd.services.projects import get_project

RELIABLE = 0.8  # workers at or above this estimated accuracy judge gold items


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def _confusion(counts: np.ndarray, truth: np.ndarray, n_classes: int) -> list[list[int]]:
    """Labels by (true class, class given) over the items whose ``truth`` is known."""
    matrix = np.zeros((n_classes, n_classes), np.int64)
    known = truth >= 0
    np.add.at(matrix, truth[known], counts[known])
    return matrix.tolist()


def quality_report(session: Session, project_id: int) -> dict[str, Any]:
    """Every figure of the quality report (see README for definitions)."""
    project = get_project(session, project_id)
    labels = project.labels
    n_classes = len(labels)
    grouped = quality_counts.item_counts(session, project_id, labels)
    counts = np.where(grouped.gold[:, None], 0, grouped.counts)  # agreement: work labels
    specific = agreement.specific_agreement(counts)
    balance = agreement.class_balance_of_counts(counts.sum(axis=0))
    results = quality_counts.result_counts(session, project_id)
    hits, scored = quality_counts.worker_scores(session, project_id, labels)
    distribution = agreement.accuracy_distribution_of_scores(
        agreement.scores_accuracy(hits, scored), scored, min_labels=5)
    return {
        "project_id": project_id,
        "labels": int(grouped.counts.sum()),
        "work_labels": int(counts.sum()),
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
            "against_gold": _confusion(grouped.counts, grouped.gold_truth, n_classes),
            "against_expert": _confusion(grouped.counts, grouped.expert_truth, n_classes),
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


def _miss_chances(session: Session, project_id: int, labels: list[str]) -> dict[int, np.ndarray]:
    """Per reliable worker, the chance (n_classes,) of missing an item of each true class."""
    chances: dict[int, np.ndarray] = {}
    for worker_id, confusion, seen, correct, estimated in quality_counts.standings(
            session, project_id):
        matrix = worker_confusion(labels, confusion, seen, correct)
        accuracy = estimated if estimated is not None else float(np.mean(np.diag(matrix)))
        if not accuracy < RELIABLE:  # not ">=": a NaN estimate has always counted as reliable
            chances[worker_id] = 1.0 - np.diag(matrix)
    return chances


def _gold_audit(session: Session, project_id: int, labels: list[str]) -> list[dict[str, Any]]:
    """Gold items that reliable workers miss far more often than their confusion predicts."""
    chances = _miss_chances(session, project_id, labels)
    answers = quality_counts.gold_answers(session, project_id, labels)
    class_of = {name: i for i, name in enumerate(labels)}
    code_of = {text: i for i, text in enumerate(answers.texts)}
    reliable = np.isin(answers.workers, np.array(list(chances), np.int64))
    items, workers, given = (answers.items[reliable], answers.workers[reliable],
                             answers.answers[reliable])
    starts = np.flatnonzero(np.diff(items, prepend=-1)).tolist()  # each item's first answer
    flagged = []
    for start, end in zip(starts, [*starts[1:], len(items)]):
        item_id = int(items[start])
        external_id, gold = answers.gold[item_id]
        missed = given[start:end] != code_of.get(gold, -1)
        if int(missed.sum()) < MIN_MISSES:
            continue  # never flagged, whatever its tail probability
        probs = np.array([chances[w][class_of[gold]] for w in workers[start:end].tolist()])
        bad, p_value = suspicious(probs, missed)
        if bad:
            wrong = Counter(given[start:end][missed].tolist()).most_common(1)[0][0]
            flagged.append({
                "item_id": item_id, "external_id": external_id,
                "gold_label": gold, "answers": end - start,
                "missed": int(missed.sum()), "expected_misses": round(float(probs.sum()), 2),
                "p_value": float(f"{p_value:.3g}"), "most_common_answer": answers.texts[wrong],
            })
    return sorted(flagged, key=lambda f: f["p_value"])
