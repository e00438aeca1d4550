"""The expert's review page: one item at a time, most uncertain first.

Without JavaScript every action is a form post that lands on the next item;
``static/review.js`` adds the keys (1-9 a label, p promote, s skip, n the note).
"""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from crowd import runtime
from crowd.domain.errors import CrowdError, InvalidInput
from crowd.domain.worker_page import layout
from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.extensions import db
from crowd.persistence import Project
from crowd.services import projects, review_page, reviews
from crowd.web.ui import bp, review_skips
from crowd.web.ui.access import role_required
from crowd.web.ui.review_forms import ResolveForm, ReviewActionForm

ITEM = f"<int(min=1, max={PUBLIC_ID_MAX}):item_id>"
LEFT_CAP = 1000  # "items left" is counted up to this many
GONE = "That item is no longer in this project's review queue (another expert may " \
       "have resolved it); here is the next one."
TAKEN = "Another expert resolved that item while you were looking at it, so your " \
        "decision was not saved; here is the next one."


@bp.get("/review/<int:project_id>")
@role_required("expert", "admin", project="review")
def review(project_id: int) -> Any:
    project = projects.get_project(db.session, project_id)
    entry = review_page.queue_head(db.session, project_id, review_skips.skipped(project_id))
    return _page(project, entry, ResolveForm())


@bp.get(f"/review/<int:project_id>/{ITEM}")
@role_required("expert", "admin", project="review")
def review_item(project_id: int, item_id: int) -> Any:
    """One item of the queue by its opaque id (a skipped one, from the page's list)."""
    project = projects.get_project(db.session, project_id)
    entry = review_page.queue_entry(db.session, project_id, item_id)
    if entry is None:
        flash(GONE, "error")
        return redirect(url_for("ui.review", project_id=project_id))
    return _page(project, entry, ResolveForm())


@bp.post(f"/review/<int:project_id>/{ITEM}")
@role_required("expert", "admin", project="review")
def review_resolve(project_id: int, item_id: int) -> Any:
    """Resolve the item with opaque id ``item_id``; then the next item follows."""
    form = ResolveForm()
    if not form.validate_on_submit():
        problems = [m for f in (form.label, form.note) for m in f.errors]
        return _again(project_id, item_id, form, " ".join(problems) or "Please try again.")
    body = {"label": form.label.data, "note": form.note.data or None,
            "promote_to_gold": bool(form.promote_to_gold.data)}
    try:
        result = reviews.resolve(db.session, item_id, body, current_user, runtime.now(),
                                 project_id=project_id)
    except CrowdError as refusal:
        db.session.rollback()  # resolve may hold the item's row lock
        if isinstance(refusal, InvalidInput):
            return _again(project_id, item_id, form, refusal.message)
        flash(TAKEN if refusal.code == "already_resolved" else GONE, "error")
        return redirect(url_for("ui.review", project_id=project_id))
    review_skips.forget(project_id, item_id)
    gold = " and promoted to gold" if result["promoted_to_gold"] else ""
    flash(f"{result['external_id']} resolved as “{result['label']}”{gold}.", "success")
    return redirect(url_for("ui.review", project_id=project_id))


@bp.post(f"/review/<int:project_id>/{ITEM}/skip")
@role_required("expert", "admin", project="review")
def review_skip(project_id: int, item_id: int) -> Any:
    """Send the item to the back of this expert's queue."""
    if not ReviewActionForm().validate_on_submit():
        flash("That skip could not be read; please try again.", "error")
    elif review_page.queue_entry(db.session, project_id, item_id) is None:
        flash(GONE, "error")
    else:
        review_skips.skip(project_id, item_id)
    return redirect(url_for("ui.review", project_id=project_id))


@bp.post("/review/<int:project_id>/unskip")
@role_required("expert", "admin", project="review")
def review_unskip(project_id: int) -> Any:
    """Put the skipped items back in their places in the queue."""
    if ReviewActionForm().validate_on_submit():
        review_skips.clear(project_id)
        flash("The items you skipped are back in their places in the queue.", "success")
    return redirect(url_for("ui.review", project_id=project_id))


def _again(project_id: int, item_id: int, form: ResolveForm, problem: str) -> Any:
    """The same item again, with what the expert typed and what was wrong (422)."""
    project = projects.get_project(db.session, project_id)
    entry = review_page.queue_entry(db.session, project_id, item_id)
    if entry is None:
        flash(GONE, "error")
        return redirect(url_for("ui.review", project_id=project_id))
    flash(f"Not resolved: {problem}", "error")
    return _page(project, entry, form, 422)


def _page(project: Project, entry: dict[str, Any] | None, form: ResolveForm,
          status: int = 200) -> Any:
    skips = review_skips.skipped(project.id)
    skipped = review_page.still_skipped(db.session, project.id, skips)
    review_skips.keep_only(project.id, [s.id for s in skipped])
    data = entry["item"]["data"] if entry else {}
    return render_template(
        "review.html", project=project, entry=entry, form=form, actions=ReviewActionForm(),
        blocks=layout(data, current_app.config["IMAGE_ORIGINS"]),
        bars=_bars(project, entry), left_cap=LEFT_CAP,
        left=review_page.left_in_review(db.session, project.id, LEFT_CAP),
        skipped=skipped, was_skipped=bool(entry) and entry["item"]["id"] in skips,
    ), status


def _bars(project: Project, entry: dict[str, Any] | None) -> list[tuple[str, float]]:
    """The posterior per label, in the project's label order (its buttons' order)."""
    posterior = (entry or {}).get("posterior") or {}
    return [(label, float(posterior.get(label, 0.0))) for label in project.labels] \
        if posterior else []
