"""Re-running Dawid-Skene over a project and acting on what it says."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from crowd.domain.aggregation import dawid_skene
from crowd.domain.reliability import EVIDENCE_MODES, expected_accuracy
from crowd.domain.review import decide
from crowd.persistence import AggregationRun, Item, Label, Project, WorkerStanding
from crowd.persistence.statistics import refresh_after
from crowd.services.projects import get_project

TOLERANCE = 1e-6
MAX_ITER = 100


def aggregate_project(
    session: Session, project_id: int, rng: np.random.Generator, now: datetime,
    trigger: str = "manual",
) -> AggregationRun:
    """Fit Dawid-Skene on the project's counted work-mode labels and apply it.

    Work-mode labels are work labels and hidden gold; qualification and
    training answers (known gold, with feedback) are left out, so no round can
    raise an estimate (``crowd.domain.reliability.is_evidence``). Gold items and
    expert-resolved items are clamped to their truth. Workers' confusion
    matrices and accuracy estimates are stored on their standings (and weigh
    their labels from then on); a worker with no label in the fit has none.
    Each open or complete work item is re-decided from its new posterior. The
    run is recorded; a run over many items then refreshes the items table's
    planner statistics.
    """
    project = get_project(session, project_id)
    started = time.perf_counter()
    rows = session.execute(
        select(Label.item_id, Label.worker_id, Label.label)
        .where(Label.project_id == project_id, Label.counted.is_(True),
               Label.mode.in_(EVIDENCE_MODES))
        .order_by(Label.item_id)
    ).all()
    labels = project.labels
    class_of = {name: i for i, name in enumerate(labels)}
    rows = [r for r in rows if r[2] in class_of]
    item_ids = sorted({r[0] for r in rows})
    worker_ids = sorted({r[1] for r in rows})
    settings = {"tol": TOLERANCE, "max_iter": MAX_ITER, "smoothing": "default"}
    run = AggregationRun(
        project_id=project_id, method="ds", settings=settings, items=len(item_ids),
        workers=len(worker_ids), labels=len(rows), iterations=0, converged=True,
        log_likelihood=None, duration_ms=0, priors=None, changes={}, trigger=trigger,
        created_at=now,
    )
    if rows:
        _fit_and_apply(session, project, rows, item_ids, worker_ids, class_of, run)
    else:
        _store_worker_estimates(session, project, [], np.zeros((0, len(labels), len(labels))),
                                np.zeros(0))
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    session.add(run)
    session.commit()
    # Each item of the fit was rewritten: a large run refreshes the statistics of items.
    refresh_after(session, [Item.__table__], run.items)
    session.commit()
    return run


def _fit_and_apply(
    session: Session, project: Project, rows: list[Any], item_ids: list[int],
    worker_ids: list[int], class_of: dict[str, int], run: AggregationRun,
) -> None:
    item_index = {item_id: i for i, item_id in enumerate(item_ids)}
    worker_index = {worker_id: i for i, worker_id in enumerate(worker_ids)}
    items = np.fromiter((item_index[r[0]] for r in rows), np.int32, len(rows))
    workers = np.fromiter((worker_index[r[1]] for r in rows), np.int32, len(rows))
    classes = np.fromiter((class_of[r[2]] for r in rows), np.int32, len(rows))
    state = {
        row.id: row for row in session.execute(
            select(Item.id, Item.is_gold, Item.gold_label, Item.status, Item.n_labels,
                   Item.needed, Item.review_reason, Item.result_label, Item.result_source)
            .where(Item.project_id == project.id)
        )
    }
    known = np.full(len(item_ids), -1, dtype=np.int64)
    for item_id, i in item_index.items():
        item = state[item_id]
        truth = item.gold_label if item.is_gold else (
            item.result_label if item.result_source == "expert" else None)
        if truth in class_of:
            known[i] = class_of[truth]
    result = dawid_skene(items, workers, classes, len(item_ids), len(worker_ids),
                         len(class_of), known=known, tol=TOLERANCE, max_iter=MAX_ITER)
    run.iterations, run.converged = result.iterations, bool(result.converged)
    run.log_likelihood = float(result.log_likelihood[-1]) if result.log_likelihood else None
    labels = project.labels
    run.priors = {name: round(float(p), 6) for name, p in zip(labels, result.priors)}
    accuracy = expected_accuracy(result.posteriors, items, workers, classes, len(worker_ids))
    _store_worker_estimates(session, project, worker_ids, result.confusions, accuracy)
    run.changes = _redecide_items(session, project, item_ids, state, result.posteriors, labels)


def _store_worker_estimates(
    session: Session, project: Project, worker_ids: list[int], confusions: np.ndarray,
    accuracy: np.ndarray,
) -> None:
    labels = project.labels
    # Lock order everywhere: standings (by id), then assignments, then items.
    standings = session.scalars(
        select(WorkerStanding).where(WorkerStanding.project_id == project.id)
        .order_by(WorkerStanding.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    by_worker = {s.worker_id: s for s in standings}
    fitted = set(worker_ids)
    for standing in by_worker.values():
        # No evidence left in the fit (only round answers, or every label
        # discounted): an earlier estimate must not outlive it.
        if standing.worker_id not in fitted:
            standing.estimated_accuracy = standing.confusion = None
    for w, worker_id in enumerate(worker_ids):
        standing = by_worker.get(worker_id)
        if standing is None:
            continue
        standing.estimated_accuracy = round(float(accuracy[w]), 4)
        standing.confusion = {
            t: {g: round(float(confusions[w, i, j]), 6) for j, g in enumerate(labels)}
            for i, t in enumerate(labels)
        }
    session.flush()


def _redecide_items(
    session: Session, project: Project, item_ids: list[int], state: dict[int, Any],
    posteriors: np.ndarray, labels: list[str],
) -> dict[str, int]:
    changes = {"completed": 0, "widened": 0, "to_review": 0, "reopened": 0}
    updates = []
    for i, item_id in enumerate(item_ids):
        item = state[item_id]
        if item.is_gold or item.status not in ("open", "complete"):
            continue
        post = posteriors[i]
        top = int(np.argmax(post))
        values: dict[str, Any] = {
            "_id": item_id, "_status": item.status, "_n": item.n_labels,
            "posterior": {name: round(float(p), 6) for name, p in zip(labels, post)},
            "result_label": labels[top], "confidence": round(float(post[top]), 6),
            "result_source": "crowd", "status": item.status, "needed": item.needed,
            "review_reason": item.review_reason,
        }
        confident = post[top] >= project.confidence_threshold
        # An item widened for disagreement is judged again against the base
        # redundancy: a posterior now confident completes it without the extra label.
        target = min(item.needed, project.redundancy)
        if item.status == "open" and item.n_labels >= target:
            decision = decide(float(post[top]), item.n_labels, target,
                              project.max_redundancy, project.confidence_threshold)
            values["needed"] = decision.needed
            if decision.outcome == "complete":
                values["status"] = "complete"
                changes["completed"] += 1
            elif decision.outcome == "review":
                values["status"], values["review_reason"] = "in_review", "disagreement"
                changes["to_review"] += 1
            elif decision.outcome == "more" and decision.needed != item.needed:
                changes["widened"] += 1
        elif item.status == "complete" and not confident:
            if item.n_labels < project.max_redundancy:
                values["status"], values["needed"] = "open", item.n_labels + 1
                changes["reopened"] += 1
            else:
                values["status"], values["review_reason"] = "in_review", "disagreement"
                changes["to_review"] += 1
        updates.append(values)
    # Guarded on the status and label count we read: an item that an answer
    # changed meanwhile keeps the answer's decision.
    statement = (
        update(Item.__table__)
        .where(Item.id == bindparam("_id"), Item.status == bindparam("_status"),
               Item.n_labels == bindparam("_n"))
        .values({name: bindparam(name) for name in (
            "posterior", "result_label", "confidence", "result_source", "status", "needed",
            "review_reason")})
    )
    connection = session.connection()
    for start in range(0, len(updates), 1000):
        connection.execute(statement, updates[start:start + 1000])
    return changes


def latest_run(session: Session, project_id: int) -> AggregationRun | None:
    """The project's most recent aggregation run."""
    return session.scalar(
        select(AggregationRun).where(AggregationRun.project_id == project_id)
        .order_by(AggregationRun.id.desc()).limit(1)
    )
