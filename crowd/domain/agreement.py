"""How far workers agree: kappa, alpha, specific agreement, balance, accuracy (pure).

Most measures take a rating-count matrix ``counts`` (n_items, n_classes):
how many workers gave each class to each item, as built by ``rating_counts``
from the parallel label arrays used across ``crowd.domain.aggregation``.
Items may have any number of ratings; items with fewer than two cannot show
agreement and are left out where pairs are counted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassBalance:
    """Labels per class: ``counts`` (n_classes,) int and ``shares`` (n_classes,)."""

    counts: np.ndarray
    shares: np.ndarray


@dataclass(frozen=True)
class AccuracyDistribution:
    """Workers' accuracy against truth and how it spreads.

    ``accuracy`` (n_workers,), NaN for workers with fewer than ``min_labels``
    labels on items with truth; ``scored`` (n_workers,) those label counts;
    ``edges`` (bins + 1,) and ``counts`` (bins,) the histogram over [0, 1] of the
    scored workers; ``levels`` and ``quantiles`` (len(levels),), NaN when no
    worker is scored.
    """

    accuracy: np.ndarray
    scored: np.ndarray
    edges: np.ndarray
    counts: np.ndarray
    levels: np.ndarray
    quantiles: np.ndarray


def rating_counts(
    items: np.ndarray, classes: np.ndarray, n_items: int, n_classes: int
) -> np.ndarray:
    """Ratings per (item, class), (n_items, n_classes) int, from (n_labels,) arrays."""
    items, classes = np.asarray(items, np.intp), np.asarray(classes, np.intp)
    flat = np.bincount(items * n_classes + classes, minlength=n_items * n_classes)
    return flat.reshape(n_items, n_classes)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa of ``counts`` (n_items, n_classes); NaN if undefined.

    With varying numbers of ratings per item this is Gwet's generalisation
    (Handbook of Inter-Rater Reliability, 2014; irrCAC's fleiss.kappa.raw):
    observed agreement averages each item's share of agreeing rating pairs over
    items with two or more ratings, and chance agreement uses class shares
    averaged over items with at least one rating. With a constant number of
    ratings it is Fleiss (1971) exactly.
    """
    counts = np.asarray(counts, dtype=float)
    per_item = counts.sum(axis=1)
    rated, paired = per_item > 0, per_item >= 2
    if not paired.any():
        return float("nan")
    n_paired = per_item[paired]
    agreement = (counts[paired] * (counts[paired] - 1)).sum(axis=1) / (n_paired * (n_paired - 1))
    observed = agreement.mean()
    shares = (counts[rated] / per_item[rated, None]).mean(axis=0)
    chance = float((shares**2).sum())
    return float("nan") if chance >= 1.0 else float((observed - chance) / (1.0 - chance))


def krippendorff_alpha(counts: np.ndarray) -> float:
    """Krippendorff's alpha for nominal data from ``counts`` (n_items, n_classes).

    Handles missing data: each item (unit) counts only the values it has, and
    units with a single value are not pairable and drop out (Krippendorff 2011,
    "Computing Krippendorff's alpha-reliability"). NaN when undefined.
    """
    counts = np.asarray(counts, dtype=float)
    per_unit = counts.sum(axis=1)
    pairable = per_unit >= 2
    values, m_u = counts[pairable], per_unit[pairable]
    n = m_u.sum()
    # Coincidences within a class, o_cc = sum_u n_uc (n_uc - 1) / (m_u - 1).
    within = ((values * (values - 1)).sum(axis=1) / (m_u - 1)).sum()
    per_class = values.sum(axis=0)
    expected = n * n - (per_class**2).sum()
    if n < 2 or expected <= 0:
        return float("nan")
    return float(1.0 - (n - 1) * (n - within) / expected)


