"""Login throttling, kept in the database so every process and server agrees.

A try first takes a slot: in one transaction per key it is refused if the key is
waiting (429, no hash run), else the failure is counted and the next wait set,
as if this try will fail. Only then is the password checked; a success clears
the account's count and gives the address its slot back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowd.domain.errors import TooManyRequests
from crowd.domain.throttle import ACCOUNT, ADDRESS, Backoff, retry_after
from crowd.persistence import LoginThrottle


def account_key(username: str) -> str:
    # Hashed: a login name may be anything a client sends, the key has a fixed size.
    return "user:" + hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()


def address_key(address: str | None) -> str:
    return "addr:" + (address or "unknown")[:64]


@dataclass
class Slot:
    """What a try took, to give back on success."""

    keys: list[tuple[str, int, datetime | None, datetime | None]]


def _row(session: Session, key: str) -> LoginThrottle | None:
    return session.scalar(select(LoginThrottle).where(LoginThrottle.key == key)
                          .with_for_update().execution_options(populate_existing=True))


def take_slot(session: Session, username: str, address: str | None, now: datetime) -> Slot:
    """Count this try against the account and the address, or ``TooManyRequests``."""
    pairs: list[tuple[str, Backoff]] = [(account_key(username), ACCOUNT),
                                        (address_key(address), ADDRESS)]
    try:
        return _take(session, pairs, now)
    except IntegrityError:  # two first failures of a key at once: count again, on its row
        session.rollback()
        return _take(session, pairs, now)


def _refuse_if_waiting(session: Session, keys: list[str], now: datetime) -> None:
    """The cheap path a guesser meets: one indexed read, no lock, no ORM objects."""
    until = session.scalar(select(func.max(LoginThrottle.blocked_until))
                           .where(LoginThrottle.key.in_(keys), LoginThrottle.blocked_until > now))
    if until is not None:
        session.rollback()
        raise TooManyRequests("too many failed logins; wait before trying again",
                              code="too_many_logins", retry_after=retry_after(until, now))


def _take(session: Session, pairs: list[tuple[str, Backoff]], now: datetime) -> Slot:
    _refuse_if_waiting(session, [key for key, _ in pairs], now)
    rows = []
    for key, policy in pairs:
        row = _row(session, key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            until = row.blocked_until  # set by a try that ran alongside since the read
            session.rollback()
            raise TooManyRequests(
                "too many failed logins; wait before trying again", code="too_many_logins",
                retry_after=retry_after(until, now))
        rows.append((key, policy, row))
    taken = []
    for key, policy, row in rows:
        if row is None:
            row = LoginThrottle(key=key, failures=0, last_failure_at=now)
            session.add(row)
        elif policy.stale(row.last_failure_at, now):
            row.failures = 0
        taken.append((key, row.failures, row.last_failure_at, row.blocked_until))
        row.failures += 1
        row.last_failure_at = now
        row.blocked_until = policy.blocked_until(row.failures, now)
    session.commit()
    return Slot(taken)


def succeeded(session: Session, slot: Slot) -> None:
    """The password was right: the account starts afresh, the address is as before."""
    (account, *_), *others = slot.keys
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == account))
    for key, failures, last, blocked in others:
        row = _row(session, key)
        if row is not None:
            if failures == 0:
                session.delete(row)
            else:
                row.failures, row.last_failure_at, row.blocked_until = failures, last, blocked
    session.commit()


def unlock(session: Session, username: str) -> bool:
    """An admin's unlock: the account's count is cleared. Whether there was one."""
    gone = session.execute(delete(LoginThrottle).where(
        LoginThrottle.key == account_key(username)))
    session.commit()
    return bool(gone.rowcount)
