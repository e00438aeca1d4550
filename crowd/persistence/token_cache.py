"""A per-process cache of the user behind each bearer token, for a few seconds.

Every API request starts by finding the user behind its token. A worker's loop
sends two requests a second, so that lookup is one of the few statements of
``next`` and ``answer``; the cache answers it from memory for up to
``TOKEN_CACHE_SECONDS`` (and never past the token's own expiry).

Any write to ``users`` or ``api_tokens`` sent through this engine (a revoked
token, a deactivation, a password reset, a logout) empties this process's cache
at once and again when it commits, so in one process a dead token is refused on
the next request. Another process learns of it within ``TOKEN_CACHE_SECONDS``:
that is the price of the saved statement, documented in the README.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from crowd.persistence.accounts import User

# Bounded so that a client trying many tokens cannot grow the process without end.
MAX_ENTRIES = 10_000
_WATCHED = ("UPDATE users ", "UPDATE api_tokens ", "DELETE FROM users ",
            "DELETE FROM api_tokens ")
_CACHES: WeakKeyDictionary[Engine, TokenCache] = WeakKeyDictionary()


@dataclass(frozen=True)
class _Entry:
    until: datetime
    columns: dict[str, Any]


class TokenCache:
    """Token digest -> the user's column values, each until a deadline."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def user(self, session: Session, digest: str, now: datetime) -> User | None:
        """The cached user for ``digest``, attached to ``session`` without a query."""
        entry = self._entries.get(digest)
        if entry is None or entry.until <= now:
            return None
        key = (User, (entry.columns["id"],), None)
        present = session.identity_map.get(key)
        if present is not None:
            return present  # type: ignore[no-any-return]
        account = User(**entry.columns)
        make_transient_to_detached(account)
        session.add(account)
        return account

    def keep(self, digest: str, account: User, token_expires_at: datetime,
             now: datetime) -> None:
        """Remember ``account`` for ``digest`` until the sooner of the TTL and the expiry."""
        if self.seconds <= 0:
            return
        columns = {attr.key: getattr(account, attr.key)
                   for attr in inspect(User).column_attrs}
        until = min(now + timedelta(seconds=self.seconds), token_expires_at)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = _Entry(until, columns)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def install(engine: Engine, seconds: float) -> TokenCache:
    """Give ``engine`` a token cache that empties on every write to the account tables."""
    cache = TokenCache(seconds)
    _CACHES[engine] = cache

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(_WATCHED):
            conn.info["crowd_accounts_written"] = True
            cache.clear()

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        # Again at commit: a request that read the old row between the write
        # and the commit may have cached it. (A rolled-back write leaves the mark
        # for the connection's next commit: one needless emptying, no harm.)
        if conn.info.pop("crowd_accounts_written", False):
            cache.clear()

    return cache


def cache_for(session: Session) -> TokenCache | None:
    """The token cache of the engine ``session`` is bound to, if it has one."""
    return _CACHES.get(session.get_bind())  # type: ignore[arg-type]
