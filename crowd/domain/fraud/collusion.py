"""Collusion: two workers who agree on shared items far more than their accuracies predict (pure).

For workers u and v with confusion matrices C_u, C_v (rows: true class) and the
project's class shares pi, two independent workers agree on an item with
probability ``e = sum_c pi_c sum_l C_u[c, l] C_v[c, l]``. Over their n shared
items (counted work labels, each given since both were last made active) the
pair is flagged when they agree at least ``MIN_EXCESS`` (0.1) more often than e
and the exact binomial tail P(X >= agreed | n, e) is at most
``collusion_alpha`` (1e-6 by default), once n reaches
``collusion_min_shared`` (20). A group of colluders shows up as its pairs.

**False alarms.** With the matrices right and labels independent given the
class, a pair is flagged with probability at most ``collusion_alpha`` per check:
with 10 regular partners a worker meets at most 1e-5 false alarms per check.
The matrices are estimates: a worker's Dawid-Skene matrix when there is one,
else the one-coin matrix at the *upper* Wilson bound of their hidden-gold
accuracy (so with no gold, accuracy 1: two careful workers who agree on
everything are never taken for colluders for want of evidence); and since a
fitted matrix is smoothed towards uniform, most for a worker with few labels in
the fit, the service tests against the higher of that and the agreement of
one-coin matrices at the workers' unsmoothed accuracies. The seeded
simulation in tests/unit/test_fraud_rules.py (workers at 0.85, three classes,
shares 0.6/0.3/0.1, 20 hidden-gold answers each, 20 to 200 shared items) saw
1 false alarm in 200,000 pairs: the stated rate is **at most 1e-5 per pair
and check** (the test allows 3 in 20,000: its own chance of failing at that
rate is 5.7e-5). A pair whose matrices come from Dawid-Skene can mask a
collusion they dominate (their agreement raises both estimates); gold-based
matrices cannot be raised that way, which is one more reason for hidden gold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowd.domain.fraud.stats import binomial_sf

MIN_EXCESS = 0.1


@dataclass(frozen=True)
class CollusionVerdict:
    """A pair's shared items, agreements, the agreement expected and the tail."""

    shared: int
    agreed: int
    expected: float
    p_value: float


def expected_agreement(first: np.ndarray, second: np.ndarray, shares: np.ndarray) -> float:
    """P(two independent workers give the same label): (K, K) matrices, (K,) shares."""
    pi = np.asarray(shares, dtype=float)
    pi = pi / pi.sum()
    return float(np.clip((pi * (first * second).sum(axis=1)).sum(), 0.0, 1.0))


def colluding(shared: int, agreed: int, expected: float, alpha: float,
              min_shared: int) -> CollusionVerdict | None:
    """The verdict on one pair; None when the rule is off, the pair shares too
    little, or their agreement is explained by their accuracies."""
    if alpha <= 0 or shared < min_shared or shared == 0:
        return None
    if agreed / shared < expected + MIN_EXCESS:
        return None
    p_value = binomial_sf(agreed, shared, expected)
    if p_value > alpha:
        return None
    return CollusionVerdict(shared, agreed, expected, p_value)
