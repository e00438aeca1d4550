"""Sequential drift tests: Bernoulli CUSUMs on a worker's answers (pure).

Two CUSUMs watch every active worker, both designed from the project's floor
``min_accuracy`` (f): in control ``p0 = min(f + 0.15, (1 + f) / 2)``, out of
control ``p1 = f - 0.2`` (or halfway between f and chance, 1/K, when f - 0.2
is not above chance). For the default f = 0.7 with three or more classes that
is p0 = 0.85, p1 = 0.5.

**Gold CUSUM.** Page's CUSUM of the log-likelihood ratio of p1 against p0 on
each hidden-gold outcome: ``S = max(0, S + w)``, with ``w =
ln((1-p1)/(1-p0))`` on a miss and ``ln(p1/p0)`` on a right answer. The weights
are rounded to tenths of a nat (``SCALE``), so the statistic lives on a
lattice and its run length is *exactly* that of a finite Markov chain (states
0 .. H-1 ticks); ``BernoulliCusum.arl`` solves ``(I - Q) L = 1`` for the mean
run length. It alarms at ``S >= GOLD_THRESHOLD`` (6.0 nats). Default design
(p0 0.85, p1 0.5: +1.2 per miss, -0.5 per right answer, five misses in a row
from zero fire), average run length in gold answers from S = 0, exact:

    accuracy:     0.90    0.85    0.80   0.75   0.70   0.60   0.50   0.40
    run length:  28426    2440     462    148    68.5   27.6   16.5   11.7

So a worker at 0.85 raises a false gold alarm once per 2,440 gold answers: at
the default gold rate 0.1 that is **0.041 per 1,000 answers** (0.0035 at 0.9).
A drop to 0.5 is caught after 16.5 gold answers on average, a drop to 0.4
after 11.7 (less when misses before the drop already lifted S). A worker just
above the floor pays for its closeness: at 0.75 the gold CUSUM fires once per
148 gold answers (0.68 per 1,000 answers).

**Agreement CUSUM.** The same kind of test on work labels, where the truth is
unknown: the worker's label ``l`` on an item whose other labels give the
posterior ``pi`` has, for a one-coin worker of accuracy a, probability ``a
pi_l + (1-a)(1-pi_l)/(K-1)``; the CUSUM sums the log ratio of that at p1' over
p0, with p1' halfway between the floor and p1 (0.6 by default: work labels are
plentiful, so it aims closer to the floor). ``pi`` comes from the other
workers' counted labels only (never the worker's own; an expert's resolution
when there is one) and is tempered 10% towards uniform, so an over-confident
posterior cannot condemn anyone; items nobody else labelled score zero. An
item the others are sure of weighs nearly like gold, an item they split on
weighs nothing. It alarms at ``AGREEMENT_THRESHOLD`` (6.0 nats). Its run
lengths depend on how sure the posteriors are, so they are simulated
(``tests/unit/test_sequential.py``, fixed seeds) with items carrying two other
labels from 0.85-accurate workers, three classes: a worker at 0.85 raises 8.5
false alarms per million work labels (10^7 labels, seed 5), i.e. **0.008 per
1,000 answers** at gold rate 0.1 (at 0.8: one per 7,700 labels, 0.12 per 1,000
answers; at 0.75: one per 940, 0.96); a drop to 0.5 is caught after a median
of 33 work labels (mean 36), to 0.4 after 23 (mean 25): three to four gold
answers' worth at gold rate 0.1.

**Together**, at gold rate 0.1 a worker at 0.85 is falsely sanctioned about
**0.049 times per 1,000 answers** (0.041 gold + 0.008 agreement), once in
~20,000 answers; at 0.8 about 0.33 and at 0.75 about 1.6 times per 1,000
answers (the indifference zone just above the floor). The gold CUSUM moves at
every hidden-gold answer; the agreement CUSUM is checked after every
``AGREEMENT_EVERY`` (10th) work-mode answer of the worker, gold or not, so its
cost does not tell gold from work, and again by the periodic drift job. The
issue's slow drifter (0.9 for 60 answers, then linearly down to 0.4 over the
next 100, gold rate 0.1) is caught a median of 5 gold answers after its
accuracy crosses the floor (90th percentile 9, 99th 12; 4 of 3,000 seeded
drifters, 0.13%, took more than 15, the slowest 20).

**Onset.** A CUSUM's estimate of where the drop began is the last time its
statistic was zero: everything the worker labelled after that is suspect, and
that is what a sanction discounts.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCALE = 10  # lattice ticks per nat for the gold CUSUM
GOLD_THRESHOLD = 6.0
AGREEMENT_THRESHOLD = 6.0
AGREEMENT_EVERY = 10  # a worker's answers between agreement checks at answer time
TEMPER = 0.1  # share of uniform mixed into the others' posterior


def design(min_accuracy: float, n_classes: int) -> tuple[float, float]:
    """(in-control, out-of-control) accuracies for a project's floor."""
    chance = 1.0 / max(n_classes, 2)
    p0 = min(min_accuracy + 0.15, (1.0 + min_accuracy) / 2)
    p1 = min_accuracy - 0.2
    if p1 <= chance:
        p1 = (min_accuracy + chance) / 2
    return round(p0, 6), round(p1, 6)


