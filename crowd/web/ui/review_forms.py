"""The review page's forms (CSRF-protected; bounds as in ``crowd.web.ui.forms``)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from crowd.domain.text import MAX_LABEL, MAX_NOTE


class ResolveForm(FlaskForm):
    # sent by the clicked label button
    label = StringField(validators=[DataRequired("Choose one of the labels."),
                                    Length(max=MAX_LABEL)])
    note = TextAreaField("Note (optional)", validators=[
        Length(max=MAX_NOTE, message=f"The note is longer than {MAX_NOTE} characters.")])
    promote_to_gold = BooleanField("Promote to gold")


class ReviewActionForm(FlaskForm):
    """An empty form: skipping an item, or putting the skipped ones back, is a POST
    with a CSRF token."""
