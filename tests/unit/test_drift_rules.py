"""The binomial test and change point behind the Dawid-Skene check, and the gold
audit: the pure rules, with no database. (The CUSUMs: tests/unit/test_sequential.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

from crowd.domain.drift import binomial_cdf, change_point
from crowd.domain.gold_audit import (
    FLAG_P_VALUE,
    MIN_MISSES,
    poisson_binomial_tail,
    suspicious,
)

# -- the binomial test ----------------------------------------------------------


def test_binomial_cdf_matches_the_sum_written_out():
    # P(X <= 2 | n=10, p=0.7) = 0.3^10 + 10 * 0.7 * 0.3^9 + 45 * 0.7^2 * 0.3^8
    by_hand = 0.3**10 + 10 * 0.7 * 0.3**9 + 45 * 0.7**2 * 0.3**8
    assert binomial_cdf(2, 10, 0.7) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.0015903864, rel=1e-9)


def test_binomial_cdf_edges():
    assert binomial_cdf(-1, 10, 0.7) == 0.0
    assert binomial_cdf(10, 10, 0.7) == 1.0
    assert binomial_cdf(12, 10, 0.7) == 1.0
    assert binomial_cdf(0, 5, 0.5) == pytest.approx(1 / 32)
    pmf = [math.comb(20, k) * 0.85**k * 0.15 ** (20 - k) for k in range(21)]
    assert [binomial_cdf(k, 20, 0.85) for k in range(20)] == pytest.approx(
        list(np.cumsum(pmf)[:20]), rel=1e-12)


# -- where the drop began ---------------------------------------------------------


def test_change_point_finds_the_start_of_the_drop():
    assert change_point([True] * 10 + [False] * 8) == 10
    # Noise before and after still leaves the split where the rate changes.
    before = [True, True, False, True, True, True, True, True, True, True]
    after = [False, False, True, False, False, False, False, False]
    assert change_point(before + after) == 10


def test_change_point_without_a_drop_is_zero():
    assert change_point([]) == 0
    assert change_point([False]) == 0
    assert change_point([True] * 8) == 0
    assert change_point([False] * 5 + [True] * 5) == 0  # an improvement is no drop


# -- gold the workers say is wrong -----------------------------------------------


def test_poisson_binomial_tail_by_hand():
    # Two answers missing with 0.1 and 0.2: P(>=1) = 1 - 0.9 * 0.8 = 0.28,
    # P(>=2) = 0.1 * 0.2 = 0.02.
    probs = np.array([0.1, 0.2])
    assert poisson_binomial_tail(probs, 0) == pytest.approx(1.0)
    assert poisson_binomial_tail(probs, 1) == pytest.approx(0.28)
    assert poisson_binomial_tail(probs, 2) == pytest.approx(0.02)
    assert poisson_binomial_tail(probs, 3) == 0.0


def test_poisson_binomial_with_equal_chances_is_the_binomial_tail():
    probs = np.full(12, 0.3)
    for k in range(13):
        assert poisson_binomial_tail(probs, k) == pytest.approx(
            1 - binomial_cdf(k - 1, 12, 0.3), abs=1e-12)


def test_gold_missed_by_reliable_workers_is_suspicious():
    # Five workers who miss this class 10% of the time all miss: 0.1^5 = 1e-5.
    flagged, p_value = suspicious(np.full(5, 0.1), np.ones(5, dtype=bool))
    assert flagged and p_value == pytest.approx(1e-5)


def test_misses_that_careless_workers_would_make_are_not():
    # Workers who miss half the time: five misses of five has p = 1/32.
    flagged, p_value = suspicious(np.full(5, 0.5), np.ones(5, dtype=bool))
    assert not flagged and p_value == pytest.approx(1 / 32) and p_value > FLAG_P_VALUE


def test_too_few_misses_never_flag_however_unlikely():
    assert MIN_MISSES == 3
    flagged, p_value = suspicious(np.array([0.001, 0.001, 0.2]),
                                  np.array([True, True, False]))
    assert not flagged and p_value < FLAG_P_VALUE
    flagged, _ = suspicious(np.full(3, 0.001), np.ones(3, dtype=bool))
    assert flagged
