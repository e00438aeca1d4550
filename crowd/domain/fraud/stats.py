"""Exact binomial tails and conservative class-share bounds for the fraud rules (pure)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

SHARE_Z = 3.29  # Wilson bounds at 99.9% two-sided: a share outside them is a 1-in-1,000 event


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly (summed in log space)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    terms = [base - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * lp + (n - j) * lq
             for j in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def critical_count(n: int, p: float, alpha: float) -> int:
    """The least k with P(Binomial(n, p) >= k) <= alpha (n + 1 when none is)."""
    for k in range(n + 1):
        if binomial_sf(k, n, p) <= alpha:
            return k
    return n + 1


def wilson(count: float, total: float, z: float = SHARE_Z) -> tuple[float, float]:
    """Wilson score bounds on a share seen ``count`` times in ``total``; (0, 1) with no data."""
    if total <= 0:
        return 0.0, 1.0
    share = count / total
    denom = 1 + z * z / total
    centre = (share + z * z / (2 * total)) / denom
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def most_likely_share(shares: Sequence[float] | np.ndarray, n: float) -> np.ndarray:
    """(K,) the most any one-coin worker, however accurate, gives each class.

    A worker of accuracy a gives class c with probability
    ``a pi_c + (1 - a)(1 - pi_c) / (K - 1)``, which is largest at a = 1 or a = 0:
    ``max(pi_c, (1 - pi_c) / (K - 1))``. ``shares`` are estimated from ``n``
    items, so the upper Wilson bound stands in for pi_c in the first term and the
    lower one in the second: a worker's label mix is suspect only if no honest
    worker of any accuracy, on any class mix the data allow, would give it.
    """
    pi = np.asarray(shares, dtype=float)
    k = len(pi)
    bounds = np.array([wilson(s * n, n) for s in pi])
    return np.maximum(bounds[:, 1], (1 - bounds[:, 0]) / (k - 1)).clip(0.0, 1.0)
