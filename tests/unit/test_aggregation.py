"""Majority vote, Dawid-Skene and one-coin on hand-made and planted data."""
from __future__ import annotations

import numpy as np
import pytest

from crowd.domain.aggregation import dawid_skene, encode, majority_vote, one_coin

# Float noise allowed when checking that EM's objective never decreases.
ROUNDING = 1e-12


def planted(
    rng: np.random.Generator,
    n_items: int,
    n_workers: int,
    n_classes: int,
    per_item: int,
    confusions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels drawn from known confusions: (items, workers, classes, truth, confusions)."""
    if confusions is None:
        noise = rng.dirichlet(np.ones(n_classes), size=(n_workers, n_classes))
        confusions = 0.4 * noise + 0.6 * np.eye(n_classes)
    truth = rng.integers(0, n_classes, n_items)
    items = np.repeat(np.arange(n_items), per_item)
    # Distinct workers per item: a random start, then a stride short enough not to wrap.
    start = rng.integers(0, n_workers, n_items)[:, None]
    stride = rng.integers(1, n_workers // per_item + 1, n_items)[:, None]
    workers = ((start + stride * np.arange(per_item)) % n_workers).ravel()
    cumulative = confusions.cumsum(axis=2)[workers, truth[items]]
    classes = (rng.random(len(items))[:, None] > cumulative[:, :-1]).sum(axis=1)
    return items, workers, classes, truth, confusions


def oracle_accuracy(
    items: np.ndarray, workers: np.ndarray, classes: np.ndarray, truth: np.ndarray,
    confusions: np.ndarray,
) -> float:
    """Accuracy of the Bayes decision under the planted confusions (uniform priors)."""
    n_classes = confusions.shape[1]
    scores = np.stack([
        np.bincount(items, np.log(confusions[workers, c, classes]), minlength=len(truth))
        for c in range(n_classes)
    ])
    return float((scores.argmax(axis=0) == truth).mean())


def test_majority_vote_returns_vote_shares() -> None:
    shares = majority_vote(
        np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]), np.array([1, 1, 0, 2]), 2, 3
    )
    np.testing.assert_allclose(shares, [[1 / 3, 2 / 3, 0], [0, 0, 1]])


def test_majority_vote_ties_break_toward_the_lowest_class() -> None:
    shares = majority_vote(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
                           np.array([2, 1, 0, 2]), 2, 3)
    assert shares.argmax(axis=1).tolist() == [1, 0]


def test_majority_vote_gives_items_without_labels_uniform_shares() -> None:
    shares = majority_vote(np.array([0]), np.array([0]), np.array([1]), 2, 4)
    np.testing.assert_allclose(shares[1], [0.25] * 4)


def test_majority_vote_weighs_workers() -> None:
    shares = majority_vote(np.array([0, 0, 0]), np.array([0, 1, 2]), np.array([0, 0, 1]), 1, 2,
                           worker_weights=np.array([1.0, 1.0, 3.0]))
    np.testing.assert_allclose(shares, [[0.4, 0.6]])


def test_encode_orders_items_by_first_appearance_and_classes_sorted() -> None:
    encoded = encode(["b", "a", "b"], ["w2", "w1", "w1"], ["yes", "no", "yes"])
    assert encoded.item_keys == ["b", "a"] and encoded.worker_keys == ["w2", "w1"]
    assert encoded.class_keys == ["no", "yes"]
    assert encoded.items.tolist() == [0, 1, 0] and encoded.classes.tolist() == [1, 0, 1]
    assert encoded.items.dtype == np.int32 and (encoded.n_items, encoded.n_classes) == (2, 2)


def test_encode_keeps_given_classes_and_refuses_others() -> None:
    encoded = encode(["i"], ["w"], ["b"], classes=["c", "b", "a"])
    assert encoded.classes.tolist() == [1] and encoded.n_classes == 3
    with pytest.raises(ValueError, match="'z'"):
        encode(["i"], ["w"], ["z"], classes=["a"])


def test_dawid_skene_recovers_planted_confusions() -> None:
    rng = np.random.default_rng(7)
    items, workers, classes, truth, confusions = planted(rng, 6000, 20, 3, 5)
    result = dawid_skene(items, workers, classes, 6000, 20, 3)
    assert result.converged
    assert np.abs(result.confusions - confusions).max() < 0.06
    np.testing.assert_allclose(result.confusions.sum(axis=2), 1.0)
    best = oracle_accuracy(items, workers, classes, truth, confusions)
    assert (result.posteriors.argmax(axis=1) == truth).mean() > best - 0.005
    np.testing.assert_allclose(result.priors, np.bincount(truth) / 6000, atol=0.02)


def test_dawid_skene_log_likelihood_never_decreases_on_synthetic_data() -> None:
    rng = np.random.default_rng(3)
    items, workers, classes, _, _ = planted(rng, 3000, 40, 4, 3)
    for smoothing in (1e-6, 1.0):
        result = dawid_skene(items, workers, classes, 3000, 40, 4, smoothing=smoothing,
                             tol=-np.inf, max_iter=60)
        assert result.iterations == 60 and not result.converged
        assert np.diff(result.log_likelihood).min() >= -ROUNDING


def test_dawid_skene_beats_majority_vote_against_a_sloppy_majority() -> None:
    rng = np.random.default_rng(11)
    n_classes = 2
    good = np.tile([[0.95, 0.05], [0.05, 0.95]], (2, 1, 1))
    sloppy = np.tile([[0.55, 0.45], [0.45, 0.55]], (3, 1, 1))
    items, workers, classes, truth, _ = planted(
        rng, 4000, 5, n_classes, 5, np.concatenate([good, sloppy]))
    mv = majority_vote(items, workers, classes, 4000, n_classes).argmax(axis=1)
    ds = dawid_skene(items, workers, classes, 4000, 5, n_classes).posteriors.argmax(axis=1)
    assert (ds == truth).mean() > (mv == truth).mean() + 0.05


def test_known_items_are_clamped_to_their_truth() -> None:
    # Three workers say 0 about item 0, whose known truth is 1.
    items, workers, classes = np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 0, 1]), np.zeros(5, int)
    known = np.array([1, -1])
    result = dawid_skene(items, workers, classes, 2, 3, 2, known=known)
    np.testing.assert_array_equal(result.posteriors[0], [0.0, 1.0])
    assert result.posteriors[1].sum() == pytest.approx(1.0)


def test_fully_known_items_give_confusions_from_smoothed_counts() -> None:
    items, workers = np.array([0, 1, 2, 0, 1, 2]), np.array([0, 0, 0, 1, 1, 1])
    classes, truth = np.array([0, 1, 1, 0, 0, 1]), np.array([0, 0, 1])
    result = dawid_skene(items, workers, classes, 3, 2, 2, known=truth, smoothing=1.0)
    # Worker 0: truth 0 -> said 0 once, 1 once; truth 1 -> said 1 once.
    np.testing.assert_allclose(result.confusions[0], [[2 / 4, 2 / 4], [1 / 3, 2 / 3]])
    np.testing.assert_allclose(result.confusions[1], [[3 / 4, 1 / 4], [1 / 3, 2 / 3]])
    np.testing.assert_array_equal(result.posteriors, np.eye(2)[truth])


def test_gold_items_orient_a_neutral_start_against_a_lying_crowd() -> None:
    # Every worker flips the label, so the crowd alone is indistinguishable from an
    # honest one; a tenth of the items with known truth settles which it is.
    rng = np.random.default_rng(5)
    flipped = np.tile([[0.1, 0.9], [0.9, 0.1]], (4, 1, 1))
    items, workers, classes, truth, _ = planted(rng, 2000, 4, 2, 3, flipped)
    known = np.where(np.arange(2000) < 200, truth, -1)
    neutral = np.full((2000, 2), 0.5)
    result = dawid_skene(items, workers, classes, 2000, 4, 2, known=known,
                         init_posteriors=neutral)
    assert (result.posteriors.argmax(axis=1)[200:] == truth[200:]).mean() > 0.95
    assert np.all(result.confusions[:, [0, 1], [1, 0]] > 0.8)
    assert np.diff(result.log_likelihood).min() >= -ROUNDING


def test_items_without_labels_take_the_class_priors() -> None:
    rng = np.random.default_rng(2)
    items, workers, classes, _, _ = planted(rng, 500, 10, 3, 3)
    result = dawid_skene(items, workers, classes, 501, 10, 3)
    np.testing.assert_allclose(result.posteriors[500], result.priors)


def test_result_is_the_same_whatever_the_label_order() -> None:
    rng = np.random.default_rng(9)
    items, workers, classes, _, _ = planted(rng, 50_000, 300, 5, 5)
    shuffle = rng.permutation(len(items))
    one = dawid_skene(items, workers, classes, 50_000, 300, 5, max_iter=15)
    many = dawid_skene(items[shuffle], workers[shuffle], classes[shuffle], 50_000, 300, 5,
                       max_iter=15)
    np.testing.assert_allclose(one.posteriors, many.posteriors, atol=1e-9)
    np.testing.assert_allclose(one.confusions, many.confusions, atol=1e-9)


def test_iteration_limits_and_start() -> None:
    rng = np.random.default_rng(4)
    items, workers, classes, _, _ = planted(rng, 300, 8, 2, 3)
    capped = dawid_skene(items, workers, classes, 300, 8, 2, max_iter=3)
    assert capped.iterations == 3 and len(capped.log_likelihood) == 3 and not capped.converged
    floored = dawid_skene(items, workers, classes, 300, 8, 2, tol=np.inf, min_iter=5)
    assert floored.iterations == 5 and floored.converged
    # From exactly uniform posteriors every worker looks alike, so EM stays put.
    neutral = dawid_skene(items, workers, classes, 300, 8, 2,
                          init_posteriors=np.full((300, 2), 0.5))
    np.testing.assert_allclose(neutral.posteriors, np.tile(neutral.priors, (300, 1)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"items": np.array([0, 5])}, "items"),
        ({"workers": np.array([0])}, "differ in length"),
        ({"classes": np.array([0.0, 1.0])}, "int array"),
        ({"smoothing": 0.0}, "positive"),
        ({"known": np.array([2, -1])}, "known"),
        ({"init_posteriors": np.ones((3, 2))}, "init_posteriors"),
    ],
)
def test_dawid_skene_refuses_bad_input(change: dict, message: str) -> None:
    args = {"items": np.array([0, 1]), "workers": np.array([0, 1]), "classes": np.array([0, 1])}
    args.update(change)
    options = {k: v for k, v in args.items() if k not in ("items", "workers", "classes")}
    with pytest.raises(ValueError, match=message):
        dawid_skene(args["items"], args["workers"], args["classes"], 2, 2, 2, **options)


def test_one_coin_recovers_worker_accuracies() -> None:
    rng = np.random.default_rng(8)
    accuracy = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    n_classes = 4
    off = (1 - accuracy) / (n_classes - 1)
    planted_conf = off[:, None, None] * np.ones((n_classes, n_classes))
    planted_conf[:, np.arange(n_classes), np.arange(n_classes)] = accuracy[:, None]
    items, workers, classes, truth, _ = planted(rng, 5000, 6, n_classes, 4, planted_conf)
    result = one_coin(items, workers, classes, 5000, 6, n_classes)
    estimated = result.confusions[:, np.arange(n_classes), np.arange(n_classes)]
    np.testing.assert_allclose(estimated, accuracy[:, None].repeat(n_classes, 1), atol=0.03)
    np.testing.assert_allclose(result.confusions.sum(axis=2), 1.0)
    best = oracle_accuracy(items, workers, classes, truth, planted_conf)
    assert (result.posteriors.argmax(axis=1) == truth).mean() > best - 0.005


def test_one_coin_log_likelihood_never_decreases_and_clamps() -> None:
    rng = np.random.default_rng(6)
    items, workers, classes, truth, _ = planted(rng, 2000, 30, 3, 3)
    known = np.where(np.arange(2000) < 100, truth, -1)
    result = one_coin(items, workers, classes, 2000, 30, 3, known=known, tol=-np.inf, max_iter=40)
    assert np.diff(result.log_likelihood).min() >= -ROUNDING
    np.testing.assert_array_equal(result.posteriors[:100], np.eye(3)[truth[:100]])


def test_one_coin_needs_two_classes() -> None:
    with pytest.raises(ValueError, match="two classes"):
        one_coin(np.array([0]), np.array([0]), np.array([0]), 1, 1, 1)


def test_no_labels_at_all_leave_every_item_uniform() -> None:
    none = np.array([], dtype=np.int32)
    for model in (dawid_skene, one_coin):
        result = model(none, none, none, 3, 2, 2)
        np.testing.assert_allclose(result.posteriors, 0.5)
        np.testing.assert_allclose(result.confusions.sum(axis=2), 1.0)


def test_overwhelming_evidence_stays_finite_and_monotone() -> None:
    # 1,000 sharp workers per item: log-odds in the thousands, past exp's range.
    rng = np.random.default_rng(13)
    sharp = np.tile([[0.95, 0.05], [0.05, 0.95]], (1000, 1, 1))
    items, workers, classes, truth, _ = planted(rng, 200, 1000, 2, 1000, sharp)
    for model in (dawid_skene, one_coin):
        result = model(items, workers, classes, 200, 1000, 2, tol=-np.inf, max_iter=10)
        assert np.isfinite(result.posteriors).all() and np.isfinite(result.log_likelihood).all()
        np.testing.assert_array_equal(result.posteriors.argmax(axis=1), truth)
        assert np.diff(result.log_likelihood).min() >= -ROUNDING
