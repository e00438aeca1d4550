"""Project settings: defaults and validation (pure)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from crowd.domain.errors import InvalidInput
from crowd.domain.fraud.settings import FRAUD_SETTINGS
from crowd.domain.text import MAX_LABEL, clean_text

MAX_LABEL_LENGTH = MAX_LABEL
MAX_LABELS = 100


@dataclass(frozen=True)
class Setting:
    """One project setting: its type, default and allowed range."""

    name: str
    kind: type
    default: Any
    low: float
    high: float


SETTINGS: tuple[Setting, ...] = (
    Setting("redundancy", int, 3, 1, 100),
    Setting("max_redundancy", int, 5, 1, 100),
    Setting("confidence_threshold", float, 0.95, 0.0, 1.0),
    Setting("gold_rate", float, 0.1, 0.0, 1.0),
    Setting("lease_seconds", int, 600, 1, 7 * 24 * 3600),
    Setting("qualification_size", int, 10, 0, 1000),
    Setting("qualification_accuracy", float, 0.8, 0.0, 1.0),
    Setting("min_accuracy", float, 0.7, 0.0, 1.0),
    Setting("drift_window", int, 20, 1, 10000),
    Setting("review_rate", float, 0.0, 0.0, 1.0),
    # The fraud rules' switches and thresholds (0 turns a rule off): see
    # crowd.domain.fraud.settings.
    *(Setting(*spec) for spec in FRAUD_SETTINGS),
)


@dataclass(frozen=True)
class Switch:
    """A project setting that is on or off (JSON ``true`` or ``false``, nothing else)."""

    name: str
    default: bool
    help: str


SWITCHES: tuple[Switch, ...] = (
    Switch("allow_undo", False,
           "a worker may take back their last work answer while its lease lives "
           "(POST /assignments/<id>/undo); never answers given with feedback"),
)
SETTING_NAMES = tuple(s.name for s in SETTINGS) + tuple(s.name for s in SWITCHES)


def validate_labels(labels: Any) -> list[str]:
    """The project's classes: 2 to 100 distinct non-empty strings."""
    if not isinstance(labels, list):
        raise InvalidInput("labels must be a list of strings", code="invalid_labels")
    if not 2 <= len(labels) <= MAX_LABELS:
        raise InvalidInput(f"labels must hold 2 to {MAX_LABELS} classes", code="invalid_labels")
    for index, label in enumerate(labels):
        if not isinstance(label, str) or not label.strip():
            raise InvalidInput("every label must be a non-empty string", code="invalid_labels")
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidInput(
                f"labels are at most {MAX_LABEL_LENGTH} characters", code="invalid_labels"
            )
        clean_text(label, f"labels[{index}]", code="invalid_labels")
    if len(set(labels)) != len(labels):
        raise InvalidInput("labels must be distinct", code="invalid_labels")
    return list(labels)


def validate_settings(values: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check the given settings, fill defaults, and return the full set.

    ``current`` holds the stored settings when patching; the cross-field rule
    (``max_redundancy >= redundancy``) is checked on the merged result.
    Raises ``InvalidInput`` naming the first bad field.
    """
    merged = dict(current) if current else {
        s.name: s.default for s in (*SETTINGS, *SWITCHES)}
    for setting in SETTINGS:
        if setting.name not in values:
            continue
        merged[setting.name] = _setting_value(setting, values[setting.name])
    for switch in SWITCHES:
        if switch.name in values:
            if not isinstance(values[switch.name], bool):
                raise InvalidInput(f"{switch.name} must be true or false",
                                   code="invalid_setting")
            merged[switch.name] = values[switch.name]
    if merged["max_redundancy"] < merged["redundancy"]:
        raise InvalidInput("max_redundancy must be at least redundancy", code="invalid_setting")
    if merged["fast_answer_count"] > merged["fast_answer_window"]:
        raise InvalidInput("fast_answer_count must be at most fast_answer_window",
                           code="invalid_setting")
    return merged


def _setting_value(setting: Setting, raw: Any) -> Any:
    """``raw`` as the setting's type, or ``InvalidInput``.

    Booleans are not numbers; NaN and infinities are refused; the range is
    checked on the number as sent, before any conversion, so an integer of any
    size is refused rather than overflowing ``float``.
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise InvalidInput(f"{setting.name} must be a number", code="invalid_setting")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise InvalidInput(f"{setting.name} must be a finite number", code="invalid_setting")
    if not setting.low <= raw <= setting.high:
        raise InvalidInput(
            f"{setting.name} must be between {setting.low:g} and {setting.high:g}",
            code="invalid_setting",
        )
    if setting.kind is int and isinstance(raw, float) and not raw.is_integer():
        raise InvalidInput(f"{setting.name} must be a whole number", code="invalid_setting")
    return setting.kind(raw)


@dataclass(frozen=True)
class ProjectRules:
    """The settings the domain decisions need, detached from the database row."""

    labels: tuple[str, ...]
    redundancy: int
    max_redundancy: int
    confidence_threshold: float
    gold_rate: float
    lease_seconds: int
    qualification_size: int
    qualification_accuracy: float
    min_accuracy: float
    drift_window: int
    review_rate: float

    @classmethod
    def of(cls, project: Any) -> ProjectRules:
        """Read the rules off any object with the setting attributes."""
        names = [f.name for f in fields(cls) if f.name != "labels"]
        return cls(labels=tuple(project.labels), **{n: getattr(project, n) for n in names})
