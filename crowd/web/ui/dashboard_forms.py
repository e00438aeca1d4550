"""Forms of the manager's dashboard and worker pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from crowd.domain.overrides import OVERRIDE_STATES
from crowd.domain.text import MAX_REASON


class OverrideForm(FlaskForm):
    """One state change of a worker (the button says which), with its reason."""

    state = HiddenField(validators=[DataRequired(), AnyOf(OVERRIDE_STATES)])
    reason = StringField("Reason (recorded in the state history)",
                         validators=[DataRequired(), Length(max=MAX_REASON)])
