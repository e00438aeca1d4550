"""What counts as evidence of reliability, and the matrix a label is weighed with."""
from __future__ import annotations

import numpy as np
import pytest

from crowd.domain.aggregation import dawid_skene

from crowd.domain.reliability import (
    EVIDENCE_MODES,
    beta_accuracy,
    expected_accuracy,
    is_evidence,
    one_coin_confusion,
    worker_confusion,
)


def test_only_work_mode_answers_are_evidence():
    assert is_evidence("work")  # work labels and hidden gold alike
    assert not is_evidence("qualification")  # known gold, with feedback
    assert not is_evidence("training")  # a retraining round: the same
    assert not is_evidence("")
    assert EVIDENCE_MODES == ("work",)


def test_without_a_fit_the_hidden_record_gives_a_one_coin_matrix():
    labels = ["a", "b", "c"]
    newcomer = worker_confusion(labels, None, 0, 0)
    assert np.allclose(newcomer, one_coin_confusion(0.7, 3))  # the Beta(3.5, 1.5) prior
    assert newcomer[0, 1] == pytest.approx(0.15)
    # 1 of 5 hidden gold right: (1 + 3.5) / (5 + 5) = 0.45.
    low = worker_confusion(labels, None, 5, 1)
    assert np.diag(low) == pytest.approx([0.45] * 3)
    assert low.sum(axis=1) == pytest.approx([1.0] * 3)
    assert beta_accuracy(1, 5) == pytest.approx(0.45)


def test_a_fitted_confusion_wins_over_the_gold_record_and_is_normalised():
    labels = ["a", "b"]
    fitted = {"a": {"a": 0.3, "b": 0.3}, "b": {"a": 0.0, "b": 1.0}}
    matrix = worker_confusion(labels, fitted, 100, 100)
    assert matrix[0] == pytest.approx([0.5, 0.5])
    assert matrix[1, 1] == pytest.approx(1.0, abs=1e-5) and matrix[1, 0] > 0


def _crowd(rng: np.random.Generator, accuracies: list[float], n_items: int, per_item: int,
           n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(items, workers, classes, truth): per_item distinct workers label each item;
    errors spread evenly over the other classes."""
    truth = rng.integers(0, n_classes, n_items)
    items, workers, classes = [], [], []
    for i in range(n_items):
        for w in rng.choice(len(accuracies), per_item, replace=False):
            right = rng.random() < accuracies[w]
            wrong = (truth[i] + rng.integers(1, n_classes)) % n_classes
            items.append(i), workers.append(w), classes.append(truth[i] if right else wrong)
    return np.array(items), np.array(workers), np.array(classes), truth


def test_expected_accuracy_is_unbiased_where_the_smoothed_diagonal_reads_low():
    """A crowd like the simulator's (workers 0.75-0.9, four classes, three labels an
    item, ~100 labels a worker): the add-one smoothed matrices read the workers
    several points low on average; the expected share right is within 0.06 of each
    worker's real share (about two standard errors of 100 labels), and puts a
    random clicker at chance."""
    rng = np.random.default_rng(11)
    accuracies = [0.75, 0.78, 0.8, 0.85, 0.9, 0.9, 0.25]  # the last one clicks at random
    items, workers, classes, truth = _crowd(rng, accuracies, 230, 3, 4)
    fit = dawid_skene(items, workers, classes, 230, len(accuracies), 4)
    mine = expected_accuracy(fit.posteriors, items, workers, classes, len(accuracies))
    diagonal = (np.diagonal(fit.confusions, axis1=1, axis2=2) * fit.priors).sum(axis=1)
    observed = np.array([np.mean(classes[workers == w] == truth[items[workers == w]])
                         for w in range(len(accuracies))])
    assert np.all(np.abs(mine - observed) < 0.06), (mine, observed)
    assert np.mean(diagonal[:-1] - observed[:-1]) < np.mean(mine[:-1] - observed[:-1]) - 0.02
    assert mine[-1] < 0.4


def test_expected_accuracy_of_workers_without_labels_is_zero():
    posteriors = np.array([[0.9, 0.1], [0.2, 0.8]])
    got = expected_accuracy(posteriors, np.array([0, 1]), np.array([1, 1]), np.array([0, 0]), 3)
    assert got.tolist() == pytest.approx([0.0, 0.55, 0.0])
    assert expected_accuracy(posteriors, np.zeros(0, int), np.zeros(0, int), np.zeros(0, int),
                             2).tolist() == [0.0, 0.0]
