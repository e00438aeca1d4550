"""Labels over time: daily and hourly series, the rate and the ETA (pure)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

RATE_HOURS = 24  # the ETA's rate is the work labels of the last this many hours


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.replace(minute=0, second=0, microsecond=0)


def hourly(counts: Mapping[datetime, int], now: datetime,
           hours: int) -> list[tuple[datetime, int]]:
    """The last ``hours`` hours up to ``now``'s, oldest first, 0 where nothing was counted."""
    last = hour_of(now)
    starts = [last - timedelta(hours=hours - 1 - i) for i in range(hours)]
    return [(start, counts.get(start, 0)) for start in starts]


def daily(counts: Mapping[datetime, int], now: datetime, days: int) -> list[tuple[datetime, int]]:
    """Hour counts summed by UTC day for the last ``days`` days up to today, oldest first."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    by_day: dict[datetime, int] = {}
    for hour, n in counts.items():
        day = hour.replace(hour=0)
        by_day[day] = by_day.get(day, 0) + n
    starts = [today - timedelta(days=days - 1 - i) for i in range(days)]
    return [(start, by_day.get(start, 0)) for start in starts]


@dataclass(frozen=True)
class Eta:
    """When the open items would have all their labels at the recent rate.

    ``rate`` is work labels per hour over the last ``RATE_HOURS`` hours; ``hours``
    is ``labels_needed / rate`` (None when the rate is 0: no recent activity)."""

    labels_needed: int
    rate: float
    hours: float | None

    @property
    def finish(self) -> str:
        """The time left in words."""
        if self.labels_needed == 0:
            return "nothing left to label"
        if self.hours is None:
            return "no recent activity"
        if self.hours < 1:
            return f"about {max(round(self.hours * 60), 1)} minutes"
        if self.hours < 48:
            return f"about {round(self.hours)} hours"
        return f"about {round(self.hours / 24)} days"


def eta(labels_needed: int, recent_work_labels: int, hours: int = RATE_HOURS) -> Eta:
    """The ETA from the labels still wanted and the work labels of the last ``hours``."""
    rate = recent_work_labels / hours if hours > 0 else 0.0
    return Eta(labels_needed, rate, labels_needed / rate if rate > 0 else None)


def rolling_accuracy(correct: list[bool], window: int = 10) -> list[float]:
    """After each gold answer, the share right among the last ``window`` (fewer at
    the start)."""
    out, right = [], 0
    for i, ok in enumerate(correct):
        right += int(ok)
        if i >= window:
            right -= int(correct[i - window])
        out.append(right / min(i + 1, window))
    return out
