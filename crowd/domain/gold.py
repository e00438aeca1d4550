"""Hidden gold: when to slip one in, and how an answer scores (pure)."""
from __future__ import annotations

from typing import TypedDict

import numpy as np

# Items get a random shuffle key in [0, SHUFFLE_KEYS); gold is picked by
# walking the keys from a random start, which is uniform over unseen gold.
SHUFFLE_KEYS = 2**31 - 1


class Feedback(TypedDict):
    """What a worker in qualification or training is told after answering."""

    correct: bool
    expected: str


def wants_gold(rng: np.random.Generator, gold_rate: float) -> bool:
    """Whether this assignment should be a hidden gold item (Bernoulli(gold_rate))."""
    return bool(rng.random() < gold_rate)


def is_correct(answer: str, gold_label: str) -> bool:
    """Whether an answer matches the gold label."""
    return answer == gold_label


def feedback(answer: str, gold_label: str) -> Feedback:
    """The feedback shown in qualification and training modes."""
    return {"correct": is_correct(answer, gold_label), "expected": gold_label}


def shuffle_keys(rng: np.random.Generator, n: int) -> list[int]:
    """Random shuffle keys for ``n`` new items."""
    return [int(k) for k in rng.integers(0, SHUFFLE_KEYS, size=n)]
