"""Users, passwords and API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from crowd.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from crowd.domain.passwords import MIN_PASSWORD, password_problem
from crowd.domain.text import MAX_PASSWORD, clean_text, text_problem
from crowd.persistence import ROLES, ApiToken, User, iso, utcnow
from crowd.persistence.token_cache import cache_for
from crowd.services import throttle

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,80}$")
DEFAULT_TOKEN_DAYS = 30
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
    checked_password(password, username)
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


def checked_password(password: object, username: str | None = None) -> str:
    """``password`` if it may be set: 10+ characters, not a common one; else ``InvalidInput``."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"password must be a string of {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            code="invalid_password",
        )
    clean_text(password, "password", code="invalid_password")
    problem = password_problem(password, username)
    if problem:
        raise InvalidInput(problem, code="invalid_password")
    return password


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


def log_in(session: Session, username: object, password: object, address: str | None,
           now: datetime) -> User | None:
    """``authenticate`` behind the login throttle: a try while the account or the
    address must wait is ``TooManyRequests`` and runs no hash."""
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    slot = throttle.take_slot(session, username, address, now)
    account = authenticate(session, username, password)
    if account is not None:
        throttle.succeeded(session, slot)
    return account


def issue_token(session: Session, user: User, now: datetime | None = None,
                days: int = DEFAULT_TOKEN_DAYS) -> str:
    """A new API token for ``user``, living ``days``; only its digest is stored."""
    return issue_token_row(session, user, now, days)[0]


def issue_token_row(session: Session, user: User, now: datetime | None = None,
                    days: int = DEFAULT_TOKEN_DAYS) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    now = now or utcnow()
    token = ApiToken(user_id=user.id, token_hash=_token_digest(raw), created_at=now,
                     expires_at=now + timedelta(days=days))
    session.add(token)
    session.commit()
    return raw, token


def user_for_token(session: Session, raw: str, now: datetime | None = None) -> User | None:
    """The active user behind a live, unexpired token: from the process's token
    cache when it holds it (no statement), else one query, then cached."""
    now = now or utcnow()
    digest = _token_digest(raw)
    cache = cache_for(session)
    if cache is not None:
        cached = cache.user(session, digest, now)
        if cached is not None:
            return cached
    row = session.execute(
        select(User, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == digest,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    if cache is not None:
        cache.keep(digest, row[0], row[1], now)
    return row[0]


def revoke_token(session: Session, raw: str) -> None:
    """Revoke a token (logging out a client)."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(raw)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.commit()


def token_json(token: ApiToken, current: bool = False) -> dict[str, Any]:
    return {"id": token.id, "created_at": iso(token.created_at),
            "expires_at": iso(token.expires_at), "revoked_at": iso(token.revoked_at),
            "current": current}


def list_tokens(session: Session, user: User, raw: str, now: datetime) -> list[dict[str, Any]]:
    """The user's live tokens, newest first; ``current`` marks the one asking."""
    digest = _token_digest(raw)
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                               ApiToken.expires_at > now).order_by(ApiToken.id.desc()))
    return [token_json(token, token.token_hash == digest) for token in tokens]


def revoke_token_by_id(session: Session, user: User, token_id: int, now: datetime) -> None:
    """Revoke one of the user's own tokens; another user's is ``NotFound``."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound(f"token {token_id} not found")
    token.revoked_at = now
    session.commit()


def end_sessions(session: Session, user: User) -> None:
    """Every browser session of ``user`` ends (each carries the old version)."""
    session.execute(update(User).where(User.id == user.id)
                    .values(session_version=User.session_version + 1))
    session.commit()


def _revoke_all(session: Session, user_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id,
                                           ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now))
    session.execute(update(User).where(User.id == user_id)
                    .values(session_version=User.session_version + 1))


def find_user(session: Session, user_id: int) -> User:
    account = session.get(User, user_id)
    if account is None:
        raise NotFound(f"user {user_id} not found")
    return account


def change_user(session: Session, account: User, body: Any, actor: User | None,
                now: datetime) -> User:
    """An admin's (or the operator's) change to an account: ``active`` and/or a new
    ``password``. Deactivating or resetting ends every session and token it has."""
    if actor is not None and actor.role != "admin":
        raise Forbidden("only an admin can change an account")
    if not isinstance(body, dict) or not body:
        raise InvalidInput("the body must be a JSON object with active and/or password",
                           code="invalid_body")
    unknown = set(body) - {"active", "password"}
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", code="unknown_field")
    if "active" in body and not isinstance(body["active"], bool):
        raise InvalidInput("active must be true or false", code="invalid_active")
    if "password" in body:
        account.password_hash = generate_password_hash(
            checked_password(body["password"], account.username), method="scrypt")
    if "active" in body:
        account.active = body["active"]
    if "password" in body or body.get("active") is False:
        session.flush()
        _revoke_all(session, account.id, now)
    session.commit()
    session.refresh(account)
    return account
