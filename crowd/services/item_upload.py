"""An item file uploaded from the browser: the API's import, with its errors laid out
per row and field for a table.

The import is the API's (``crowd.services.importing``): all or nothing, so one bad
row refuses the whole file and nothing is written; with ``skip_invalid`` the good
rows are imported and the bad ones reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from crowd.domain.errors import BadRequest, InvalidInput
from crowd.services import importing

EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json": "json"}
ROW_FIELDS = ("external_id", "data", "gold_label", "priority")
_FIRST_WORD = re.compile(r"^(\S+)\s")


@dataclass
class UploadResult:
    """What became of an upload: ``problem`` when the file could not be read at all;
    else the rows created and skipped, and the refused rows (``imported`` False when
    they stopped the whole file)."""

    problem: str | None = None
    imported: bool = False
    created: int = 0
    skipped_duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0


def file_format(filename: str, chosen: str | None) -> str | None:
    """The format named by the form, else by the file's extension; None if neither says."""
    if chosen:
        return chosen if chosen in importing.FORMATS else None
    return EXTENSIONS.get(filename.rpartition(".")[2].lower()) if "." in filename else None


def error_field(message: str) -> str:
    """The field a row error is about, read off the importer's message ("" if none)."""
    if message.startswith("unknown field(s): "):
        return message.removeprefix("unknown field(s): ")
    match = _FIRST_WORD.match(message)
    word = match.group(1) if match else ""
    for name in ROW_FIELDS:
        if word == name or word.startswith((f"{name}.", f"{name}[")):
            return word
    return ""


def _rows(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"row": e["row"], "field": error_field(e["message"]), "message": e["message"]}
            for e in errors]


def upload(session: Session, project_id: int, raw: bytes, filename: str, chosen: str | None,
           rng: np.random.Generator, *, skip_invalid: bool) -> UploadResult:
    """Import ``raw`` (the bytes of ``filename``) into the project."""
    fmt = file_format(filename, chosen)
    if fmt is None:
        return UploadResult(problem="Choose the file's format: its name does not end in "
                                    ".csv, .jsonl or .json.")
    if not raw.strip():
        return UploadResult(problem="The file is empty.")
    try:
        rows = importing.parse_rows(raw, fmt)
        if not rows:
            return UploadResult(problem="The file holds no items.")
        report = importing.import_items(session, project_id, rows, rng,
                                        skip_invalid=skip_invalid)
    except BadRequest as refusal:
        session.rollback()
        return UploadResult(problem=f"The file could not be read: {refusal.message}.")
    except InvalidInput as refusal:
        session.rollback()
        errors = (refusal.details or {}).get("errors", [])
        if not errors:
            return UploadResult(problem=f"{refusal.message}.")
        return UploadResult(errors=_rows(errors),
                            error_count=refusal.details.get("errors_truncated", len(errors)))
    return UploadResult(imported=True, created=report.created,
                        skipped_duplicates=report.skipped_duplicates,
                        errors=_rows(report.errors),
                        error_count=max(report.error_count, len(report.errors)))
