"""Simulated workers and a project with known truth (pure: numpy only).

A worker is a confusion matrix, ``confusion[true][given]`` (rows sum to 1),
from which each answer is drawn; a drifter swaps to a second, degraded matrix
after ``onset`` answers in work mode. All randomness comes from the
``numpy.random.Generator`` passed in, so a seed makes a crowd repeatable.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

KINDS = ("reliable", "spammer", "adversary", "drifter")


@dataclass(frozen=True)
class WorkerModel:
    """One simulated worker: how they answer, and (drifters) when they degrade."""

    kind: str
    confusion: np.ndarray  # (C, C): P(given | true), rows = true class
    degraded: np.ndarray | None = None  # (C, C): drifters, from ``onset`` on
    onset: int | None = None  # work answers given before the drop

    def is_degraded(self, work_answers: int) -> bool:
        """Whether the next answer, after ``work_answers`` in work mode, is degraded."""
        return self.degraded is not None and self.onset is not None and work_answers >= self.onset

    def matrix(self, work_answers: int) -> np.ndarray:
        """The confusion matrix the next answer is drawn from."""
        if self.is_degraded(work_answers):
            assert self.degraded is not None
            return self.degraded
        return self.confusion

    def answer(self, truth: int, work_answers: int, rng: np.random.Generator) -> int:
        """The class this worker gives for an item of class ``truth``."""
        row = self.matrix(work_answers)[truth]
        return int(rng.choice(len(row), p=row))

    @property
    def accuracy(self) -> float:
        """Mean accuracy over classes (before any drift), for uniform classes."""
        return float(np.mean(np.diag(self.confusion)))


def one_coin(accuracy: float, n_classes: int) -> np.ndarray:
    """``accuracy`` on the diagonal, the errors spread evenly: (C, C)."""
    off = (1.0 - accuracy) / (n_classes - 1)
    matrix = np.full((n_classes, n_classes), off)
    np.fill_diagonal(matrix, accuracy)
    return matrix


def reliable_confusion(
    n_classes: int, rng: np.random.Generator, accuracy: float = 0.85, spread: float = 0.1,
    pull: Sequence[float] | None = None,
) -> np.ndarray:
    """A good worker whose accuracy depends on the class.

    Each class's accuracy is uniform in ``accuracy ± spread`` (clipped to
    [1/C, 0.99]); its errors fall on the other classes with Dirichlet(1)
    weights, so some classes are mistaken for one another more than others.
    With ``pull`` (the class shares of a skewed project) those weights are also
    multiplied by each class's share: mistakes lean towards the common classes,
    as a person's do. Uniform or no ``pull`` draws exactly the same matrix.
    """
    diag = np.clip(rng.uniform(accuracy - spread, accuracy + spread, n_classes),
                   1.0 / n_classes, 0.99)
    weights = np.ones(n_classes) if pull is None else np.asarray(pull, dtype=float)
    matrix = np.zeros((n_classes, n_classes))
    for true in range(n_classes):
        others = [c for c in range(n_classes) if c != true]
        error = rng.dirichlet(np.ones(len(others))) * weights[others]
        matrix[true, others] = (1.0 - diag[true]) * error / error.sum()
        matrix[true, true] = diag[true]
    return matrix


def spammer_confusion(n_classes: int) -> np.ndarray:
    """A spammer: every answer uniform at random, whatever the item."""
    return np.full((n_classes, n_classes), 1.0 / n_classes)


def swap_pairs(n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation that swaps classes in random pairs (one class stays when C is odd)."""
    order = rng.permutation(n_classes)
    target = np.arange(n_classes)
    for a, b in zip(order[0::2], order[1::2], strict=False):
        target[a], target[b] = b, a
    return target


def adversary_confusion(
    n_classes: int, rng: np.random.Generator, consistency: float = 0.85
) -> np.ndarray:
    """An adversary: systematically gives the swapped partner of the true class.

    With probability ``consistency`` the answer is the class's partner under
    ``swap_pairs``; otherwise uniform at random.
    """
    target = swap_pairs(n_classes, rng)
    matrix = np.full((n_classes, n_classes), (1.0 - consistency) / n_classes)
    matrix[np.arange(n_classes), target] += consistency
    return matrix


def make_worker(
    kind: str, n_classes: int, rng: np.random.Generator, *,
    accuracy: float = 0.85, spread: float = 0.1, onset: int = 40, degraded_accuracy: float = 0.3,
) -> WorkerModel:
    """A worker of ``kind`` (one of ``KINDS``); raises ``ValueError`` for another kind."""
    if kind == "reliable":
        return WorkerModel(kind, reliable_confusion(n_classes, rng, accuracy, spread))
    if kind == "spammer":
        return WorkerModel(kind, spammer_confusion(n_classes))
    if kind == "adversary":
        return WorkerModel(kind, adversary_confusion(n_classes, rng))
    if kind == "drifter":
        return WorkerModel(kind, reliable_confusion(n_classes, rng, accuracy, spread),
                           degraded=one_coin(degraded_accuracy, n_classes), onset=onset)
    raise ValueError(f"unknown worker kind {kind!r}; one of {', '.join(KINDS)}")


def split_counts(total: int, shares: Sequence[float]) -> list[int]:
    """Whole counts summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    weights = np.asarray(shares, dtype=float)
    if total < 0 or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("need a non-negative total and non-negative shares with a positive sum")
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return [int(c) for c in counts]


def make_crowd(
    n_workers: int, shares: Sequence[float], n_classes: int, rng: np.random.Generator, *,
    onset: int = 40, accuracy: float = 0.85, spread: float = 0.1, degraded_accuracy: float = 0.3,
) -> list[WorkerModel]:
    """``n_workers`` workers split over ``KINDS`` by ``shares`` (reliable, spammer,
    adversary, drifter), in that order."""
    counts = split_counts(n_workers, shares)
    return [
        make_worker(kind, n_classes, rng, accuracy=accuracy, spread=spread, onset=onset,
                    degraded_accuracy=degraded_accuracy)
        for kind, count in zip(KINDS, counts, strict=True) for _ in range(count)
    ]


@dataclass(frozen=True)
class Dataset:
    """Items with hidden truth: ``truth[i]`` is item i's class, ``gold[i]`` whether
    it is imported as a gold item."""

    truth: np.ndarray  # (n,) int
    gold: np.ndarray  # (n,) bool

    @property
    def n_items(self) -> int:
        return int((~self.gold).sum())

    @property
    def n_gold(self) -> int:
        return int(self.gold.sum())


def make_dataset(n_items: int, n_gold: int, n_classes: int, rng: np.random.Generator,
                 shares: Sequence[float] | None = None) -> Dataset:
    """``n_items`` work items and ``n_gold`` gold items of uniformly random classes
    (or drawn with the class ``shares``: gold and work alike), the gold ones at
    random positions so that nothing in their order marks them."""
    total = n_items + n_gold
    if shares is None:
        truth = rng.integers(0, n_classes, size=total)
    else:
        p = np.asarray(shares, dtype=float)
        if len(p) != n_classes or (p < 0).any() or p.sum() <= 0:
            raise ValueError(f"need {n_classes} non-negative class shares with a positive sum")
        truth = rng.choice(n_classes, size=total, p=p / p.sum())
    gold = np.zeros(total, dtype=bool)
    gold[rng.choice(total, size=n_gold, replace=False)] = True
    return Dataset(truth, gold)
