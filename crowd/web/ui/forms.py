"""CSRF-protected forms of the browser pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired()])


class AnswerForm(FlaskForm):
    assignment_id = HiddenField(validators=[DataRequired()])
    label = StringField(validators=[DataRequired()])  # sent by the clicked label button
    duration_ms = HiddenField()


class LogoutForm(FlaskForm):
    """An empty form: logging out is a POST with a CSRF token."""


class StateForm(FlaskForm):
    state = SelectField("State", choices=["active", "retraining", "suspended"])
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])


class ResolveForm(FlaskForm):
    label = StringField(validators=[DataRequired()])  # sent by the clicked label button
    note = StringField("Note", validators=[Length(max=2000)])
    promote_to_gold = BooleanField("Promote to gold")
