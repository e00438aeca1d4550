"""The activity counters: filled from ``labels`` by the activity job past a watermark
on ``labels.id``, and read by the pages with the few labels since (the tail).

Nothing here is on the answer path: ``answer`` keeps its statement budget, and a
page's cost is the counters of the hours it shows plus an indexed range of
``labels`` (project, id > watermark) bounded by ``TAIL_LIMIT``.

A label the worker may still undo (``allow_undo``, its lease alive, their last
answer in the project) is not counted yet: undo deletes it. Such a label is kept
as a hole under the watermark, like one not yet visible, and counted once it can
no longer be undone; one undone is gone and its hole is forgotten. At most one per
worker and project is pending, so the holes stay few.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowd.domain import durations
from crowd.domain.activity import hour_of
from crowd.persistence import Assignment, Label, Project
from crowd.persistence.activity import ActivityWatermark, LabelHour, WorkerActivity

WATERMARK = "labels"
BATCH = 100_000  # labels read and folded per transaction of the job
HOLE_WINDOW = 5_000  # ids this far below a read's highest may still be in flight
HOLE_SECONDS = 600  # a hole older than this was a rolled-back insert
MAX_HOLES = 10_000
TAIL_LIMIT = 20_000  # labels past the watermark a page reads at most
IN_CHUNK = 1_000

COLUMNS = (Label.id, Label.project_id, Label.worker_id, Label.created_at, Label.is_gold,
           Label.mode, Label.duration_ms)


@dataclass
class Fold:
    """Labels summed per (project, hour) and per (project, worker)."""

    hours: dict[tuple[int, datetime], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    answers: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    last: dict[tuple[int, int], datetime] = field(default_factory=dict)
    times: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, rows: Iterable[Any]) -> None:
        for _id, project_id, worker_id, created_at, is_gold, mode, duration_ms in rows:
            counts = self.hours[(project_id, hour_of(created_at))]
            counts[0] += 1
            counts[1] += int(bool(is_gold) and mode == "work")
            counts[2] += int(mode != "work")
            key = (project_id, worker_id)
            self.answers[key] += 1
            if key not in self.last or created_at > self.last[key]:
                self.last[key] = created_at
            if duration_ms is not None:
                self.times[key].append(int(duration_ms))


def _watermark(session: Session, lock: bool = False) -> ActivityWatermark | None:
    query = select(ActivityWatermark).where(ActivityWatermark.name == WATERMARK)
    return session.scalar(query.with_for_update() if lock else query)


def _locked_watermark(session: Session, now: datetime) -> ActivityWatermark:
    mark = _watermark(session, lock=True)
    if mark is None:
        session.add(ActivityWatermark(name=WATERMARK, label_id=0, holes={}, updated_at=now))
        session.flush()
        mark = _watermark(session, lock=True)
        assert mark is not None
    return mark


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start:start + IN_CHUNK]


def _store(session: Session, fold: Fold) -> None:
    """Add ``fold`` into the counter rows (made where missing)."""
    by_project: dict[int, set[datetime]] = defaultdict(set)
    for project_id, hour in fold.hours:
        by_project[project_id].add(hour)
    for project_id, hours in by_project.items():
        found = {row.hour: row for row in session.scalars(
            select(LabelHour).where(LabelHour.project_id == project_id,
                                    LabelHour.hour.in_(sorted(hours))))}
        for hour in hours:
            labels, hidden, rounds = fold.hours[(project_id, hour)]
            row = found.get(hour)
            if row is None:
                session.add(LabelHour(project_id=project_id, hour=hour, labels=labels,
                                      hidden_gold=hidden, rounds=rounds))
            else:
                row.labels += labels
                row.hidden_gold += hidden
                row.rounds += rounds
    workers: dict[int, list[int]] = defaultdict(list)
    for project_id, worker_id in fold.answers:
        workers[project_id].append(worker_id)
    for project_id, ids in workers.items():
        found_workers: dict[int, WorkerActivity] = {}
        for chunk in _chunks(sorted(ids)):
            found_workers.update((row.worker_id, row) for row in session.scalars(
                select(WorkerActivity).where(WorkerActivity.project_id == project_id,
                                             WorkerActivity.worker_id.in_(chunk))))
        for worker_id in ids:
            key = (project_id, worker_id)
            row = found_workers.get(worker_id)
            if row is None:
                row = WorkerActivity(project_id=project_id, worker_id=worker_id, answers=0,
                                     last_active_at=None, durations={}, median_ms=None)
                session.add(row)
            row.answers += fold.answers[key]
            if row.last_active_at is None or fold.last[key] > row.last_active_at:
                row.last_active_at = fold.last[key]
            if fold.times.get(key):
                row.durations = durations.add(row.durations or {}, fold.times[key])
                row.median_ms = durations.median_ms(row.durations)
    session.flush()


def _undoable(session: Session, rows: Sequence[Any], now: datetime,
              complete: bool) -> set[int]:
    """The ids among ``rows`` that their worker may still undo: in a project that
    allows undo, the worker's latest label there, its lease alive. ``complete``:
    ``rows`` reach the newest label, so the latest of a worker among them is their
    latest; otherwise (and for holes) a later label is looked up."""
    undo_projects = set(session.scalars(select(Project.id).where(
        Project.allow_undo.is_(True), Project.id.in_({row[1] for row in rows}))))
    latest: dict[tuple[int, int], Any] = {}
    for row in rows:
        if row[1] in undo_projects and row[0] > latest.get((row[1], row[2]), (0,))[0]:
            latest[(row[1], row[2])] = row
    if not latest:
        return set()
    if not complete:
        for project_id in {p for p, _ in latest}:
            workers = sorted({w for p, w in latest if p == project_id})
            for chunk in _chunks(workers):
                for worker_id, newest in session.execute(
                        select(Label.worker_id, func.max(Label.id))
                        .where(Label.project_id == project_id, Label.worker_id.in_(chunk))
                        .group_by(Label.worker_id)):
                    if newest != latest[(project_id, worker_id)][0]:
                        del latest[(project_id, worker_id)]
    ids = [row[0] for row in latest.values()]
    live: set[int] = set()
    for chunk in _chunks(ids):
        live |= set(session.scalars(
            select(Label.id).join(Assignment, Assignment.id == Label.assignment_id)
            .where(Label.id.in_(chunk), Assignment.expires_at > now,
                   Assignment.released_at.is_(None))))
    return live


def _missing(seen: Sequence[int], low: int, high: int) -> list[int]:
    """Ids in (max(low, high - HOLE_WINDOW), high] not among ``seen``."""
    present = set(seen)
    return [i for i in range(max(low, high - HOLE_WINDOW) + 1, high + 1) if i not in present]


def _fill_holes(session: Session, mark: ActivityWatermark,
                now: datetime) -> tuple[int, set[int]]:
    """Count the labels that appeared in holes; forget holes too old to be in flight.
    How many appeared, and their projects."""
    holes = dict(mark.holes or {})
    if not holes:
        return 0, set()
    rows: list[Any] = []
    for chunk in _chunks(sorted(int(i) for i in holes)):
        rows += session.execute(select(*COLUMNS).where(Label.id.in_(chunk))).all()
    pending = _undoable(session, rows, now, complete=False)
    fold = Fold()
    fold.add(row for row in rows if row[0] not in pending)
    _store(session, fold)
    for row in rows:
        if row[0] not in pending:
            holes.pop(str(row[0]), None)
    cutoff = now - timedelta(seconds=HOLE_SECONDS)
    kept = {str(i) for i in pending}
    mark.holes = {k: v for k, v in holes.items()
                  if k in kept or datetime.fromisoformat(v) >= cutoff}
    return sum(fold.answers.values()), {project_id for project_id, _ in fold.answers}


def catch_up(session: Session, now: datetime) -> tuple[int, set[int]]:
    """Fold every label past the watermark (and any that appeared in its holes) into
    the counters, a batch per transaction; how many labels were folded, and the
    projects they belong to."""
    mark = _locked_watermark(session, now)
    folded, projects = _fill_holes(session, mark, now)
    while True:
        rows = session.execute(select(*COLUMNS).where(Label.id > mark.label_id)
                               .order_by(Label.id).limit(BATCH)).all()
        if not rows:
            break
        pending = _undoable(session, rows, now, complete=len(rows) < BATCH)
        fold = Fold()
        fold.add(row for row in rows if row[0] not in pending)
        _store(session, fold)
        high = rows[-1][0]
        holes = dict(mark.holes or {})
        for label_id in [*_missing([row[0] for row in rows], mark.label_id, high), *pending]:
            holes.setdefault(str(label_id), now.isoformat())
        if len(holes) > MAX_HOLES:
            holes = dict(sorted(holes.items(), key=lambda kv: int(kv[0]))[-MAX_HOLES:])
        mark.holes, mark.label_id, mark.updated_at = holes, high, now
        folded += len(rows) - len(pending)
        projects |= {project_id for project_id, _ in fold.answers}
        session.commit()
        mark = _locked_watermark(session, now)
    mark.updated_at = now
    session.commit()
    return folded, projects


@dataclass(frozen=True)
class Tail:
    """A project's labels past the watermark and in its holes (``complete``: all of
    them, else the job is more than ``TAIL_LIMIT`` labels behind and only the
    counters are used), when the job last ran (None: never), the watermark and the
    ids of the project's labels in holes."""

    fold: Fold
    complete: bool
    job_at: datetime | None
    watermark: int
    holes: list[int]


