"""The client-text helper and the JSON walker (pure: no app, no database)."""
from __future__ import annotations

from typing import Any

import pytest

from crowd.domain.errors import InvalidInput
from crowd.domain.settings import SETTINGS, validate_labels, validate_settings
from crowd.domain.text import (
    MAX_INTEGER,
    check_json,
    clean_text,
    text_problem,
    whole_number,
)


@pytest.mark.parametrize(("value", "problem"), [
    ("plain", None), ("é \U0001F600 \u00b2", None), ("", None),
    ("\ud800", "surrogate"), ("a\udfff", "surrogate"), ("\udfff\ud800", "surrogate"),
    ("a\u0000", "NUL"),
])
def test_text_problem(value: str, problem: str | None) -> None:
    found = text_problem(value)
    assert (found is None) if problem is None else (problem in (found or ""))
    if problem is None:
        value.encode("utf-8")  # what text_problem promises


def test_clean_text_keeps_the_field_code_for_length_and_invalid_text_for_characters() -> None:
    assert clean_text("ok", "name", 5) == "ok"
    with pytest.raises(InvalidInput) as long:
        clean_text("x" * 6, "name", 5, code="invalid_name")
    assert (long.value.code, long.value.details) == ("invalid_name", {"field": "name"})
    with pytest.raises(InvalidInput) as bad:
        clean_text("\ud800", "name", 5, code="invalid_name")
    assert bad.value.code == "invalid_text" and "name" in bad.value.message


@pytest.mark.parametrize(("value", "code", "path"), [
    ({"labels": ["a", "b\udfff"]}, "invalid_text", "labels[1]"),
    ({"a": {"b c": [0, "\u0000"]}}, "invalid_text", "a['b c'][1]"),
    ({"a": {"\ud800": 1}}, "invalid_text", "a"),
    ({"n": MAX_INTEGER + 1}, "invalid_number", "n"),
    ({"n": -(10**400)}, "invalid_number", "n"),
    ({"f": float("nan")}, "invalid_number", "f"),
    ({"f": float("-inf")}, "invalid_number", "f"),
    ("\ud800", "invalid_text", "the body"),
])
def test_check_json_names_the_first_offender(value: Any, code: str, path: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_json(value, "")
    assert refused.value.code == code
    assert refused.value.details == {"field": path}


def test_check_json_accepts_what_can_be_stored() -> None:
    check_json({"a": [1, 2.5, -MAX_INTEGER, True, None, "\U0001F600", {"": ""}]}, "")


def test_check_json_walks_nesting_far_past_the_recursion_limit() -> None:
    value: Any = []
    for _ in range(200_000):
        value = [value]
    with pytest.raises(InvalidInput) as refused:
        check_json(value, "", max_depth=64)
    assert refused.value.code == "too_deep"
    check_json(value, "", max_depth=300_000)  # no RecursionError either way


@pytest.mark.parametrize(("text", "expected"), [
    ("0", 0), ("42", 42), ("100", 100), ("101", None), ("\u00b2", None), ("-1", None),
    ("", None), (" 1", None), ("9" * 5000, None), ("1.0", None),
])
def test_whole_number(text: str, expected: int | None) -> None:
    assert whole_number(text, 100) == expected


@pytest.mark.parametrize("setting", [s.name for s in SETTINGS])
@pytest.mark.parametrize("raw", [10**400, -(10**400), float("nan"), float("inf"), True, "1"])
def test_every_setting_refuses_what_no_column_holds(setting: str, raw: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_settings({setting: raw})
    assert refused.value.code == "invalid_setting" and setting in refused.value.message


def test_labels_with_a_surrogate_are_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_labels(["ok", "a\udfff"])
    assert refused.value.code == "invalid_text" and "labels[1]" in refused.value.message
