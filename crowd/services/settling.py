"""Settling a work item: posterior from its labels, then complete, widen or review."""
from __future__ import annotations

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, attributes

from crowd.domain.reliability import worker_confusion
from crowd.domain.review import class_prior, decide, item_posterior, sample_for_qa
from crowd.persistence import AggregationRun, Item, Label, Project, WorkerStanding


def item_label_posterior(session: Session, project: Project, item: Item) -> tuple[np.ndarray, int]:
    """The (C,) posterior of an item from its counted labels, and how many there are.

    Each label is weighed by its worker's current confusion matrix (one query):
    the Dawid-Skene fit (work-mode labels only), or without one the one-coin
    matrix of the worker's hidden-gold record. Qualification and training
    answers never weigh in (``crowd.domain.reliability.is_evidence``). The
    classes are weighed by the latest Dawid-Skene run's priors (uniform before
    the first run), as that run's own posteriors are: on a skewed project an
    item the crowd splits on between a common and a rare class is not called
    for the rare one on the same evidence as the other way round.
    """
    latest_priors = (
        select(AggregationRun.priors).where(AggregationRun.project_id == project.id)
        .order_by(AggregationRun.id.desc()).limit(1).scalar_subquery()
    )
    rows = session.execute(
        select(Label.label, WorkerStanding.confusion, WorkerStanding.hidden_gold_seen,
               WorkerStanding.hidden_gold_correct, latest_priors)
        .outerjoin(WorkerStanding, and_(
            WorkerStanding.project_id == Label.project_id,
            WorkerStanding.worker_id == Label.worker_id,
        ))
        .where(Label.item_id == item.id, Label.counted.is_(True), Label.is_gold.is_(False))
    ).all()
    labels = project.labels
    index = {name: i for i, name in enumerate(labels)}
    given = np.array([index[r[0]] for r in rows if r[0] in index], dtype=np.intp)
    confusions = np.array([
        worker_confusion(labels, r[1], r[2] or 0, r[3] or 0) for r in rows if r[0] in index
    ]).reshape(len(given), len(labels), len(labels))
    prior = class_prior(labels, rows[0][4]) if rows else None
    return item_posterior(given, confusions, prior), len(given)


# A hidden-gold answer's posterior query, sent so that answering gold and work cost
# the same statements, looks up an id no item has (ids start at 1): it costs what a
# work item's few labels cost, never a walk over every answer the gold item had.
NO_ITEM = 0


def mark_gold_answered(session: Session, project: Project, item: Item) -> None:
    """A hidden-gold answer's part in the item: it is ``started`` (answered at least
    once), sent as an UPDATE on every answer, after the posterior query settling
    sends. So answering hidden gold costs what answering work costs, and a worker
    timing ``answer`` cannot tell afterwards which items were gold
    (``tests/integration/test_statement_counts.py``)."""
    item_label_posterior(session, project, Item(id=NO_ITEM))
    item.started = True
    attributes.flag_modified(item, "started")


def settle_item(session: Session, project: Project, item: Item, rng: np.random.Generator) -> str:
    """Apply the review rule to an open work item; returns the outcome.

    ``complete`` stores the result (and may send the item to random QA);
    ``more`` raises the item's label target by one; ``review`` sends it to an
    expert for disagreement; ``wait`` leaves it collecting labels.
    """
    posterior, n_labels = item_label_posterior(session, project, item)
    top = int(np.argmax(posterior)) if n_labels else 0
    decision = decide(
        float(posterior[top]) if n_labels else 0.0, n_labels, item.needed,
        project.max_redundancy, project.confidence_threshold,
    )
    item.needed = decision.needed
    if n_labels:
        item.posterior = {name: round(float(p), 6) for name, p in zip(project.labels, posterior)}
        item.result_label = project.labels[top]
        item.confidence = round(float(posterior[top]), 6)
        item.result_source = "crowd"
    else:
        item.posterior = item.result_label = item.confidence = item.result_source = None
    if decision.outcome == "complete":
        if sample_for_qa(rng, project.review_rate):
            item.status, item.review_reason = "in_review", "random_qa"
        else:
            item.status = "complete"
    elif decision.outcome == "review":
        item.status, item.review_reason = "in_review", "disagreement"
    return decision.outcome