def tail(session: Session, project_id: int) -> Tail:
    """Read a project's labels past the watermark, at most ``TAIL_LIMIT`` of them."""
    mark = _watermark(session)
    low = mark.label_id if mark else 0
    holes = [int(i) for i in (mark.holes or {})] if mark else []
    query = select(*COLUMNS).where(Label.project_id == project_id, Label.id > low)
    rows = session.execute(query.order_by(Label.id).limit(TAIL_LIMIT + 1)).all()
    fold = Fold()
    complete = len(rows) <= TAIL_LIMIT
    found: list[int] = []
    if complete:
        for chunk in _chunks(holes):
            appeared = session.execute(select(*COLUMNS).where(
                Label.project_id == project_id, Label.id.in_(chunk))).all()
            fold.add(appeared)
            found += [row[0] for row in appeared]
        fold.add(rows)
    return Tail(fold, complete, mark.updated_at if mark else None, low, found)


def hour_counts(session: Session, project_id: int, since: datetime,
                recent: Tail) -> dict[datetime, list[int]]:
    """[labels, hidden gold, round answers] per hour from ``since`` on, tail included."""
    out: dict[datetime, list[int]] = {}
    for row in session.scalars(select(LabelHour).where(LabelHour.project_id == project_id,
                                                       LabelHour.hour >= since)):
        out[row.hour] = [row.labels, row.hidden_gold, row.rounds]
    for (pid, hour), counts in recent.fold.hours.items():
        if pid == project_id and hour >= since:
            kept = out.setdefault(hour, [0, 0, 0])
            for i in range(3):
                kept[i] += counts[i]
    return out


