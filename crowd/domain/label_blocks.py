"""Labels laid out by item for the two sums inside every EM iteration.

Every label joins an item to a target (for Dawid-Skene, the worker and the class
given). An iteration needs two sums over the labels:

- ``gather``: per item, the rows of a small per-target table summed over its
  labels (the E-step's log-likelihoods), written class-major (width, n_items);
- ``spread``: per target, a per-item value summed over its labels (the M-step's
  posterior mass), by ``np.add.at``.

``LabelBlocks`` renumbers the items once so that items with equally many labels
(rounded up, past ``EXACT_WIDTHS``, to one of four widths per doubling) sit
next to each other, the items without labels first. The m items of a block
with k labels each keep their targets as a (k, m) array, padded with target
``n_targets``, which the gathered table holds as a row of zeros and the spread
sums drop. Blocks are cut into slices of about ``SLICE_LABELS`` labels, so a
slice's targets and temporaries stay in cache from one class to the next, and
a slice's E-step is one ``take`` of whole table rows and one sum over its k
rows: no per-label Python loop, and nothing allocated per iteration.

``np.add.at`` holds the GIL and ``np.bincount`` too, so threads cannot share
the M-step; this runs on one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Labels per slice: few enough for its gathered rows (up to four numbers each) to
# stay in cache, enough that numpy's per-call cost stays small (16k-128k measured).
SLICE_LABELS = 65_536
# Items with up to this many labels get a block of their own count; above it the
# count is rounded up to one of four widths per doubling (at most a quarter of padding).
EXACT_WIDTHS = 16
# Labels counted per np.bincount call.
COUNT_LABELS = 1 << 20
# Table columns are gathered in groups of these widths: numpy copies rows of 8, 16
# and 32 bytes element by element, wider ones byte by byte.
GROUP_WIDTHS = (4, 2, 1)


@dataclass(frozen=True)
class Slice:
    """Items [lo, hi) in the new numbering, and the (k, hi - lo) targets of their labels."""

    lo: int
    hi: int
    targets: np.ndarray


class LabelBlocks:
    """Labels given as ``items`` and ``targets`` (n_labels,) ints, laid out by item.

    ``order`` (n_items,) is the original index of each item in the new numbering,
    or None when every item keeps its index; arrays indexed by item that are
    passed in or out are in the new numbering, and the ``n_empty`` items
    without labels come first. Labels already grouped by item in item order
    cost no (n_labels,) array beyond the (k, m) targets themselves: on large
    inputs, fresh memory can cost more to touch than the sums to compute.
    """

    def __init__(self, items: np.ndarray, targets: np.ndarray, n_items: int,
                 n_targets: int) -> None:
        self.n_items, self.n_targets = n_items, n_targets
        counts, grouped = _item_counts(items, n_items)
        if not grouped:
            targets = np.asarray(targets).take(_stable_order(items, n_items))
        first = np.zeros(n_items, dtype=np.intp)
        np.cumsum(counts[:-1], out=first[1:])
        widths = _widths(counts)
        self.order: np.ndarray | None = None
        if n_items and np.any(widths[1:] < widths[:-1]):
            self.order = _stable_order(_ranks(widths), n_items)
            counts, first, widths = counts[self.order], first[self.order], widths[self.order]
        self.counts = counts  # each item's number of labels
        self.n_empty = int(np.searchsorted(widths, 1))
        self.slices = _slices(targets, counts, first, widths, self.n_empty, n_targets)
        most_labels = max((s.targets.size for s in self.slices), default=0)
        most_items = max((s.hi - s.lo for s in self.slices), default=0)
        self._scratch = np.empty(most_labels * max(GROUP_WIDTHS))
        self._summed = np.empty(most_items * max(GROUP_WIDTHS))
        self._tables: dict[tuple[int, int], np.ndarray] = {}
        self._spread = np.zeros((0, 0))

    def gather(self, table: np.ndarray, offset: np.ndarray, out: np.ndarray) -> None:
        """out[c, i] = offset[c] + the sum of table[c, t] over the targets t of
        item i's labels; ``table`` (width, n_targets), ``out`` (width, n_items)."""
        out[:, :self.n_empty] = 0.0
        scratch = self._scratch
        for start, width, padded in self._groups(table):
            for s in self.slices:
                k, m = s.targets.shape
                if width == 1:
                    got = padded.take(s.targets, out=scratch[:k * m].reshape(k, m), mode="wrap")
                    np.add.reduce(got, axis=0, out=out[start, s.lo:s.hi])
                    continue
                got = padded.take(s.targets, axis=0, mode="wrap",
                                  out=scratch[:k * m * width].reshape(k, m, width))
                summed = np.add.reduce(got, axis=0, out=self._summed[:m * width].reshape(m, width))
                out[start:start + width, s.lo:s.hi] = summed.T
        out += offset[:, None]

    def spread(self, values: np.ndarray) -> np.ndarray:
        """For ``values`` (width, n_items): out[c, t] = the sum of values[c, i] over
        the labels (i, t); (width, n_targets), valid until the next call."""
        width = len(values)
        if self._spread.shape != (width, self.n_targets + 1):
            self._spread = np.empty((width, self.n_targets + 1))
        sums = self._spread
        sums.fill(0.0)
        for s in self.slices:
            size = s.targets.size
            repeated = self._scratch[:size].reshape(s.targets.shape)
            for c in range(width):
                np.copyto(repeated, values[c, s.lo:s.hi])
                np.add.at(sums[c], s.targets.reshape(-1), self._scratch[:size])
        return sums[:, :self.n_targets]

    def shares(self, target_class: np.ndarray, n_classes: int) -> np.ndarray:
        """Class-major (n_classes, n_items): the share of each item's labels whose
        target is of each class (``target_class`` (n_targets,)); uniform for an
        item without labels."""
        out = np.empty((n_classes, self.n_items))
        onehot = (target_class == np.arange(n_classes - 1)[:, None]).astype(float)
        self.gather(onehot, np.zeros(n_classes - 1), out[:-1])
        np.subtract(self.counts, out[:-1].sum(axis=0), out=out[-1])
        out[:, :self.n_empty] = 1.0 / n_classes
        out[:, self.n_empty:] /= self.counts[self.n_empty:]
        return out

    def _groups(self, table: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
        """(first column, width, the columns as a contiguous table with a zero
        padding row) for groups of ``table``'s columns of the widths numpy copies fast."""
        groups, start, left = [], 0, len(table)
        while left:
            width = next(w for w in GROUP_WIDTHS if w <= left)
            padded = self._tables.get((start, width))
            if padded is None:
                padded = self._tables[start, width] = np.zeros((self.n_targets + 1, width))
            padded[:-1] = table[start:start + width].T
            groups.append((start, width, padded[:, 0] if width == 1 else padded))
            start, left = start + width, left - width
        return groups


def _item_counts(items: np.ndarray, n_items: int) -> tuple[np.ndarray, bool]:
    """(each item's number of labels, whether the labels come grouped by item in
    item order), a million labels at a time (np.bincount copies its input to intp)."""
    counts = np.zeros(n_items, dtype=np.intp)
    grouped = True
    for a in range(0, len(items), COUNT_LABELS):
        counts += np.bincount(items[a:a + COUNT_LABELS], minlength=n_items)
        ahead = items[a:a + COUNT_LABELS + 1]
        grouped = grouped and not np.any(ahead[1:] < ahead[:-1])
    return counts, grouped


def _widths(counts: np.ndarray) -> np.ndarray:
    """Each item's block width: its label count, rounded up past EXACT_WIDTHS
    to a multiple of a quarter of the power of two below it."""
    widths = counts.astype(np.intp)
    big = widths > EXACT_WIDTHS
    if np.any(big):
        step = np.left_shift(1, np.frexp(widths[big])[1] - 3)
        widths[big] = -(-widths[big] // step) * step
    return widths


def _ranks(widths: np.ndarray) -> np.ndarray:
    """Each width's rank among the distinct widths, as 16-bit ints (there are
    fewer than 2**16 distinct widths: four per doubling past EXACT_WIDTHS)."""
    present = np.zeros(int(widths.max()) + 1, dtype=np.intp)
    present[widths] = 1
    return (np.cumsum(present) - 1).take(widths).astype(np.uint16)


def _slices(
    targets: np.ndarray, counts: np.ndarray, first: np.ndarray, widths: np.ndarray,
    n_empty: int, n_targets: int,
) -> list[Slice]:
    """Slices of about SLICE_LABELS labels over the items from ``n_empty`` on,
    whose labels' targets start at ``first`` in ``targets`` (grouped by item)."""
    slices = []
    cuts = np.flatnonzero(np.diff(widths[n_empty:])) + n_empty + 1
    bounds = [n_empty, *cuts.tolist(), len(widths)] if n_empty < len(widths) else [n_empty]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        k = int(widths[lo])
        rows, step = np.arange(k)[:, None], max(1, SLICE_LABELS // k)
        padded = bool(np.any(counts[lo:hi] < k))
        for a in range(lo, hi, step):
            b = min(hi, a + step)
            picked = targets.take(first[a:b] + rows, mode="clip").astype(np.intp, copy=False)
            if padded:
                picked[rows >= counts[a:b]] = n_targets
            slices.append(Slice(a, b, picked))
    return slices


def _stable_order(key: np.ndarray, size: int) -> np.ndarray:
    """A stable argsort of ``key`` (ints in [0, size)), as radix passes over 16-bit
    digits (numpy radix-sorts 16-bit ints in linear time, but merge-sorts wider ones)."""
    if size > 1 << 32:
        return np.argsort(key, kind="stable")
    order = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    if size > 1 << 16:
        high = (key >> 16).astype(np.uint16).take(order)
        order = order.take(np.argsort(high, kind="stable"))
    return order