def specific_agreement(counts: np.ndarray) -> np.ndarray:
    """Specific (per-class) agreement, (n_classes,); NaN for an unused class.

    For class c: of the ordered pairs of ratings on one item whose first rating
    is c, the share whose second is c too, sum_i n_ic (n_ic - 1) / sum_i n_ic
    (n_i - 1). With two raters this is the familiar 2a / (2a + b + c).
    """
    counts = np.asarray(counts, dtype=float)
    per_item = counts.sum(axis=1, keepdims=True)
    agreeing = (counts * (counts - 1)).sum(axis=0)
    involving = (counts * (per_item - 1)).clip(min=0).sum(axis=0)
    out = np.full(counts.shape[1], np.nan)
    np.divide(agreeing, involving, out=out, where=involving > 0)
    return out


def class_balance(classes: np.ndarray, n_classes: int) -> ClassBalance:
    """Counts and shares of each class among labels ``classes`` (n_labels,)."""
    return class_balance_of_counts(np.bincount(np.asarray(classes, np.intp), minlength=n_classes))


def class_balance_of_counts(counts: np.ndarray) -> ClassBalance:
    """``class_balance`` from labels already counted per class, (n_classes,) int."""
    total = counts.sum()
    shares = counts / total if total else np.zeros(len(counts))
    return ClassBalance(counts, shares)


def confusion_matrix(
    items: np.ndarray, classes: np.ndarray, truth: np.ndarray, n_classes: int
) -> np.ndarray:
    """Labels by (true class, class given), (n_classes, n_classes) int, over the
    labels of items whose ``truth`` (n_items,) is known (not -1)."""
    true = np.asarray(truth, np.intp).take(np.asarray(items, np.intp))
    given = np.asarray(classes, np.intp)
    keep = true >= 0
    flat = np.bincount(true[keep] * n_classes + given[keep], minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def worker_accuracy(
    items: np.ndarray,
    workers: np.ndarray,
    classes: np.ndarray,
    truth: np.ndarray,
    n_workers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy, scored), each (n_workers,): share of a worker's labels on items
    with ``truth`` (n_items,, -1 unknown) that match it (NaN if none), and how many."""
    true = np.asarray(truth, np.intp).take(np.asarray(items, np.intp))
    keep = true >= 0
    scored_by = np.asarray(workers, np.intp)[keep]
    right = (np.asarray(classes, np.intp)[keep] == true[keep]).astype(float)
    scored = np.bincount(scored_by, minlength=n_workers)
    hits = np.bincount(scored_by, right, minlength=n_workers)
    return scores_accuracy(hits, scored), scored


def scores_accuracy(hits: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Per worker the share ``hits / scored`` (n_workers,), NaN where ``scored`` is 0."""
    accuracy = np.full(len(scored), np.nan)
    np.divide(np.asarray(hits, float), scored, out=accuracy, where=np.asarray(scored) > 0)
    return accuracy


def accuracy_distribution(
    items: np.ndarray,
    workers: np.ndarray,
    classes: np.ndarray,
    truth: np.ndarray,
    n_workers: int,
    *,
    bins: int = 10,
    levels: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
    min_labels: int = 1,
) -> AccuracyDistribution:
    """Histogram and quantiles of worker accuracy against ``truth`` (n_items,)."""
    accuracy, scored = worker_accuracy(items, workers, classes, truth, n_workers)
    return accuracy_distribution_of_scores(accuracy, scored, bins=bins, levels=levels,
                                           min_labels=min_labels)


def accuracy_distribution_of_scores(
    accuracy: np.ndarray,
    scored: np.ndarray,
    *,
    bins: int = 10,
    levels: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
    min_labels: int = 1,
) -> AccuracyDistribution:
    """``accuracy_distribution`` from workers' (accuracy, scored) (n_workers,) each,
    as ``worker_accuracy`` gives them (or ``scores_accuracy`` from grouped counts)."""
    accuracy = np.array(accuracy, dtype=float)
    accuracy[scored < max(min_labels, 1)] = np.nan
    values = accuracy[~np.isnan(accuracy)]
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    level_array = np.asarray(levels, dtype=float)
    if len(values):
        quantiles = np.quantile(values, level_array)
    else:
        quantiles = np.full(len(level_array), np.nan)
    return AccuracyDistribution(accuracy, scored, edges, counts, level_array, quantiles)
