"""How reliable a worker is: gold accuracy as a Beta posterior, confusion matrices (pure).

What counts as evidence: a worker's reliability, for weighting labels and for
sanctions, rests only on answers given in work mode, that is work labels and
hidden gold. Qualification and training answers are given on items the worker
is told are gold, with the right answer shown after each one, so a worker who
tells gold from work can answer them honestly and everything else at random;
counting them would let every retraining round raise that worker's estimate.
They decide the round (qualification passed or failed) and nothing else.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Beta(3.5, 1.5) prior on accuracy: a newcomer counts as ~70% accurate, and a
# handful of gold answers is enough to move that substantially.
PRIOR_ALPHA = 3.5
PRIOR_BETA = 1.5

# The assignment modes whose answers are evidence of reliability. Work-mode
# offers look alike whether the item is gold or not (hidden gold).
EVIDENCE_MODES = ("work",)


def is_evidence(mode: str) -> bool:
    """Whether an answer given in ``mode`` counts towards the worker's reliability.

    True for work mode (work labels and hidden gold); False for ``qualification``
    and ``training``, whose gold is known to the worker and answered with feedback.
    """
    return mode in EVIDENCE_MODES


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
    hidden_seen: int,
    hidden_correct: int,
) -> np.ndarray:
    """The (C, C) confusion matrix to score a worker's labels with.

    The latest Dawid-Skene estimate when there is one (``confusion[true][given]``,
    fitted on work-mode labels only); otherwise a one-coin matrix from the
    worker's hidden-gold record (``hidden_correct`` of ``hidden_seen``), which for
    a newcomer is the shared prior. Pass the hidden record, never the whole gold
    record: qualification and training answers are not evidence (``is_evidence``).
    """
    n = len(labels)
    if confusion:
        matrix = np.array(
            [[float(confusion.get(t, {}).get(g, 0.0)) for g in labels] for t in labels]
        )
        matrix = np.clip(matrix, 1e-6, None)
        return matrix / matrix.sum(axis=1, keepdims=True)
    return one_coin_confusion(beta_accuracy(hidden_correct, hidden_seen), n)



def expected_accuracy(
    posteriors: np.ndarray, items: np.ndarray, workers: np.ndarray, classes: np.ndarray,
    n_workers: int,
) -> np.ndarray:
    """Each worker's expected share of right labels: (n_workers,) from a fit.

    ``posteriors`` (I, K) are a fit's item posteriors; label n is class
    ``classes[n]`` given by worker ``workers[n]`` on item ``items[n]``. A label
    scores the posterior of the class it gave, so the mean is the
    maximum-likelihood accuracy with none of the fit's add-one smoothing, which
    pulls every row of a matrix towards uniform: a worker at 0.85 with ~25
    labels per class reads about 0.77 on the smoothed diagonal, and a sanction
    at a 0.7 floor would fall on honest workers (tests/unit/test_reliability.py).
    The worker's own label is in the posterior; taking it out was tried and
    reads everyone 0.1-0.2 low, because two other labels leave an item's class
    uncertain. A worker with no label scores 0.
    """
    right = posteriors[items, classes] if len(items) else np.zeros(0)
    counts = np.bincount(workers, minlength=n_workers)
    return np.bincount(workers, weights=right, minlength=n_workers) / np.maximum(counts, 1)
