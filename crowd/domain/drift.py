"""The Dawid-Skene check's binomial test, and where a drop began (pure).

The live drift rules are the CUSUMs in ``crowd.domain.sequential``; this
module keeps what the periodic Dawid-Skene check needs: an exact one-sided
binomial test of the estimated share correct against ``min_accuracy``
(H0 "still at the floor or better", rejected below ``ALPHA``, 1%), and a
max-likelihood change point to date the start of a drop in a 0/1 record.
(The 20-answer gold window test that used to live here is gone: at gold
rate 0.1 it took some 200 answers to fill and restarted at each activation.)
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ALPHA = 0.01


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), exactly."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1)))


def change_point(outcomes: Sequence[bool]) -> int:
    """The index where a drop in accuracy most likely began (max-likelihood split).

    Splits the 0/1 sequence into a before and an after segment, each with its
    own Bernoulli rate, and picks the split with the highest likelihood among
    those where the after-rate is lower. Returns 0 when no drop stands out.
    """
    x = np.asarray(outcomes, dtype=float)
    n = len(x)
    if n < 2:
        return 0
    cum = np.concatenate([[0.0], np.cumsum(x)])
    splits = np.arange(1, n)
    k1, n1 = cum[splits], splits.astype(float)
    k2, n2 = cum[-1] - k1, n - n1
    ll = _bernoulli_ll(k1, n1) + _bernoulli_ll(k2, n2)
    ll[(k2 / n2) >= (k1 / n1)] = -np.inf
    if not np.isfinite(ll).any():
        return 0
    return int(splits[int(np.argmax(ll))])


def _bernoulli_ll(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    p = np.clip(k / n, 1e-12, 1 - 1e-12)
    return k * np.log(p) + (n - k) * np.log(1 - p)
