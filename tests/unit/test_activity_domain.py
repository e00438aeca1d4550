"""The dashboard's pure pieces: answer-time histograms, series, ETA, override menu."""
from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from crowd.domain import durations
from crowd.domain.activity import daily, eta, hourly, rolling_accuracy
from crowd.domain.overrides import allowed, transitions


@pytest.mark.parametrize("seed", range(5))
def test_the_histogram_median_is_within_its_bucket_ratio_of_the_exact_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = [int(v) for v in rng.lognormal(8, 1.2, size=int(rng.integers(1, 400)))]
    median = durations.median_ms(durations.add({}, values))
    exact = statistics.median(values)
    assert median is not None
    assert exact / durations.RATIO**1.01 - 1 <= median <= exact * durations.RATIO**1.01 + 1


def test_the_histogram_adds_up_and_handles_the_extremes() -> None:
    assert durations.median_ms({}) is None
    kept = durations.add(durations.add({}, [0, 50]), [10**9])
    assert sum(kept.values()) == 3
    assert durations.bucket(10**12) == durations.BUCKETS - 1
    assert durations.median_ms(durations.add({}, [0])) == 50


def test_series_fill_missing_hours_and_days_with_zero() -> None:
    now = datetime(2026, 1, 10, 15, 30, tzinfo=UTC)
    counts = {datetime(2026, 1, 10, 14, tzinfo=UTC): 3, datetime(2026, 1, 9, 1, tzinfo=UTC): 2,
              datetime(2026, 1, 9, 23, tzinfo=UTC): 4}
    hours = hourly(counts, now, 48)
    assert len(hours) == 48 and hours[-1] == (datetime(2026, 1, 10, 15, tzinfo=UTC), 0)
    assert hours[-2][1] == 3 and sum(n for _, n in hours) == 9
    days = daily(counts, now, 30)
    assert len(days) == 30 and days[-1][1] == 3 and days[-2][1] == 6
    assert days[0][0] == datetime(2026, 1, 10, tzinfo=UTC) - timedelta(days=29)


def test_eta_divides_the_backlog_by_the_recent_rate() -> None:
    assert eta(100, 0).finish == "no recent activity"
    assert eta(0, 0).finish == "nothing left to label"
    soon = eta(240, 24 * 60)
    assert soon.rate == 60 and soon.hours == 4 and soon.finish == "about 4 hours"
    assert eta(10, 24 * 60).finish == "about 10 minutes"
    assert eta(24 * 100, 24).finish == "about 100 days"


def test_rolling_accuracy_over_a_window() -> None:
    assert rolling_accuracy([True, False, True, True], window=2) == [1.0, 0.5, 0.5, 1.0]
    assert rolling_accuracy([]) == []


@pytest.mark.parametrize("state", ["qualification", "active", "retraining", "suspended"])
def test_the_override_menu_never_offers_the_current_state(state: str) -> None:
    offered = [t.to_state for t in transitions(state)]
    assert state not in offered and not allowed(state, state)
    assert set(offered) == {"active", "retraining", "suspended"} - {state}


def test_a_suspended_worker_is_offered_reinstate_not_active() -> None:
    names = {t.to_state: t.action for t in transitions("suspended")}
    assert names == {"active": "Reinstate", "retraining": "Retrain"}
