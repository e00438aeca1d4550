"""Labels laid out in blocks by item: the EM sums against a plain loop."""
from __future__ import annotations

import numpy as np
import pytest

from crowd.domain.label_blocks import SLICE_LABELS, LabelBlocks


def mixed_items(rng: np.random.Generator) -> np.ndarray:
    """Items 0-29,999 with 4 labels (several slices), 30,000-31,999 with 1-70
    (exact and rounded-up widths), one with more labels than a slice holds,
    the rest of 33,000 with none; shuffled."""
    items = np.concatenate([
        np.repeat(np.arange(30_000), 4),
        np.repeat(np.arange(30_000, 32_000), rng.integers(1, 71, 2_000)),
        np.full(SLICE_LABELS + 5, 32_500),
    ])
    return items[rng.permutation(len(items))]


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 7])
def test_sums_match_a_plain_loop_for_every_table_width(width: int) -> None:
    rng = np.random.default_rng(12)
    items = mixed_items(rng)
    targets = rng.integers(0, 500, len(items))
    blocks = LabelBlocks(items, targets, 33_000, 500)
    assert blocks.order is not None and blocks.n_empty == 33_000 - 32_001
    order = blocks.order
    table, offset = rng.random((width, 500)), rng.random(width)
    expected_gather = np.zeros((33_000, width))
    np.add.at(expected_gather, items, table[:, targets].T)
    out = np.full((width, 33_000), np.nan)
    blocks.gather(table, offset, out)
    np.testing.assert_allclose(out.T, expected_gather[order] + offset)
    values = rng.random((width, 33_000))
    expected_spread = np.zeros((width, 500))
    for c in range(width):
        np.add.at(expected_spread[c], targets, values[c, items])
    np.testing.assert_allclose(blocks.spread(values[:, order]), expected_spread)


def test_items_are_renumbered_by_label_count_keeping_their_order() -> None:
    items = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3, 3])
    blocks = LabelBlocks(items, np.arange(10), 5, 10)
    assert blocks.order is not None
    assert blocks.order.tolist() == [4, 1, 2, 0, 3] and blocks.n_empty == 1


def test_items_already_in_block_order_keep_their_numbers() -> None:
    items = np.repeat(np.arange(1000), 3)
    blocks = LabelBlocks(items, np.arange(3000) % 7, 1000, 7)
    assert blocks.order is None and blocks.n_empty == 0
    out = np.empty((1, 1000))
    blocks.gather(np.ones((1, 7)), np.zeros(1), out)
    np.testing.assert_array_equal(out, 3.0)


def test_no_labels_give_the_offset_and_no_mass() -> None:
    none = np.array([], dtype=np.int32)
    blocks = LabelBlocks(none, none, 3, 4)
    out = np.empty((2, 3))
    blocks.gather(np.ones((2, 4)), np.array([1.0, 2.0]), out)
    np.testing.assert_array_equal(out, [[1.0] * 3, [2.0] * 3])
    np.testing.assert_array_equal(blocks.spread(np.ones((2, 3))), np.zeros((2, 4)))


def test_shares_are_each_items_vote_shares() -> None:
    rng = np.random.default_rng(4)
    items = mixed_items(rng)
    classes = rng.integers(0, 3, len(items))
    blocks = LabelBlocks(items, classes, 33_000, 3)
    assert blocks.order is not None
    shares = blocks.shares(np.arange(3), 3)
    votes = np.zeros((33_000, 3))
    np.add.at(votes, (items, classes), 1.0)
    n = votes.sum(axis=1, keepdims=True)
    expected = np.where(n > 0, votes / np.maximum(n, 1), 1 / 3)[blocks.order]
    np.testing.assert_allclose(shares.T, expected)
