"""Too-fast answers: ``count`` of the last ``window`` answers reported under a floor (pure).

Toloka's "fast responses" rule, per answer: among the worker's last
``fast_answer_window`` (10) work-mode answers, gold and work alike, the rule
fires when ``fast_answer_count`` (4) or more were reported under
``fast_answer_ms`` (1,000 ms). Answers come with the duration the client
measured (``duration_ms``; the worker page always sends it); an answer without
one is not timed and never counts as fast.

**False alarms.** If an honest worker's answer falls under the floor with
probability q, independently, the rule fires at a given answer only if the
window then holds at least ``count`` fast answers, so the false alarms per
1,000 answers are at most ``1000 * P(Binomial(window, q) >= count)``
(``false_alarms_per_thousand``, exact). With the defaults: q = 0.01 gives
0.0002 per 1,000 answers, q = 0.05 gives 1.0; a floor should therefore sit
where honest workers rarely are (Toloka's advice: the time a random click
takes, or half the fastest honest time). For a person whose reported times are
log-normal with median 4 s and a spread of 0.5 in log terms (the simulator's
people), q = P(T < 1 s) = 0.0028 and the rate is 1.3e-5 per 1,000 answers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crowd.domain.fraud.stats import binomial_sf


@dataclass(frozen=True)
class SpeedVerdict:
    """What the rule found in the window: fast answers, when the first came, the times."""

    fast: int
    window: int
    onset: datetime
    fast_ms: list[int]


def too_fast(times: Sequence[tuple[datetime, int | None]], floor_ms: int, count: int,
             window: int) -> SpeedVerdict | None:
    """The verdict when ``count`` of the last ``window`` answers were under ``floor_ms``.

    ``times``: (answered at, reported duration or None) of the worker's answers,
    oldest first. None when the rule is off (floor 0) or does not fire.
    """
    if floor_ms <= 0 or len(times) < count:
        return None
    recent = list(times)[-window:]
    fast = [(at, ms) for at, ms in recent if ms is not None and ms < floor_ms]
    if len(fast) < count:
        return None
    return SpeedVerdict(len(fast), len(recent), fast[0][0], [int(ms) for _, ms in fast])


def false_alarms_per_thousand(q: float, count: int, window: int) -> float:
    """Upper bound on the rule's alarms per 1,000 answers of an honest worker who
    answers under the floor with probability ``q``, independently."""
    return 1000.0 * binomial_sf(count, window, q)
