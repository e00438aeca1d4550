"""The majority clicker: one label given far more often than its share allows (pure).

Toloka's "majority vote" rule compares each answer with the others'; this one
tests the worker's whole label mix against the project's posterior class
shares (the latest Dawid-Skene class priors, or the other workers' label
counts before the first run). Over the worker's last ``WINDOW`` (200) counted
work labels, at least ``MIN_LABELS`` (30), it takes for each class c the most
any one-coin worker, of any accuracy, gives c (``stats.most_likely_share``:
``max(pi_c, (1 - pi_c)/(K - 1))`` on the Wilson bounds of pi_c) and fires when
the exact binomial tail P(X >= n_c) at that rate is at most ``alpha / K`` for
some class.

**False alarms.** An honest worker gives c with probability no more than the
rate tested, so one check fires with probability at most K x alpha / K =
``majority_alpha`` (1e-4 by default) whatever the class mix; the exact union
bound for a worker at 0.85 on shares 0.6/0.3/0.1 known exactly is far lower,
2.2e-6 per check at 30 labels and 5.8e-8 at 200 (``false_alarm_bound``;
tests/unit/test_fraud_rules.py checks it stays below alpha for workers at
0.5, 0.85 and 1.0). A check
runs with the periodic drift job, and on unchanged labels gives the same
answer, so a worker who labels 10 items between checks meets at most 100
checks per 1,000 answers: **at most 0.01 false alarms per 1,000 answers**.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crowd.domain.fraud.stats import binomial_sf, critical_count, most_likely_share

WINDOW = 200
MIN_LABELS = 30


@dataclass(frozen=True)
class MajorityVerdict:
    """The class clicked too often: its count, the rate it was tested at, the tail."""

    label: int
    count: int
    labels: int
    tested_share: float
    p_value: float


def majority_clicker(given: Sequence[int], shares: np.ndarray, n_items: float,
                     alpha: float) -> MajorityVerdict | None:
    """The verdict on the worker's labels ``given`` (class indices, oldest first).

    ``shares``: (K,) the project's class shares, estimated from ``n_items``.
    None when the rule is off (alpha 0), the labels are too few, or no class stands out.
    """
    recent = np.asarray(given, dtype=np.intp)[-WINDOW:]
    k = len(shares)
    if alpha <= 0 or len(recent) < MIN_LABELS:
        return None
    counts = np.bincount(recent, minlength=k)
    rates = most_likely_share(shares, n_items)
    tails = [binomial_sf(int(counts[c]), len(recent), float(rates[c])) for c in range(k)]
    worst = int(np.argmin(tails))
    if tails[worst] > alpha / k:
        return None
    return MajorityVerdict(worst, int(counts[worst]), len(recent), float(rates[worst]),
                           float(tails[worst]))


def false_alarm_bound(label_probs: np.ndarray, shares: np.ndarray, n_items: float, n: int,
                      alpha: float) -> float:
    """P(one check fires) for an honest worker who gives class c with probability
    ``label_probs[c]``, over ``n`` labels: the exact union bound over classes."""
    k = len(shares)
    rates = most_likely_share(shares, n_items)
    return float(sum(binomial_sf(critical_count(n, float(rates[c]), alpha / k), n,
                                 float(label_probs[c])) for c in range(k)))
