"""Spotting a worker whose accuracy has drifted below the project's floor (pure).

The test: an exact one-sided binomial test on the worker's last ``drift_window``
hidden-gold answers. H0 is "the worker is still at ``min_accuracy`` or better";
we act only when k correct out of n would happen with probability below
``alpha`` (1%) for a worker exactly at the floor. A worker *above* the floor
fails it far more rarely still (at 0.85 against a 0.7 floor, a 20-answer window
fires with probability ~5e-6), so noise in a good worker's stream does not
trigger it, while a worker who has truly dropped (say to 0.3) fails it after
a median of about 16 post-drift answers in a 20-answer window. The test only
runs on a full window, so a few early misses cannot condemn a newcomer.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.01


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), exactly."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return float(sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1)))


@dataclass(frozen=True)
class DriftVerdict:
    """Whether the evidence says the worker fell below the floor, and on what."""

    drifted: bool
    window: int
    correct: int
    accuracy: float | None
    p_value: float | None
    onset_index: int | None

    def evidence(self, min_accuracy: float) -> dict[str, float | int | None]:
        return {"window": self.window, "correct": self.correct,
                "window_accuracy": None if self.accuracy is None else round(self.accuracy, 4),
                "p_value": None if self.p_value is None else round(self.p_value, 6),
                "min_accuracy": min_accuracy, "alpha": ALPHA}


def check_window(
    outcomes: Sequence[bool], drift_window: int, min_accuracy: float, alpha: float = ALPHA
) -> DriftVerdict:
    """Test the most recent ``drift_window`` gold outcomes (oldest first) against the floor.

    ``onset_index`` (when drifted) is where the drop most likely began within
    the outcomes given, from ``change_point``.
    """
    recent = list(outcomes)[-drift_window:]
    n, k = len(recent), int(sum(recent))
    if n < drift_window or n == 0:
        return DriftVerdict(False, n, k, k / n if n else None, None, None)
    p_value = binomial_cdf(k, n, min_accuracy)
    drifted = p_value < alpha
    onset = change_point(outcomes) if drifted else None
    return DriftVerdict(drifted, n, k, k / n, p_value, onset)


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
