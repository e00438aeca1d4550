"""The fraud rules' false-alarm rates for honest workers, exactly or by seeded simulation,
and that each catches the worker it is built for.

Every simulation uses a fixed seed; each bound is set so that a fresh seed would
break it with probability below 1e-4 at the rate the module docstring states
(said at each assert).
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from crowd.domain.fraud import sanction_step
from crowd.domain.fraud.collusion import colluding, expected_agreement
from crowd.domain.fraud.majority import false_alarm_bound, majority_clicker
from crowd.domain.fraud.runs import item_bound, run_fires, run_length, shortest_suspect_run
from crowd.domain.fraud.sniffing import disguised, sniffing
from crowd.domain.fraud.speed import false_alarms_per_thousand, too_fast
from crowd.domain.fraud.stats import binomial_sf, most_likely_share, wilson
from crowd.domain.reliability import one_coin_confusion

K = 3
SHARES = np.array([0.6, 0.3, 0.1])  # a skewed class mix
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _labels(rng: np.random.Generator, truth: np.ndarray, accuracy: float) -> np.ndarray:
    right = rng.random(len(truth)) < accuracy
    return np.where(right, truth, (truth + rng.integers(1, K, len(truth))) % K)


def _others(rng: np.random.Generator, truth: np.ndarray, accuracy: float = 0.85) -> np.ndarray:
    """Posteriors (n, K) from two one-coin workers at ``accuracy``."""
    log_post = np.zeros((len(truth), K))
    for _ in range(2):
        lik = np.full((len(truth), K), np.log((1 - accuracy) / (K - 1)))
        lik[np.arange(len(truth)), _labels(rng, truth, accuracy)] = np.log(accuracy)
        log_post += lik
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    return post / post.sum(axis=1, keepdims=True)


def honest_label_mix(accuracy: float, shares: np.ndarray) -> np.ndarray:
    return accuracy * shares + (1 - accuracy) * (1 - shares) / (len(shares) - 1)


def test_binomial_tail_is_exact() -> None:
    assert binomial_sf(0, 10, 0.3) == 1.0 and binomial_sf(11, 10, 0.3) == 0.0
    assert binomial_sf(10, 10, 0.5) == pytest.approx(0.5 ** 10)
    assert binomial_sf(4, 10, 0.01) == pytest.approx(2.0013e-6, rel=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)


# --- too fast ------------------------------------------------------------------------------

def test_too_fast_false_alarm_rates_are_the_stated_ones() -> None:
    assert false_alarms_per_thousand(0.01, 4, 10) == pytest.approx(0.0020, abs=1e-4)
    assert false_alarms_per_thousand(0.05, 4, 10) == pytest.approx(1.03, abs=0.01)
    # log-normal times, median 4 s, log spread 0.5: P(T < 1 s) = 0.0028
    q = 0.5 * (1 + math.erf(math.log(0.25) / 0.5 / math.sqrt(2)))
    assert q == pytest.approx(0.0028, abs=1e-4)
    assert false_alarms_per_thousand(q, 4, 10) == pytest.approx(1.3e-5, rel=0.05)


def test_too_fast_fires_on_four_of_ten_and_dates_the_first() -> None:
    times = [(T0 + timedelta(seconds=i), ms) for i, ms in
             enumerate([4000, 300, 5000, None, 200, 4000, 100, 3000, 250, 4000])]
    verdict = too_fast(times, 1000, 4, 10)
    assert verdict is not None and verdict.fast == 4 and verdict.onset == T0 + timedelta(seconds=1)
    assert too_fast(times[:-2], 1000, 4, 10) is None  # three fast so far
    assert too_fast(times, 0, 4, 10) is None  # off


# --- runs ----------------------------------------------------------------------------------

def test_run_rule_bounds_every_honest_worker_at_alpha_per_answer() -> None:
    """For each class the run that fires has, for any one-coin worker, probability at
    most alpha / K: exact, for shares known and for shares estimated from 300 items."""
    alpha = 1e-6
    assert shortest_suspect_run(3, alpha) == 14 and shortest_suspect_run(2, alpha) == 21
    for n_items in (1e9, 300):
        bound = most_likely_share(SHARES, n_items)
        for c in range(K):
            length = next(r for r in range(1, 2000) if run_fires(np.full(r, bound[c]), alpha, K))
            for accuracy in np.linspace(0, 1, 21):
                q = honest_label_mix(accuracy, SHARES)[c]
                assert q ** length <= alpha / K * 1.0001
    exact = most_likely_share(SHARES, 1e9)
    lengths = [next(r for r in range(1, 2000) if run_fires(np.full(r, exact[c]), alpha, K))
               for c in range(K)]
    assert lengths == [30, 15, 19]  # the docstring's figures


def test_run_item_bounds() -> None:
    bound = np.full(K, 0.5)
    assert item_bound(None, 0, 0, bound) == 1.0 and item_bound(None, 0, 1, bound) == 0.5
    assert item_bound(np.array([0.9, 0.05, 0.05]), None, 1, bound) == pytest.approx(0.475)
    assert item_bound(None, None, 2, bound) == 0.5
    assert run_length(["a", "b", "b", "b"]) == 3 and run_length([]) == 0


# --- majority ------------------------------------------------------------------------------

def test_majority_false_alarm_per_check_is_below_alpha_for_honest_workers() -> None:
    """Exact union bound for workers at 0.85 (and at 0.5 and 1.0) on a skewed mix."""
    for accuracy in (0.5, 0.85, 1.0):
        mix = honest_label_mix(accuracy, SHARES)
        for n in (30, 60, 100, 200):
            assert false_alarm_bound(mix, SHARES, 500, n, 1e-4) <= 1e-4
    assert false_alarm_bound(honest_label_mix(0.85, SHARES), SHARES, 500, 200, 1e-4) < 1e-6


def test_majority_clicker_is_caught_and_honest_left_alone() -> None:
    rng = np.random.default_rng(3)
    assert majority_clicker([0] * 60, SHARES, 500, 1e-4) is not None  # the common class
    assert majority_clicker([1] * 30, SHARES, 500, 1e-4) is not None
    truth = rng.choice(K, 200, p=SHARES)
    assert majority_clicker(list(_labels(rng, truth, 0.85)), SHARES, 500, 1e-4) is None
    assert majority_clicker([0] * 29, SHARES, 500, 1e-4) is None  # too few
    assert majority_clicker([1] * 60, SHARES, 500, 0.0) is None  # off


# --- collusion -----------------------------------------------------------------------------

def test_collusion_false_alarms_with_estimated_accuracies() -> None:
    """20,000 honest pairs at 0.85 (shares 0.6/0.3/0.1, 20-200 shared items), matrices at
    the upper Wilson bound of 20 hidden-gold answers, as the service builds them. The
    stated rate is at most 1e-5 per pair and check (1 in 200,000 seen with another
    seed); at that rate more than 3 alarms here has probability 5.7e-5."""
    rng = np.random.default_rng(17)
    alarms = 0
    for _ in range(20_000):
        n = int(rng.integers(20, 201))
        truth = rng.choice(K, n, p=SHARES)
        matrices = [one_coin_confusion(wilson(rng.binomial(20, 0.85), 20)[1], K)
                    for _ in range(2)]
        expected = expected_agreement(*matrices, SHARES)
        agreed = int((_labels(rng, truth, 0.85) == _labels(rng, truth, 0.85)).sum())
        alarms += colluding(n, agreed, expected, 1e-6, 20) is not None
    assert alarms <= 3


def test_colluders_are_caught() -> None:
    """A pair giving one shared random label, and a pair pushing one class for
    another's items, against their gold-estimated accuracies."""
    random_pair = expected_agreement(one_coin_confusion(0.4, K), one_coin_confusion(0.4, K),
                                     SHARES)
    assert colluding(20, 20, random_pair, 1e-6, 20) is not None
    careful = expected_agreement(one_coin_confusion(0.9, K), one_coin_confusion(0.9, K), SHARES)
    assert colluding(100, 100, careful, 1e-6, 20) is not None
    assert colluding(100, 85, careful, 1e-6, 20) is None
    assert colluding(19, 19, random_pair, 1e-6, 20) is None  # too few shared


