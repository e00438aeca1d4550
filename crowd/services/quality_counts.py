"""The grouped counts the quality report is computed from, read with GROUP BY.

At 5,000,000 labels the report cannot load one Python object per label: the
database counts labels per (item, class), per worker against the truth and per
decided result, and the few thousand rows per chunk it returns are turned into
numpy arrays at once. Only a label whose text is one of the project's labels
counts; a label's project is its item's project (labels are written so).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from crowd.persistence import Item, Label, WorkerStanding

CHUNK = 50_000  # rows fetched (and turned into arrays) at a time


@dataclass(frozen=True)
class ItemCounts:
    """Counted labels per (item, class): ``item_ids`` (n_items,) sorted, the items
    with any such label; ``counts`` (n_items, n_classes) int; ``gold`` (n_items,)
    bool, gold items; ``gold_truth`` and ``expert_truth`` (n_items,) the class of
    the gold label, or else of an expert's result, -1 when none."""

    item_ids: np.ndarray
    counts: np.ndarray
    gold: np.ndarray
    gold_truth: np.ndarray
    expert_truth: np.ndarray


def _chunks(session: Session, stmt: Select[Any], columns: int) -> Iterator[np.ndarray]:
    """The rows of ``stmt`` (integer columns only) as (k, columns) int64 arrays."""
    result = session.execute(stmt.execution_options(yield_per=CHUNK))
    for rows in result.partitions():
        yield np.array([tuple(row) for row in rows], np.int64).reshape(len(rows), columns)


def _counted(project_id: int, labels: Sequence[str]) -> Any:
    return and_(Label.project_id == project_id, Label.counted.is_(True),
                Label.label.in_(list(labels)))


def _truth(labels: Sequence[str]) -> Any:
    """An item's truth label: its gold label, else an expert's result (NULL: none)."""
    return case((and_(Item.is_gold.is_(True), Item.gold_label.in_(list(labels))), Item.gold_label),
                (and_(Item.result_source == "expert", Item.result_label.in_(list(labels))),
                 Item.result_label))


def item_counts(session: Session, project_id: int, labels: Sequence[str]) -> ItemCounts:
    """Counted labels per item and class, with each item's gold flag and truth."""
    n_classes = len(labels)
    stmt = (select(Label.item_id, *[func.sum(case((Label.label == name, 1), else_=0))
                                    for name in labels])
            .where(_counted(project_id, labels)).group_by(Label.item_id))
    parts = list(_chunks(session, stmt, 1 + n_classes))
    table = np.concatenate(parts) if parts else np.zeros((0, 1 + n_classes), np.int64)
    del parts  # one copy of the counts at a time
    order = np.argsort(table[:, 0], kind="stable")
    item_ids, counts = table[order, 0], table[order, 1:]
    del table, order
    class_of = {name: i for i, name in enumerate(labels)}
    gold = np.zeros(len(item_ids), bool)
    gold_truth = np.full(len(item_ids), -1)
    expert_truth = np.full(len(item_ids), -1)
    special = session.execute(
        select(Item.id, Item.is_gold, Item.gold_label, Item.result_source, Item.result_label)
        .where(Item.project_id == project_id,
               or_(Item.is_gold.is_(True), Item.result_source == "expert"))
    ).all()
    at = np.searchsorted(item_ids, np.array([row[0] for row in special], np.int64)).tolist()
    for (item_id, is_gold, gold_label, source, result), i in zip(special, at):
        if i == len(item_ids) or item_ids[i] != item_id:
            continue  # no counted label
        gold[i] = bool(is_gold)
        if is_gold and gold_label in class_of:
            gold_truth[i] = class_of[gold_label]
        elif source == "expert" and result in class_of:
            expert_truth[i] = class_of[result]
    return ItemCounts(item_ids, counts, gold, gold_truth, expert_truth)


def worker_scores(session: Session, project_id: int,
                  labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(hits, scored), each (n_workers,) int, in worker order: per worker with counted
    labels on items with a truth, how many of those labels and how many match it."""
    truth = _truth(labels)
    stmt = (select(Label.worker_id, func.count(), func.sum(case((Label.label == truth, 1),
                                                                else_=0)))
            .join(Item, Item.id == Label.item_id)
            .where(_counted(project_id, labels), truth.is_not(None),
                   or_(Item.is_gold.is_(True), Item.result_source == "expert"))
            .group_by(Label.worker_id).order_by(Label.worker_id))
    rows = session.execute(stmt).all()
    table = np.array(rows, np.int64).reshape(len(rows), 3)
    return table[:, 2], table[:, 1]


def result_counts(session: Session, project_id: int) -> Counter[str | None]:
    """Decided work items per result label."""
    return Counter(dict(session.execute(
        select(Item.result_label, func.count())
        .where(Item.project_id == project_id, Item.is_gold.is_(False),
               Item.status.in_(("complete", "resolved")))
        .group_by(Item.result_label)).all()))


@dataclass(frozen=True)
class GoldAnswers:
    """Every label on the project's gold items whose gold label is one of ``labels``,
    by a worker with a standing, in (item, label) order: ``items``, ``workers`` and
    ``answers`` (n,) int, the last indexing ``texts``; ``gold`` maps each such item
    to (external id, gold label)."""

    items: np.ndarray
    workers: np.ndarray
    answers: np.ndarray
    texts: list[str]
    gold: dict[int, tuple[str, str]]


def gold_answers(session: Session, project_id: int, labels: Sequence[str]) -> GoldAnswers:
    """The answers the gold audit judges (any label on a gold item, counted or not)."""
    gold_item = and_(Item.project_id == project_id, Item.is_gold.is_(True),
                     Item.gold_label.in_(list(labels)))
    gold = {item_id: (external_id, label) for item_id, external_id, label in session.execute(
        select(Item.id, Item.external_id, Item.gold_label).where(gold_item)).all()}
    stmt = (select(Label.item_id, Label.worker_id, Label.label)
            .join(Item, Item.id == Label.item_id)
            .join(WorkerStanding, and_(WorkerStanding.project_id == Label.project_id,
                                       WorkerStanding.worker_id == Label.worker_id))
            .where(gold_item).order_by(Label.item_id, Label.id))
    code: dict[str, int] = {}
    parts: list[np.ndarray] = []
    for rows in session.execute(stmt.execution_options(yield_per=CHUNK)).partitions():
        parts.append(np.array([(i, w, code.setdefault(t, len(code))) for i, w, t in rows],
                              np.int64).reshape(len(rows), 3))
    table = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
    return GoldAnswers(table[:, 0], table[:, 1], table[:, 2], list(code), gold)


def standings(session: Session, project_id: int) -> list[tuple[Any, ...]]:
    """(worker id, confusion, hidden gold seen, hidden gold correct, estimated
    accuracy) of every worker with a standing in the project."""
    return [tuple(row) for row in session.execute(
        select(WorkerStanding.worker_id, WorkerStanding.confusion,
               WorkerStanding.hidden_gold_seen, WorkerStanding.hidden_gold_correct,
               WorkerStanding.estimated_accuracy)
        .where(WorkerStanding.project_id == project_id)).all()]
