"""CSRF-protected forms of the browser pages.

Every field has a length bound (the same as the API's, from ``crowd.domain.text``);
NUL in any form field is refused before a view runs (``crowd.web.limits``), and
werkzeug keeps malformed UTF-8 such as ``%ED%A0%80`` as those literal characters,
so no lone surrogate can arrive from a form.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from crowd.domain.text import MAX_LABEL, MAX_PASSWORD, MAX_USERNAME

NUMBER = 20  # characters of a hidden numeric field (ids, durations)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=MAX_USERNAME)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])


class AnswerForm(FlaskForm):
    assignment_id = HiddenField(validators=[DataRequired(), Length(max=NUMBER)])
    # sent by the clicked label button
    label = StringField(validators=[DataRequired(), Length(max=MAX_LABEL)])
    duration_ms = HiddenField(validators=[Length(max=NUMBER)])


class LogoutForm(FlaskForm):
    """An empty form: logging out is a POST with a CSRF token."""

