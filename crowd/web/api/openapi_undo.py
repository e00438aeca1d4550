"""The OpenAPI operation of undoing an answer (crowd.services.undo);
``crowd.web.api.openapi`` merges it into the document."""
from __future__ import annotations

from typing import Any, Callable

from crowd.web.api.openapi_schemas import I, obj

UNDONE = obj("undone", "assignment_id", "expires_at", undone={"const": True},
             assignment_id=I, expires_at={"type": "string", "format": "date-time"})


def undo_paths(op: Callable[..., dict[str, Any]], worker: tuple[str, ...]) -> dict[str, Any]:
    """POST /assignments/{assignment_id}/undo, built with ``openapi.op``."""
    return {"/assignments/{assignment_id}/undo": {"post": op(
        "Take back your last answer while its lease lives, if the project allows undo "
        "(allow_undo): the assignment is yours again with the same expires_at; answer it "
        "again with /answer", worker, answer=UNDONE, path=("assignment_id",),
        errors=(409, 410), why={
            403: "Not a worker, or a worker suspended in this project (`suspended`).",
            404: "No such assignment, another worker's, or one in a project the worker "
                 "may no longer reach.",
            409: "Refused (`undo_refused`): the project does not allow undo; the answer was "
                 "given with feedback (qualification, training); the assignment has no "
                 "answer (never answered, or already undone); it is not the worker's last "
                 "answer in the project; the worker is not active; or their standing "
                 "changed since the answer (a sanction or a manager's decision stands).",
            410: "The lease expired (`lease_expired`): the answer stands."})}}
