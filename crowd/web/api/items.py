"""Item import: a JSON list, or a CSV / JSONL file."""
from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import UnsupportedMediaType

from crowd import runtime
from crowd.domain.errors import BadRequest
from crowd.extensions import db
from crowd.services import importing, projects
from crowd.web.api import bp
from crowd.web.api.common import MANAGER, request_body, require

MEDIA_TYPES = {
    "application/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
}


def _upload() -> tuple[bytes, str]:
    """The uploaded bytes and their format, from a multipart file or the raw body.

    Either way no more than ``MAX_CONTENT_LENGTH`` bytes are read: a larger body,
    chunked or not, is 413 before anything is parsed (see ``crowd.web.limits``).
    """
    fmt = request.args.get("format")
    upload = request.files.get("file")
    if upload is not None:
        fmt = fmt or request.form.get("format") or (upload.filename or "").rpartition(".")[2].lower()
        raw = upload.read()
    elif request.mimetype == "multipart/form-data":
        raise BadRequest("the upload has no 'file' part", code="missing_file")
    else:
        fmt = fmt or MEDIA_TYPES.get(request.mimetype)
        if fmt is None:
            raise UnsupportedMediaType(
                "send application/json, text/csv, application/x-ndjson, or a multipart 'file'"
            )
        raw = request_body()
    if fmt not in importing.FORMATS:
        raise BadRequest(f"format must be one of {', '.join(importing.FORMATS)}", code="bad_format")
    return raw, fmt


@bp.post("/projects/<int:project_id>/items")
@require(*MANAGER, project="manage")
def import_items(project_id: int) -> Any:
    projects.get_project(db.session, project_id)
    raw, fmt = _upload()
    rows = importing.parse_rows(raw, fmt)
    report = importing.import_items(
        db.session, project_id, rows, runtime.rng(),
        skip_invalid=request.args.get("on_error") == "skip",
    )
    return report.as_dict(), 201