def totals(session: Session, project_id: int, recent: Tail) -> dict[str, int]:
    """All labels of the project, the hidden gold and round answers among them."""
    labels, hidden, rounds = session.execute(
        select(func.coalesce(func.sum(LabelHour.labels), 0),
               func.coalesce(func.sum(LabelHour.hidden_gold), 0),
               func.coalesce(func.sum(LabelHour.rounds), 0))
        .where(LabelHour.project_id == project_id)).one()
    for (pid, _), counts in recent.fold.hours.items():
        if pid == project_id:
            labels, hidden, rounds = labels + counts[0], hidden + counts[1], rounds + counts[2]
    labels, hidden, rounds = int(labels), int(hidden), int(rounds)
    return {"labels": labels, "hidden_gold": hidden, "rounds": rounds,
            "work": labels - hidden - rounds}


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def describe(recent: Tail) -> str:
    """How fresh the counters are, in a sentence."""
    if recent.job_at is None and recent.complete:
        return "The activity job has not run yet: the counts come from the labels themselves."
    if recent.job_at is None:
        return (f"The activity job has not run yet and this project has more than "
                f"{TAIL_LIMIT:,} labels: the counts are incomplete until it runs "
                "(crowd scheduler, or CROWD_SCHEDULER_ENABLED).")
    if not recent.complete:
        return (f"The activity job last ran at {_when(recent.job_at)} and is more than "
                f"{TAIL_LIMIT:,} labels behind: the newest labels are not counted yet.")
    return f"Counted by the activity job (last run {_when(recent.job_at)}) plus the labels since."
