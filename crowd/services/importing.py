"""Importing items from JSON, JSONL or CSV, all or nothing."""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crowd.domain.errors import BadRequest, InvalidInput, NotFound
from crowd.domain.gold import shuffle_keys
from crowd.domain.text import MAX_EXTERNAL_ID, MAX_ITEM_DATA_BYTES, MAX_ITEM_DEPTH, check_json
from crowd.persistence import Item, Project
from crowd.persistence.projects import fresh_public_ids
from crowd.persistence.statistics import refresh_after

FORMATS = ("json", "jsonl", "csv")
RESERVED_CSV_COLUMNS = {"external_id", "gold_label", "priority", "data"}
MAX_REPORTED_ERRORS = 100
CHUNK = 1000


@dataclass
class ImportReport:
    """What an import did: rows created, duplicates skipped, rows refused."""

    created: int = 0
    skipped_duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "created": self.created,
            "skipped_duplicates": self.skipped_duplicates,
            "errors": self.errors,
        }
        if self.error_count > len(self.errors):
            out["errors_truncated"] = self.error_count
        return out


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the file is not valid UTF-8 (byte {exc.start})", code="bad_encoding"
        ) from None


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _loads(text: str) -> Any:
    """``json.loads`` refusing NaN and infinite numbers, which PostgreSQL's JSON cannot hold."""
    return json.loads(text, parse_constant=_not_a_number, parse_float=_finite)


def parse_rows(raw: bytes | str, fmt: str) -> list[Any]:
    """Read the rows of an upload in ``fmt`` (json, jsonl or csv).

    Raises ``BadRequest`` when the file cannot be read as that format at all;
    rows that can be read but are wrong are left to ``validate_row``.
    """
    text = raw if isinstance(raw, str) else _decode(raw)
    if fmt == "json":
        try:
            rows = _loads(text)
        except (ValueError, RecursionError) as exc:
            raise BadRequest(f"invalid JSON: {exc}", code="invalid_json") from None
        if isinstance(rows, dict) and isinstance(rows.get("items"), list):
            rows = rows["items"]
        if not isinstance(rows, list):
            raise BadRequest("the JSON body must be a list of items", code="invalid_body")
        return rows
    if fmt == "jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(_loads(line))
            except (ValueError, RecursionError) as exc:
                raise BadRequest(f"line {number}: invalid JSON: {exc}", code="invalid_json") from None
        return rows
    if fmt == "csv":
        return list(_csv_rows(text))
    raise BadRequest(f"format must be one of {', '.join(FORMATS)}", code="bad_format")


def _csv_rows(text: str) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    if "external_id" not in columns:
        raise BadRequest("the CSV has no external_id column", code="missing_column")
    if len(set(columns)) != len(columns):
        raise BadRequest("the CSV repeats a column name", code="bad_csv")
    try:
        for row in reader:
            if None in row:
                raise BadRequest(
                    f"CSV line {reader.line_num} has more cells than the header", code="bad_csv"
                )
            yield _csv_to_item(row)
    except csv.Error as exc:
        raise BadRequest(f"unreadable CSV: {exc}", code="bad_csv") from None


def _csv_to_item(row: dict[str, str | None]) -> dict[str, Any]:
    data: Any = {k: v for k, v in row.items() if k not in RESERVED_CSV_COLUMNS}
    if row.get("data"):
        try:
            extra = _loads(row["data"] or "")
        except (ValueError, RecursionError):
            extra = None
        data = {**data, **extra} if isinstance(extra, dict) else "<data is not a JSON object>"
    item: dict[str, Any] = {"external_id": row["external_id"], "data": data}
    if row.get("gold_label"):
        item["gold_label"] = row["gold_label"]
    if row.get("priority"):
        item["priority"] = row["priority"]
    return item


