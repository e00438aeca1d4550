"""What a new password must be: long enough and not one everybody tries first."""
from __future__ import annotations

from functools import cache
from pathlib import Path

MIN_PASSWORD = 10
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (lower case): passwords of 10+ characters seen most in leaks,
    the obvious keyboard walks and digit runs, and their Password123 variants."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why ``password`` may not be set, or None."""
    if len(password) < MIN_PASSWORD:
        return f"password must have at least {MIN_PASSWORD} characters"
    folded = password.lower()
    if folded in common_passwords():
        return "password is one of the most common passwords; choose another"
    if len(set(folded)) == 1:
        return "password must not be one character repeated"
    if username and username.lower() in folded:
        return "password must not contain the username"
    return None
