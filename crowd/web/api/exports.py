"""Streamed exports: results and raw labels."""
from __future__ import annotations

from typing import Any

from flask import Response, request, stream_with_context

from crowd.extensions import db
from crowd.services import exports, projects
from crowd.web.api import bp
from crowd.web.api.common import MANAGER, require

MEDIA = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}


def streamed(project_id: int, kind: str, rows: Any, columns: tuple[str, ...],
             allowed: tuple[str, ...]) -> Response:
    """A streamed download of ``rows`` in the requested format."""
    projects.get_project(db.session, project_id)
    fmt = exports.check_format(request.args.get("format", allowed[0]), allowed)
    body = exports.stream(db.readonly_session, rows, fmt, columns)
    response = Response(stream_with_context(body), mimetype=MEDIA[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="project-{project_id}-{kind}.{fmt}"')
    return response


@bp.get("/projects/<int:project_id>/results")
@require(*MANAGER)
def results(project_id: int) -> Any:
    return streamed(project_id, "results",
                    lambda s: exports.result_rows(s, project_id),
                    exports.RESULT_COLUMNS, ("json", "jsonl", "csv"))


@bp.get("/projects/<int:project_id>/labels")
@require(*MANAGER)
def labels(project_id: int) -> Any:
    return streamed(project_id, "labels",
                    lambda s: exports.label_rows(s, project_id),
                    exports.LABEL_COLUMNS, ("jsonl", "csv", "json"))
