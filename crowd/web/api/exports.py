"""Streamed exports: results and raw labels."""
from __future__ import annotations

from typing import Any

from flask import Response, request

from crowd.extensions import db
from crowd.services import exports, projects
from crowd.web.api import bp
from crowd.web.api.common import MANAGER, require
from crowd.web.downloads import download


def streamed(project_id: int, kind: str, rows: Any, columns: tuple[str, ...],
             allowed: tuple[str, ...]) -> Response:
    """A streamed download of ``rows`` in the requested format."""
    projects.get_project(db.session, project_id)
    fmt = exports.check_format(request.args.get("format", allowed[0]), allowed)
    body = exports.stream(db.readonly_session, rows, fmt, columns)
    return download(body, fmt, f"project-{project_id}-{kind}.{fmt}")


@bp.get("/projects/<int:project_id>/results")
@require(*MANAGER, project="manage")
def results(project_id: int) -> Any:
    return streamed(project_id, "results",
                    lambda s: exports.result_rows(s, project_id),
                    exports.RESULT_COLUMNS, ("json", "jsonl", "csv"))


@bp.get("/projects/<int:project_id>/labels")
@require(*MANAGER, project="manage")
def labels(project_id: int) -> Any:
    return streamed(project_id, "labels",
                    lambda s: exports.label_rows(s, project_id),
                    exports.LABEL_COLUMNS, ("jsonl", "csv", "json"))
