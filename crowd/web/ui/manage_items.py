"""A project's items: uploading a CSV or JSONL file (errors shown per row), and the
item table, filtered and paged by keyset."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from crowd import runtime
from crowd.extensions import db
from crowd.services import item_table, item_upload, project_pages, projects
from crowd.services.item_upload import UploadResult
from crowd.web.ui import bp
from crowd.web.ui.access import role_required
from crowd.web.ui.manage_forms import UploadForm


def _choice(name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    """A query parameter that must be one of ``allowed`` (blank: none; else 400)."""
    value = request.args.get(name, "")
    if not value:
        return None
    if value not in allowed:
        abort(400, description=f"The {name} filter must be one of: {', '.join(allowed)}.")
    return value


def _text(name: str) -> str:
    value = request.args.get(name, "")
    if len(value) > item_table.MAX_KEY:
        abort(400, description=f"The {name} is longer than {item_table.MAX_KEY} characters.")
    return value


def _page(project_id: int, form: UploadForm, result: UploadResult | None = None,
          status: int = 200) -> Any:
    project = projects.get_project(db.session, project_id)
    wanted = item_table.ItemFilter(_choice("status", item_table.STATUS_FILTERS),
                                   _choice("label", project.labels), _text("q").strip())
    after = _text("after") or None
    page = item_table.item_page(db.session, project_id, wanted, after)
    progress, counted_at = project_pages.progress(db.session, project_id)
    return render_template(
        "items.html", project=project, form=form, result=result, wanted=wanted, page=page,
        after=after, statuses=item_table.STATUS_FILTERS, progress=progress,
        counted_at=counted_at), status


@bp.get("/projects/<int:project_id>/items")
@role_required("manager", "admin", project="manage")
def items_page(project_id: int) -> Any:
    return _page(project_id, UploadForm())


@bp.post("/projects/<int:project_id>/items")
@role_required("manager", "admin", project="manage")
def items_upload(project_id: int) -> Any:
    """Import the uploaded file (a plain form post, or upload.js's with progress)."""
    form = UploadForm()
    if not form.validate_on_submit():
        problems = [f"{getattr(form, name).label.text}: {'; '.join(errors)}"
                    for name, errors in form.errors.items()]
        return _page(project_id, form, UploadResult(problem=" ".join(problems)), 422)
    upload = form.file.data
    result = item_upload.upload(db.session, project_id, upload.read(), upload.filename or "",
                                form.format.data or None, runtime.rng(),
                                skip_invalid=bool(form.skip_invalid.data))
    if result.imported and not result.errors:
        skipped = (f"; {result.skipped_duplicates} already there were skipped"
                   if result.skipped_duplicates else "")
        flash(f"Imported {result.created} item{'s' if result.created != 1 else ''}{skipped}.",
              "success")
        return redirect(url_for("ui.items_page", project_id=project_id), 303)
    return _page(project_id, form, result, 200 if result.imported else 422)
