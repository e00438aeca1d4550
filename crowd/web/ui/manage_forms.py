"""The forms of the manager's project, member and item pages, and what each project
setting means (shown beside its field).

A project form carries every setting of ``crowd.domain.settings.SETTINGS`` as text:
what was typed is kept, and turned into the API's body (numbers, a label list) for
``crowd.services.projects``, which alone decides what is valid.
"""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from crowd.domain.access import ENROLLMENTS, PROJECT_ROLES
from crowd.domain.fraud.settings import FRAUD_SETTING_HELP
from crowd.domain.settings_help import SETTING_HELP
from crowd.domain.errors import InvalidInput
from crowd.domain.settings import (
    SETTING_NAMES,
    SETTINGS,
    SWITCHES,
    validate_labels,
    validate_settings,
)
from crowd.domain.text import MAX_GUIDELINES, MAX_PROJECT_NAME

MAX_NUMBER_TEXT = 40
MAX_LABELS_TEXT = 30_000
MAX_PASTE = 100_000

GROUPS = (
    ("Redundancy and confidence", ("redundancy", "max_redundancy", "confidence_threshold",
                                   "review_rate", "lease_seconds")),
    ("Gold, qualification and drift", ("gold_rate", "qualification_size",
                                       "qualification_accuracy", "min_accuracy",
                                       "drift_window")),
    ("Fraud rules", tuple(name for name in FRAUD_SETTING_HELP)),
)
SWITCH_HINTS = {switch.name: f"{switch.help} (default {'on' if switch.default else 'off'})"
                for switch in SWITCHES}
def _shown(value: float, kind: type) -> str:
    return f"{int(value):,}" if kind is int else f"{value:g}"


SETTING_HINTS = {
    s.name: f"{SETTING_HELP[s.name]} (default {_shown(s.default, s.kind)}; "
            f"{_shown(s.low, s.kind)} to {_shown(s.high, s.kind)}"
            f"{', a whole number' if s.kind is int else ''})"
    for s in SETTINGS
}
ENROLLMENT_HELP = {
    "open": "any active worker may start working on the project",
    "invite": "only the workers listed as members may work on it",
}


def split_labels(text: str) -> list[str]:
    """Labels typed one a line or separated by commas, trimmed, blanks dropped."""
    return [part.strip() for line in text.splitlines() for part in line.split(",")
            if part.strip()]


def number(text: str) -> Any:
    """The number typed (an int when it is whole digits), else the text as it is,
    for the API's validation to refuse with its own message."""
    cleaned = text.strip()
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        return float(cleaned)
    except ValueError:
        return cleaned


class _ProjectFields(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_PROJECT_NAME)])
    labels = TextAreaField("Labels", validators=[DataRequired(), Length(max=MAX_LABELS_TEXT)])
    guidelines = TextAreaField("Guidelines (Markdown)", validators=[Length(max=MAX_GUIDELINES)])
    enrollment = SelectField("Enrollment", choices=list(ENROLLMENTS))


ProjectForm = type("ProjectForm", (_ProjectFields,), {
    **{setting.name: StringField(setting.name.replace("_", " ").capitalize(),
                                 validators=[Length(max=MAX_NUMBER_TEXT)],
                                 default=str(setting.default))
       for setting in SETTINGS},
    **{switch.name: BooleanField(switch.name.replace("_", " ").capitalize(),
                                 default=switch.default)
       for switch in SWITCHES},
})


def project_body(form: Any, *, with_labels: bool = True) -> dict[str, Any]:
    """The API body for ``form``: blank settings are left out (their default on
    creation, unchanged on an edit)."""
    body: dict[str, Any] = {"name": form.name.data, "guidelines": form.guidelines.data or "",
                            "enrollment": form.enrollment.data}
    if with_labels:
        body["labels"] = split_labels(form.labels.data or "")
    for setting in SETTINGS:
        text = getattr(form, setting.name).data or ""
        if text.strip():
            body[setting.name] = number(text)
    for switch in SWITCHES:
        body[switch.name] = bool(getattr(form, switch.name).data)
    return body


# Stored settings under which any single value in range passes the cross-field rules,
# so that each field can be checked alone and every bad one shown at once.
_PERMISSIVE = {**{s.name: s.default for s in SETTINGS}, "redundancy": 1,
               "max_redundancy": 100, "fast_answer_count": 1, "fast_answer_window": 100}
FORM_FIELDS = ("name", "labels", "guidelines", "enrollment", *SETTING_NAMES)


def field_errors(body: dict[str, Any]) -> dict[str, str]:
    """Each field of ``body`` the domain refuses on its own, with why (the final word
    is the service's, which also checks the rules between fields)."""
    errors = {}
    for name in SETTING_NAMES:
        if name in body:
            try:
                validate_settings({name: body[name]}, _PERMISSIVE)
            except InvalidInput as refusal:
                errors[name] = refusal.message
    if "labels" in body:
        try:
            validate_labels(body["labels"])
        except InvalidInput as refusal:
            errors["labels"] = refusal.message
    return errors


def refused_field(message: str) -> str:
    """The form field a service's refusal names first ("" when it names none)."""
    word = message.split(" ", 1)[0].split("[", 1)[0]
    return word if word in FORM_FIELDS else ""


class MembersForm(FlaskForm):
    usernames = TextAreaField("Usernames, one a line",
                              validators=[DataRequired(), Length(max=MAX_PASTE)])
    role = SelectField("Project role", choices=list(reversed(PROJECT_ROLES)))


class EnrollmentForm(FlaskForm):
    enrollment = SelectField("Enrollment", choices=list(ENROLLMENTS))


class PlainForm(FlaskForm):
    """A button that posts with a CSRF token and nothing else (remove a member)."""


class UploadForm(FlaskForm):
    file = FileField("Items file (CSV or JSONL)", validators=[FileRequired("Choose a file.")])
    format = SelectField("Format", choices=[SelectChoice("", "from the file name"),
                                            SelectChoice("csv", "CSV"),
                                            SelectChoice("jsonl", "JSONL"),
                                            SelectChoice("json", "JSON")], default="")
    skip_invalid = BooleanField("Import the valid rows even if some are invalid")
