"""Users, passwords and API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from crowd.domain.errors import Conflict, Forbidden, InvalidInput
from crowd.domain.text import MAX_PASSWORD, clean_text, text_problem
from crowd.persistence import ROLES, ApiToken, User, utcnow

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,80}$")
MIN_PASSWORD = 8
# A timing-equaliser for unknown usernames: checking against a real hash costs
# the same as checking a real user's password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


def _token_digest(raw: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: no salt or
    # stretching is needed to stop guessing.
    return hashlib.sha256(raw.encode()).hexdigest()


def generate_password() -> str:
    """A random password for a new user."""
    return secrets.token_urlsafe(12)


def create_user(
    session: Session, username: object, password: object, role: object, *, actor: User | None = None
) -> User:
    """Create a user; ``actor`` None means the command line (the operator).

    A manager may create workers and experts; only an admin (or the operator)
    creates managers and admins.
    """
    if not isinstance(username, str) or not USERNAME_RE.fullmatch(username):
        raise InvalidInput(
            "username must be 1-80 letters, digits or . _ @ -", code="invalid_username"
        )
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"password must be a string of {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            code="invalid_password",
        )
    clean_text(password, "password", code="invalid_password")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    if actor is not None and actor.role != "admin" and role in ("manager", "admin"):
        raise Forbidden("only an admin can create managers and admins")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken", code="username_taken")
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method="scrypt"),
        role=str(role),
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"username {username!r} is taken", code="username_taken") from None
    return user


def authenticate(session: Session, username: object, password: object) -> User | None:
    """The active user with these credentials, or None."""
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    if text_problem(username) or text_problem(password) or len(password) > MAX_PASSWORD:
        return None  # no such user could exist (nor be looked up: PostgreSQL refuses NUL)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def issue_token(session: Session, user: User) -> str:
    """A new API token for ``user``; only its digest is stored."""
    raw = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_digest(raw)))
    session.commit()
    return raw


def user_for_token(session: Session, raw: str) -> User | None:
    """The active user behind a live token, in one query."""
    return session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == _token_digest(raw),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )


def revoke_token(session: Session, raw: str) -> None:
    """Revoke a token (logging out a client)."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.commit()
