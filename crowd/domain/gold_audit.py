"""Gold items that reliable workers miss far more often than expected (pure)."""
from __future__ import annotations

import numpy as np

FLAG_P_VALUE = 0.001
MIN_MISSES = 3


def poisson_binomial_tail(miss_probs: np.ndarray, observed: int) -> float:
    """P(at least ``observed`` misses) when answer j misses with ``miss_probs[j]``.

    Exact, by dynamic programming over the (n,) probabilities.
    """
    dist = np.zeros(len(miss_probs) + 1)
    dist[0] = 1.0
    for p in miss_probs:
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    return float(dist[observed:].sum())


def suspicious(miss_probs: np.ndarray, missed: np.ndarray) -> tuple[bool, float]:
    """Whether a gold item's misses (bool (n,)) are too many for workers whose
    expected miss chances are ``miss_probs`` (n,); and the tail probability."""
    observed = int(np.sum(missed))
    p_value = poisson_binomial_tail(np.asarray(miss_probs, float), observed)
    return observed >= MIN_MISSES and p_value < FLAG_P_VALUE, p_value
