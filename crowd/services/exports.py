"""Streaming exports: results, raw labels with provenance, the worker report."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.domain.errors import BadRequest
from crowd.persistence import Item, Label, User

BATCH = 1000
RESULT_COLUMNS = ("external_id", "status", "label", "confidence", "source", "n_labels", "posterior")
LABEL_COLUMNS = ("external_id", "worker", "worker_id", "label", "created_at", "duration_ms",
                 "guidelines_version", "is_gold", "mode", "counted")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_format(fmt: str, allowed: tuple[str, ...]) -> str:
    """The format, or ``BadRequest`` naming the allowed ones."""
    if fmt not in allowed:
        raise BadRequest(f"format must be one of {', '.join(allowed)}", code="bad_format")
    return fmt


def csv_cell(value: Any) -> Any:
    """A cell safe to open in a spreadsheet: text starting with = + - @ (or a tab or
    carriage return) is prefixed with ' so it is not run as a formula."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render(rows: Iterable[dict[str, Any]], fmt: str, columns: tuple[str, ...]) -> Iterator[str]:
    """Stream rows as json (one array), jsonl or csv, a chunk at a time."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    elif fmt == "jsonl":
        for row in rows:
            yield json.dumps(row) + "\n"
    else:
        yield "["
        first = True
        for row in rows:
            yield ("" if first else ",") + json.dumps(row)
            first = False
        yield "]\n"


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def result_rows(session: Session, project_id: int) -> Iterator[dict[str, Any]]:
    """One row per non-gold item, in id order, read in batches."""
    query = (
        select(Item.external_id, Item.status, Item.result_label, Item.confidence,
               Item.result_source, Item.n_labels, Item.posterior)
        .where(Item.project_id == project_id, Item.is_gold.is_(False))
        .order_by(Item.id)
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(query):
        yield dict(zip(RESULT_COLUMNS, row))


def label_rows(session: Session, project_id: int) -> Iterator[dict[str, Any]]:
    """Every raw label with its provenance, in the order given."""
    query = (
        select(Item.external_id, User.username, Label.worker_id, Label.label, Label.created_at,
               Label.duration_ms, Label.guidelines_version, Label.is_gold, Label.mode,
               Label.counted)
        .join(Item, Item.id == Label.item_id)
        .join(User, User.id == Label.worker_id)
        .where(Label.project_id == project_id)
        .order_by(Label.id)
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(query):
        out = dict(zip(LABEL_COLUMNS, row))
        out["created_at"] = _iso(out["created_at"])
        yield out


def stream(make_session: Callable[[], Session],
           rows: Callable[[Session], Iterable[dict[str, Any]]],
           fmt: str, columns: tuple[str, ...]) -> Iterator[str]:
    """Render rows from a session of its own, closed when the stream ends."""
    session = make_session()
    try:
        yield from render(rows(session), fmt, columns)
    finally:
        session.close()