@dataclass(frozen=True)
class BernoulliCusum:
    """Page's CUSUM on right/wrong outcomes, weights on a lattice of 1/SCALE nats."""

    p0: float
    p1: float
    threshold: float

    @property
    def up(self) -> int:
        """Ticks added by a miss."""
        return max(1, round(SCALE * math.log((1 - self.p1) / (1 - self.p0))))

    @property
    def down(self) -> int:
        """Ticks taken off by a right answer."""
        return max(1, round(SCALE * math.log(self.p0 / self.p1)))

    @property
    def limit(self) -> int:
        """The alarm threshold in ticks."""
        return round(SCALE * self.threshold)

    def step(self, statistic: float, correct: bool) -> float:
        """The statistic (in nats) after one more outcome."""
        ticks = round(statistic * SCALE)
        ticks = max(0, ticks - self.down) if correct else ticks + self.up
        return ticks / SCALE

    def alarmed(self, statistic: float) -> bool:
        return round(statistic * SCALE) >= self.limit

    def arl(self, accuracy: float, start: float = 0.0) -> float:
        """Exact mean number of outcomes until the alarm, for a worker at ``accuracy``."""
        h = self.limit
        q = np.zeros((h, h))
        for s in range(h):
            if s + self.up < h:
                q[s, s + self.up] += 1 - accuracy
            q[s, max(0, s - self.down)] += accuracy
        lengths = np.linalg.solve(np.eye(h) - q, np.ones(h))
        return float(lengths[min(h - 1, round(start * SCALE))])


def gold_cusum(min_accuracy: float, n_classes: int) -> BernoulliCusum:
    p0, p1 = design(min_accuracy, n_classes)
    return BernoulliCusum(p0, p1, GOLD_THRESHOLD)


def false_alarms_per_thousand(
    cusum: BernoulliCusum, accuracy: float, gold_rate: float
) -> float:
    """Expected false gold alarms per worker per 1,000 answers (renewal rate)."""
    return 1000.0 * gold_rate / cusum.arl(accuracy)


def agreement_design(min_accuracy: float, n_classes: int) -> tuple[float, float]:
    """(in-control, out-of-control) accuracies for the agreement CUSUM: work
    labels are plentiful, so it aims halfway between the floor and gold's p1."""
    p0, p1 = design(min_accuracy, n_classes)
    return p0, round((min_accuracy + p1) / 2, 6)


def agreement_weights(
    others: np.ndarray, given: np.ndarray, min_accuracy: float,
) -> np.ndarray:
    """Per-label log-likelihood ratio (p1 over p0) from the others' posteriors.

    others: (n, K) posterior of each item from the other workers' labels
    (rows of zeros where nobody else labelled it); given: (n,) the worker's class.
    """
    n, k = others.shape
    p0, p1 = agreement_design(min_accuracy, k)
    if n == 0:
        return np.zeros(0)
    known = others.sum(axis=1) > 0
    pi = (1 - TEMPER) * others + TEMPER / k
    pick = pi[np.arange(n), given]

    def chance(a: float) -> np.ndarray:
        return a * pick + (1 - a) * (1 - pick) / (k - 1)

    weights = np.log(chance(p1)) - np.log(chance(p0))
    return np.where(known, weights, 0.0)


@dataclass(frozen=True)
class CusumRun:
    """A CUSUM over a stream: where it stands, its peak, and where it alarmed."""

    statistic: float
    alarm_index: int | None
    onset_index: int | None  # first outcome after the last zero before the alarm
    peak: float


def run_cusum(weights: Sequence[float] | np.ndarray, threshold: float) -> CusumRun:
    """Page's CUSUM over ``weights``, stopping at the first alarm."""
    s, last_zero, peak = 0.0, -1, 0.0
    for i, w in enumerate(np.asarray(weights, dtype=float)):
        s = max(0.0, s + float(w))
        if s == 0.0:
            last_zero = i
        peak = max(peak, s)
        if s >= threshold:
            return CusumRun(s, i, last_zero + 1, peak)
    return CusumRun(s, None, None, peak)
