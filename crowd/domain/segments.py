"""Sums over each item's labels: the sparse products inside each EM step.

Every label joins an item to a target (for Dawid-Skene, the worker and the
class given). An EM step needs two sums over the n_labels labels:

- ``gather_sums``: per item, a small per-target table summed over its labels
  (the E-step's log-probabilities). Complex tables carry two real columns.
- ``spread_sums``: per target, a per-item value summed over its labels (the
  M-step's posterior mass), by weighted ``np.bincount``.

``lay_out`` arranges the labels once so both are fast: items with the same
number k of labels form a block whose targets sit in a (k, m) array, so a sum is
k gathers or k bincounts over whole columns, with no per-label temporary. Items
with rare or large label counts go to a ragged part, summed run by run. Parts
are cut so that threads can share them; numpy releases the GIL inside.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

Pool = ThreadPoolExecutor | None

# Items with more labels than this, or label counts shared by fewer than
# MIN_BLOCK_LABELS labels in all, are summed run by run instead of by column.
MAX_WIDTH = 64
MIN_BLOCK_LABELS = 4096
# Below this many labels a thread's start-up costs more than it saves.
MIN_LABELS_PER_THREAD = 100_000


@dataclass(frozen=True)
class Part:
    """Some items and their labels' targets.

    With ``width`` k > 0, ``targets`` is (k, m): column r holds the targets of
    the k labels of ``items[r]``. With ``width`` 0 (ragged), ``targets`` is flat
    and item r's labels start at ``starts[r]`` and number ``lengths[r]``.
    """

    items: np.ndarray
    targets: np.ndarray
    width: int
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


Task = tuple[int, Part]


@dataclass(frozen=True)
class Layout:
    """The labels of ``n_items`` items, in parts one thread can take each."""

    n_items: int
    parts: list[Part]


def lay_out(items: np.ndarray, targets: np.ndarray, n_items: int, n_threads: int = 1) -> Layout:
    """Arrange labels, given as ``items`` and ``targets`` (n_labels,) ints, by item."""
    counts = np.bincount(items, minlength=n_items)
    targets = np.asarray(targets, dtype=np.intp)
    if np.any(items[1:] < items[:-1]):
        targets = targets.take(_stable_order(items, n_items))
    first = np.zeros(n_items, dtype=np.intp)
    np.cumsum(counts[:-1], out=first[1:])
    by_count = _stable_order(counts, int(counts.max(initial=0)) + 1)
    sorted_counts = counts.take(by_count)
    group_starts = [0, *(np.flatnonzero(np.diff(sorted_counts)) + 1).tolist()] if n_items else []
    bounds = [*group_starts, n_items]
    widths = sorted_counts.take(group_starts)
    # Two parts per thread, so a thread that falls behind can be covered for.
    piece = len(targets) + 1 if n_threads <= 1 else max(
        MIN_LABELS_PER_THREAD, len(targets) // (2 * n_threads) + 1)
    parts, ragged = [], []
    for k, lo, hi in zip(widths.tolist(), bounds[:-1], bounds[1:], strict=True):
        members = by_count[lo:hi]
        if k == 0:
            continue
        if k > MAX_WIDTH or k * len(members) < MIN_BLOCK_LABELS:
            ragged.append(members)
            continue
        columns = targets.take(first.take(members)[None, :] + np.arange(k)[:, None])
        step = max(1, piece // k)
        for a in range(0, len(members), step):
            parts.append(Part(members[a:a + step], columns[:, a:a + step], k))
    if ragged:
        parts.extend(_ragged_parts(np.sort(np.concatenate(ragged)), counts, first, targets, piece))
    return Layout(n_items, parts)


def _ragged_parts(
    members: np.ndarray, counts: np.ndarray, first: np.ndarray, targets: np.ndarray, piece: int
) -> list[Part]:
    """Ragged parts of about ``piece`` labels each for the items ``members``."""
    lengths = counts.take(members)
    ends = np.cumsum(lengths)
    parts = []
    cuts = [0, *np.searchsorted(ends, np.arange(piece, ends[-1], piece)).tolist(), len(members)]
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if a == b:
            continue
        runs = lengths[a:b]
        starts = np.zeros(b - a, dtype=np.intp)
        np.cumsum(runs[:-1], out=starts[1:])
        # Each label's position: its item's first label plus its rank in the run.
        rank = np.arange(int(runs.sum())) - np.repeat(starts, runs)
        positions = np.repeat(first.take(members[a:b]), runs) + rank
        parts.append(Part(members[a:b], targets.take(positions), 0, starts, runs))
    return parts


def gather_sums(
    tables: Sequence[np.ndarray], layout: Layout, pool: Pool = None
) -> list[np.ndarray]:
    """For each table (n_targets,), real or complex: out[i] = the sum of
    table[t] over the targets t of item i's labels; each out is (n_items,),
    0 for items without labels."""
    outs = [np.zeros(layout.n_items, dtype=table.dtype) for table in tables]

    def run(task: tuple[int, Part]) -> None:
        number, part = task
        table = tables[number]
        if part.width:
            total = table.take(part.targets[0])
            for row in part.targets[1:]:
                total += table.take(row)
            outs[number][part.items] = total
        else:
            outs[number][part.items] = np.add.reduceat(table.take(part.targets), part.starts)

    _each(run, [(n, part) for n in range(len(tables)) for part in layout.parts], pool)
    return outs


def spread_sums(values: np.ndarray, layout: Layout, size: int, pool: Pool = None) -> np.ndarray:
    """For each row of ``values`` (m, n_items), real, one number per item:
    out[row, t] = the sum of values[row, i] over the labels (i, t); (m, size)."""

    def run(task: tuple[int, Part]) -> np.ndarray:
        number, part = task
        per_item = values[number].take(part.items)
        if not part.width:
            return np.bincount(part.targets, np.repeat(per_item, part.lengths), minlength=size)
        if size > len(part.items):
            # Fewer items than targets: one bincount, not one (size,) output per row.
            return np.bincount(part.targets.ravel(), np.tile(per_item, part.width),
                               minlength=size)
        total = np.bincount(part.targets[0], per_item, minlength=size)
        for row in part.targets[1:]:
            total += np.bincount(row, per_item, minlength=size)
        return total

    tasks = [(n, part) for n in range(len(values)) for part in layout.parts]
    out = np.zeros((len(values), size))
    for (number, _), partial in zip(tasks, _each(run, tasks, pool), strict=True):
        out[number] += partial
    return out


@contextmanager
def thread_pool(n_threads: int) -> Iterator[Pool]:
    """A pool of ``n_threads`` threads, or None for one."""
    if n_threads <= 1:
        yield None
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        yield pool


def pack(rows: np.ndarray) -> list[np.ndarray]:
    """Rows (m, n) as ceil(m / 2) arrays (n,): complex pairs, a real one if m is odd."""
    packed = []
    for r in range(0, len(rows) - 1, 2):
        pair = np.empty(rows.shape[1], dtype=complex)
        pair.real, pair.imag = rows[r], rows[r + 1]
        packed.append(pair)
    if len(rows) % 2:
        packed.append(np.ascontiguousarray(rows[-1], dtype=float))
    return packed


def unpack(packed: list[np.ndarray], out: np.ndarray) -> np.ndarray:
    """Inverse of ``pack``: write the rows into ``out`` (m, n) and return it."""
    for j, part in enumerate(packed):
        if np.iscomplexobj(part):
            out[2 * j], out[2 * j + 1] = part.real, part.imag
        else:
            out[2 * j] = part
    return out


def _each(run: Callable[[Task], np.ndarray | None], tasks: list[Task], pool: Pool) -> list:
    """``run`` over the tasks, on the pool's threads when there is one; threads
    take the next task as they come free, so a stalled one holds up little."""
    if pool is None or len(tasks) < 2:
        return [run(task) for task in tasks]
    return list(pool.map(run, tasks))


def _stable_order(key: np.ndarray, size: int) -> np.ndarray:
    """A stable argsort of ``key``, as radix passes over 16-bit digits (numpy
    radix-sorts 16-bit ints in linear time, but merge-sorts wider ones)."""
    if size > 1 << 32:
        return np.argsort(key, kind="stable")
    order = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    if size > 1 << 16:
        high = (key >> 16).astype(np.uint16).take(order)
        order = order.take(np.argsort(high, kind="stable"))
    return order
