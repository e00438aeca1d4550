"""How reliable a worker is: gold accuracy as a Beta posterior, confusion matrices (pure)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Beta(3.5, 1.5) prior on accuracy: a newcomer counts as ~70% accurate, and a
# handful of gold answers is enough to move that substantially.
PRIOR_ALPHA = 3.5
PRIOR_BETA = 1.5


def beta_accuracy(correct: int, seen: int, alpha: float = PRIOR_ALPHA, beta: float = PRIOR_BETA) -> float:
    """Posterior mean accuracy after ``correct`` of ``seen`` gold answers."""
    return (correct + alpha) / (seen + alpha + beta)


def one_coin_confusion(accuracy: float, n_classes: int) -> np.ndarray:
    """A (n_classes, n_classes) confusion matrix: ``accuracy`` on the diagonal,
    the rest spread evenly over the other classes."""
    accuracy = float(np.clip(accuracy, 1e-6, 1 - 1e-6))
    off = (1.0 - accuracy) / (n_classes - 1)
    matrix = np.full((n_classes, n_classes), off)
    np.fill_diagonal(matrix, accuracy)
    return matrix


def worker_confusion(
    labels: Sequence[str],
    confusion: dict[str, dict[str, float]] | None,
    gold_seen: int,
    gold_correct: int,
) -> np.ndarray:
    """The (C, C) confusion matrix to score a worker's labels with.

    The latest Dawid-Skene estimate when there is one (``confusion[true][given]``);
    otherwise a one-coin matrix from the worker's gold record, which for a
    newcomer is the shared prior.
    """
    n = len(labels)
    if confusion:
        matrix = np.array(
            [[float(confusion.get(t, {}).get(g, 0.0)) for g in labels] for t in labels]
        )
        matrix = np.clip(matrix, 1e-6, None)
        return matrix / matrix.sum(axis=1, keepdims=True)
    return one_coin_confusion(beta_accuracy(gold_correct, gold_seen), n)
