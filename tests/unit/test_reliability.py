"""What counts as evidence of reliability, and the matrix a label is weighed with."""
from __future__ import annotations

import numpy as np
import pytest

from crowd.domain.reliability import (
    EVIDENCE_MODES,
    beta_accuracy,
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
