"""Agreement measures against published worked examples and hand counts."""
from __future__ import annotations

import math

import numpy as np
import pytest

from crowd.domain.agreement import (
    accuracy_distribution,
    class_balance,
    confusion_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    rating_counts,
    specific_agreement,
)

# Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14
# raters, 5 categories; P-bar = 0.378, P_e = 0.213, kappa = 0.210.
WIKIPEDIA_FLEISS = np.array([
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
])

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# 4 observers x 12 units, nominal values 1-5, None where a value is missing;
# alpha (nominal) = 0.743.
KRIPPENDORFF_UNITS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_fleiss_kappa_matches_the_published_example() -> None:
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_with_varying_raters_per_item() -> None:
    # Observed: items 1-3 agree 1, 0, 1 (item 4 has one rating) -> 2/3. Class
    # shares averaged over rated items: (1 + .5 + 1 + 0) / 4 = .625 and .375.
    counts = np.array([[2, 0], [1, 1], [3, 0], [0, 1]])
    chance = 0.625**2 + 0.375**2
    assert fleiss_kappa(counts) == pytest.approx((2 / 3 - chance) / (1 - chance))


def test_fleiss_kappa_is_undefined_without_pairs_or_variety() -> None:
    assert math.isnan(fleiss_kappa(np.array([[1, 0], [0, 1]])))
    assert math.isnan(fleiss_kappa(np.array([[3, 0], [2, 0]])))


def test_krippendorff_alpha_matches_the_worked_example_with_missing_data() -> None:
    items, classes = [], []
    for observer in KRIPPENDORFF_UNITS:
        for unit, value in enumerate(observer):
            if value is not None:
                items.append(unit)
                classes.append(value - 1)
    counts = rating_counts(np.array(items), np.array(classes), 12, 5)
    assert krippendorff_alpha(counts) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_is_one_for_perfect_agreement_and_nan_without_variety() -> None:
    assert krippendorff_alpha(np.array([[2, 0], [0, 3], [1, 0]])) == pytest.approx(1.0)
    assert math.isnan(krippendorff_alpha(np.array([[2, 0], [3, 0]])))


def test_specific_agreement_by_hand() -> None:
    # Two raters: 40 items both positive, 15 split, 45 both negative.
    counts = np.array([[2, 0]] * 40 + [[1, 1]] * 15 + [[0, 2]] * 45)
    np.testing.assert_allclose(specific_agreement(counts), [80 / 95, 90 / 105])


def test_specific_agreement_ignores_single_ratings_and_flags_unused_classes() -> None:
    agreement = specific_agreement(np.array([[3, 0, 0], [1, 1, 0], [0, 1, 0]]))
    # Class 0: agreeing 3*2 = 6 of 3*2 + 1*1 = 7; class 1: 0 of 1; class 2 unused.
    np.testing.assert_allclose(agreement[:2], [6 / 7, 0.0])
    assert math.isnan(agreement[2])


def test_class_balance_counts_and_shares() -> None:
    balance = class_balance(np.array([0, 2, 2, 1, 2]), 4)
    assert balance.counts.tolist() == [1, 1, 3, 0]
    np.testing.assert_allclose(balance.shares, [0.2, 0.2, 0.6, 0.0])


def test_confusion_matrix_counts_labels_of_items_with_truth() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]),
                              np.array([0, 1, -1]), 2)
    assert matrix.tolist() == [[1, 1], [0, 2]]


def test_accuracy_distribution_of_workers() -> None:
    items, workers = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 0, 1, 2])
    classes, truth = np.array([0, 1, 1, 1, 0]), np.array([0, 1, -1])
    spread = accuracy_distribution(items, workers, classes, truth, 3, bins=2, levels=(0.5,))
    np.testing.assert_allclose(spread.accuracy[:2], [1.0, 0.5])
    assert math.isnan(spread.accuracy[2]) and spread.scored.tolist() == [2, 2, 0]
    assert spread.counts.tolist() == [0, 2] and spread.edges.tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_allclose(spread.quantiles, [0.75])


def test_accuracy_distribution_leaves_out_workers_below_min_labels() -> None:
    spread = accuracy_distribution(np.array([0]), np.array([0]), np.array([0]), np.array([0]), 1,
                                   min_labels=2)
    assert math.isnan(spread.accuracy[0]) and spread.counts.sum() == 0
    assert np.isnan(spread.quantiles).all()