def validate_row(row: Any, labels: set[str]) -> dict[str, Any]:
    """A clean item row, or ``InvalidInput`` naming the first problem."""
    if not isinstance(row, dict):
        raise InvalidInput("an item must be a JSON object")
    check_json(row, "", max_depth=MAX_ITEM_DEPTH + 1)  # the row object, then its data
    unknown = set(row) - {"external_id", "data", "gold_label", "priority"}
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    external_id = row.get("external_id")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    if (not isinstance(external_id, str) or not external_id.strip()
            or len(external_id) > MAX_EXTERNAL_ID):
        raise InvalidInput(
            f"external_id must be a non-empty string of at most {MAX_EXTERNAL_ID} characters")
    data = row.get("data", {})
    if not isinstance(data, dict):
        raise InvalidInput("data must be a JSON object")
    size = len(json.dumps(data, ensure_ascii=False).encode())
    if size > MAX_ITEM_DATA_BYTES:
        raise InvalidInput(f"data is {size} bytes as JSON; the limit is {MAX_ITEM_DATA_BYTES}")
    gold = row.get("gold_label")
    if gold is not None and (not isinstance(gold, str) or gold not in labels):
        raise InvalidInput(f"gold_label {gold!r} is not one of the project's labels")
    priority = row.get("priority", 0)
    if isinstance(priority, str):
        try:
            priority = int(priority)
        except ValueError:
            raise InvalidInput("priority must be a whole number") from None
    if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > 2**31 - 1:
        raise InvalidInput("priority must be a whole number")
    return {"external_id": external_id, "data": data, "gold_label": gold, "priority": priority}


def import_items(
    session: Session,
    project_id: int,
    rows: Iterable[Any],
    rng: np.random.Generator,
    *,
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Add items to a project in one transaction.

    Items whose ``external_id`` the project already has are skipped (so an
    import can be repeated). A row that is invalid, or repeats an ``external_id``
    of the same request, is an error: by default the whole request is refused
    with ``InvalidInput`` (details: the errors) and nothing is written; with
    ``skip_invalid`` the valid rows are imported and the errors reported. An
    import of many rows then refreshes the items table's planner statistics
    (``crowd.persistence.statistics.refresh_after``).
    """
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    labels = set(project.labels)
    report = ImportReport()
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        try:
            item = validate_row(row, labels)
            if item["external_id"] in seen:
                raise InvalidInput(f"external_id {item['external_id']!r} repeats in this request")
        except InvalidInput as exc:
            report.error_count += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append({"row": index + 1, "message": exc.message})
            continue
        seen.add(item["external_id"])
        clean.append(item)
    if report.error_count and not skip_invalid:
        raise InvalidInput(
            f"{report.error_count} row(s) are invalid; nothing was imported",
            code="invalid_rows", details=report.as_dict(),
        )
    existing = _existing_ids(session, project_id, [item["external_id"] for item in clean])
    fresh = [item for item in clean if item["external_id"] not in existing]
    report.skipped_duplicates = len(clean) - len(fresh)
    keys = shuffle_keys(rng, len(fresh))
    public_ids = fresh_public_ids(session, rng, len(fresh))  # opaque: no order, no grouping
    for start in range(0, len(fresh), CHUNK):
        chunk = fresh[start:start + CHUNK]
        session.execute(insert(Item), [
            {
                "project_id": project_id,
                "external_id": item["external_id"],
                "data": item["data"],
                "gold_label": item["gold_label"],
                "is_gold": item["gold_label"] is not None,
                "priority": item["priority"],
                "needed": project.redundancy,
                "shuffle_key": keys[start + offset],
                "public_id": public_ids[start + offset],
                "status": "open",
            }
            for offset, item in enumerate(chunk)
        ])
        if progress:
            progress(len(chunk))
    report.created = len(fresh)
    session.commit()
    # After the commit, so that ANALYZE sees the new rows and holds its lock only briefly.
    refresh_after(session, [Item.__table__], report.created)
    session.commit()
    return report


def _existing_ids(session: Session, project_id: int, external_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(external_ids), CHUNK):
        chunk = external_ids[start:start + CHUNK]
        found.update(session.scalars(
            select(Item.external_id)
            .where(Item.project_id == project_id, Item.external_id.in_(chunk))
        ))
    return found
