"""Gold sniffing: hidden gold answered much better than work (pure).

A worker who tells hidden gold from work can answer gold carefully and work at
random. The check compares two estimates of one accuracy a, each from the
evidence since the worker was last made active:

* gold: k right of n hidden-gold answers, likelihood ``a^k (1 - a)^(n - k)``;
* work: each counted work label l on an item whose other labels give the
  posterior pi (tempered 10% towards uniform, as the agreement CUSUM does), with
  likelihood ``a pi_l + (1 - a)(1 - pi_l)/(K - 1)``.

The generalised likelihood-ratio statistic of "one accuracy" against "two,
gold the higher" is ``z = sqrt(2 (max ll_gold + max ll_work - max ll_both))``,
signed by the gap, and the check fires when z >= the normal quantile of
``sniffing_alpha`` (1e-4 by default: z >= 3.72) and the gap is at least
``MIN_GAP`` (0.2), with at least ``MIN_GOLD`` (10) hidden-gold answers and
``MIN_WORK`` (30) work labels that others also labelled.

**False alarms.** Wilks: per check, about ``sniffing_alpha``. The seeded
simulation in tests/unit/test_fraud_rules.py (a worker at 0.85 on gold and
work alike, 10 to 40 gold answers, 30 to 200 work labels each with two other
labels from workers at 0.85, three classes, shares 0.6/0.3/0.1) saw **no false
alarm in 25,000 checks**; the stated rate is at most 1e-4 per check (the test
runs 5,000 and allows 5: at 1e-4 its own chance of failing is 1.4e-5). A
sniffer at 0.9 on gold and random on work is caught in 25% of checks with 10
gold answers and 30 work labels, 79% with 20 and 60, 99% with 30 and 150.

**What follows.** The worker retrains on gold served as work, with no
feedback (``disguised``), so the round cannot be told from work; the round is
decided as any other, and failing it suspends them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from crowd.domain.fraud import SNIFFING

TEMPER = 0.1
MIN_GAP = 0.2
MIN_GOLD = 10
MIN_WORK = 30
GRID = np.linspace(0.001, 0.999, 500)  # accuracies the likelihoods are maximised over


@dataclass(frozen=True)
class SniffingVerdict:
    """Both accuracy estimates, the evidence behind them, and the test statistic."""

    gold_accuracy: float
    work_accuracy: float
    gold_seen: int
    work_labels: int
    z: float
    threshold: float


def z_threshold(alpha: float) -> float:
    """The one-sided normal quantile the signed root must reach."""
    return NormalDist().inv_cdf(1.0 - alpha)


def _work_loglik(others: np.ndarray, given: np.ndarray) -> np.ndarray:
    """(len(GRID),) log-likelihood of the work labels at each grid accuracy."""
    n, k = others.shape
    pi = (1 - TEMPER) * others + TEMPER / k
    pick = pi[np.arange(n), given][None, :]
    a = GRID[:, None]
    return np.log(a * pick + (1 - a) * (1 - pick) / (k - 1)).sum(axis=1)


def sniffing(gold_seen: int, gold_correct: int, others: np.ndarray, given: np.ndarray,
             alpha: float) -> SniffingVerdict | None:
    """The verdict, or None when the rule is off, the evidence is thin, or no gap shows.

    others: (n, K) the other workers' posterior for each of the worker's work
    labels (rows of zeros where nobody else labelled the item); given: (n,) classes.
    """
    known = others.sum(axis=1) > 0
    others, given = others[known], np.asarray(given, dtype=np.intp)[known]
    if alpha <= 0 or gold_seen < MIN_GOLD or len(given) < MIN_WORK:
        return None
    gold_ll = gold_correct * np.log(GRID) + (gold_seen - gold_correct) * np.log(1 - GRID)
    work_ll = _work_loglik(others, given)
    a_gold, a_work = float(GRID[np.argmax(gold_ll)]), float(GRID[np.argmax(work_ll)])
    if a_gold - a_work < MIN_GAP:
        return None
    stat = 2.0 * (gold_ll.max() + work_ll.max() - (gold_ll + work_ll).max())
    z, threshold = math.sqrt(max(stat, 0.0)), z_threshold(alpha)
    if z < threshold:
        return None
    return SniffingVerdict(a_gold, a_work, gold_seen, len(given), z, threshold)


def disguised(state: str, reason_code: str | None) -> bool:
    """Whether a worker's retraining round is served as work: after a sniffing finding."""
    return state == "retraining" and reason_code == SNIFFING
