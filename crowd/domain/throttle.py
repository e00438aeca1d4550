"""Back-off for failed logins: a few free tries, then waits that double.

The wait is set *before* the password is checked, so a guesser's next try is
refused without hashing however many clients it runs at once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    """After ``free`` failures in a row the next try waits ``base`` seconds, after each
    later failure twice as long as before, up to ``longest``. A key with no failure for ``forget``
    seconds starts again from nothing."""

    free: int
    base: float = 1.0
    longest: float = 900.0
    forget: float = 3600.0

    def wait(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failures in a row."""
        if failures < self.free:
            return 0.0
        return min(self.base * 2.0 ** min(failures - self.free, 64), self.longest)

    def blocked_until(self, failures: int, now: datetime) -> datetime | None:
        wait = self.wait(failures)
        return now + timedelta(seconds=wait) if wait else None

    def stale(self, last_failure: datetime, now: datetime) -> bool:
        return (now - last_failure).total_seconds() >= self.forget


# Per account: the 3rd failure in a row makes the next try wait 1 s, then 2 s, 4 s ...
# up to 15 minutes (a person mistyping twice never waits; a guesser gets ~12 tries in
# its first hour instead of ~30,000).
ACCOUNT = Backoff(free=3)
# Per client address, over every account it tries: room for an office behind one NAT.
ADDRESS = Backoff(free=20)


def retry_after(blocked_until: datetime, now: datetime) -> int:
    """Whole seconds for the ``Retry-After`` header (at least 1)."""
    return max(1, math.ceil((blocked_until - now).total_seconds()))
