"""Long runs of one label: a run no one-coin worker of any accuracy would give (pure).

After each work-mode answer the rule looks at the run of identical labels that
ends there. On item i a one-coin worker of accuracy a gives label c with
probability ``a pi_ic + (1 - a)(1 - pi_ic)/(K - 1)``, at most
``p_ic = max(pi_ic, (1 - pi_ic)/(K - 1))`` whatever a is (0 and 1 included),
where pi_i is the item's posterior (it counts the worker's own label, which
only raises p for the label given, so it errs towards leniency); on a gold item
p is 1 for the gold label and 1/(K - 1) for another. Without a posterior the
project's class shares stand in (``stats.most_likely_share``). The rule fires
once the product of p over the run falls to ``alpha / K``.

**False alarms.** For each class c the run needed is fixed by the items
alone, and an honest worker gives all of it with probability at most the
product, so a given answer fires with probability at most K x alpha / K =
``same_label_alpha``: **at most 0.001 false alarms per 1,000 answers** at the
default 1e-6, for any honest worker and any class mix (exact bound; it assumes
labels independent given the items' classes). Low accuracy is left to the
drift rules: a run of wrong labels is judged as if the worker might be always
wrong. With three balanced classes a run of 14 fires (the shortest possible);
with shares 0.6/0.3/0.1 known exactly, 30 of the common class, 15 or 19 of the
others (``tests/unit/test_fraud_rules.py``); never more than ``MAX_RUN`` (200)
answers are looked at, so a class above about 0.93 of the items is never judged.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_RUN = 200


def run_length(labels: Sequence[str]) -> int:
    """How many of the last labels are equal to the last one."""
    if not labels:
        return 0
    last, n = labels[-1], 0
    for label in reversed(labels):
        if label != last:
            break
        n += 1
    return n


def shortest_suspect_run(n_classes: int, alpha: float) -> int:
    """The shortest run that could ever fire: every p at its least, 1/K."""
    return math.ceil(math.log(alpha / n_classes) / math.log(1.0 / n_classes)) if alpha > 0 else 0


def run_bound(p: np.ndarray) -> float:
    """log of the probability bound of the run: the sum of log p over its items."""
    return float(np.log(np.clip(p, 1e-300, 1.0)).sum())


def item_bound(posterior: np.ndarray | None, gold_index: int | None, given: int,
               shares_bound: np.ndarray) -> float:
    """p for one item of the run: the most any one-coin worker gives ``given`` there."""
    k = len(shares_bound)
    if gold_index is not None:
        return 1.0 if given == gold_index else 1.0 / (k - 1)
    if posterior is None:
        return float(shares_bound[given])
    pi = float(posterior[given])
    return max(pi, (1.0 - pi) / (k - 1))


def run_fires(p: np.ndarray, alpha: float, n_classes: int) -> bool:
    """Whether a run whose items have bounds ``p`` is improbable at ``alpha`` per answer."""
    return alpha > 0 and run_bound(p) <= math.log(alpha / n_classes)