# --- sniffing ------------------------------------------------------------------------------

def test_sniffing_false_alarms_for_honest_workers() -> None:
    """5,000 honest checks (0.85 on gold and work, 10-40 gold, 30-200 work labels with two
    other labels each). Stated rate about 1e-4 per check (no alarm in 25,000 with other
    seeds); at 1e-4 more than 5 alarms here has probability 1.4e-5."""
    rng = np.random.default_rng(11)
    alarms = 0
    for _ in range(5000):
        gold, work = int(rng.integers(10, 41)), int(rng.integers(30, 201))
        truth = rng.choice(K, work, p=SHARES)
        alarms += sniffing(gold, int(rng.binomial(gold, 0.85)), _others(rng, truth),
                           _labels(rng, truth, 0.85), 1e-4) is not None
    assert alarms <= 5


def test_a_sniffer_is_caught() -> None:
    """0.9 on gold, random on work: with 30 gold and 150 work labels, caught in 99%
    of 300 seeded cases; at 98% power, fewer than 285 has probability below 1e-4."""
    rng = np.random.default_rng(5)
    caught = 0
    for _ in range(300):
        truth = rng.choice(K, 150, p=SHARES)
        caught += sniffing(30, int(rng.binomial(30, 0.9)), _others(rng, truth),
                           rng.integers(0, K, 150), 1e-4) is not None
    assert caught >= 285
    assert sniffing(9, 9, np.full((100, K), 1 / K), np.zeros(100, dtype=int), 1e-4) is None


def test_ladder_and_disguise() -> None:
    assert sanction_step([]) == "retraining"
    assert sanction_step(["qualification_passed"]) == "retraining"
    # Every low-quality finding is a strike, a drift check's as a fraud rule's.
    assert sanction_step(["drift", "retraining_passed"]) == "suspended"
    assert sanction_step(["agreement_drift", "retraining_passed"]) == "suspended"
    assert sanction_step(["too_fast", "retraining_passed"]) == "suspended"
    assert disguised("retraining", "gold_sniffing") and not disguised("active", "gold_sniffing")
    assert not disguised("retraining", "drift")
