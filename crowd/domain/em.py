"""The EM machinery shared by Dawid-Skene and one-coin: loop, E-step, start, checks."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from crowd.domain.segments import Pool, thread_pool

# Below this many items per chunk the E-step's normalisation stays on one thread.
MIN_ITEMS_PER_THREAD = 20_000


@dataclass
class DSResult:
    """A fitted Dawid-Skene (or one-coin) model.

    ``posteriors`` (n_items, n_classes); ``confusions`` (n_workers, n_classes,
    n_classes), row = true class, column = label given, rows sum to 1;
    ``priors`` (n_classes,); ``log_likelihood`` holds the objective after each
    iteration (log-likelihood of the labels plus the log of the smoothing prior,
    per label), which EM never lets decrease.
    """

    posteriors: np.ndarray
    confusions: np.ndarray
    priors: np.ndarray
    iterations: int
    converged: bool
    log_likelihood: list[float] = field(default_factory=list)


# (posteriors (n_classes, n_items), pool) -> (each class's log joint minus the
# last class's (n_classes, n_items), the objective's other terms summed,
# confusions, priors)
Step = Callable[[np.ndarray, Pool], tuple[np.ndarray, float, np.ndarray, np.ndarray]]


def fit_em(
    step: Step,
    post: np.ndarray,
    known: np.ndarray | None,
    n_labels: int,
    tol: float,
    max_iter: int,
    min_iter: int,
    threads: int = 1,
) -> DSResult:
    """Alternate ``step`` (M-step, then the log joint it implies) and E-steps."""
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    clamp = clamp_targets(known, post.shape[1], post.shape[0])
    history: list[float] = []
    converged = False
    iteration = 0
    n_chunks = max(1, min(2 * threads, post.shape[1] // MIN_ITEMS_PER_THREAD))
    n_chunks = 1 if threads <= 1 else n_chunks
    with thread_pool(threads) as pool:
        while iteration < max_iter and not converged:
            iteration += 1
            rel, constant, confusions, priors = step(post, pool)
            post, item_total = e_step(rel, clamp, pool, n_chunks)
            history.append((item_total + constant) / max(n_labels, 1))
            converged = iteration >= max(min_iter, 2) and history[-1] - history[-2] < tol
    return DSResult(
        posteriors=np.ascontiguousarray(post.T),
        confusions=confusions,
        priors=priors,
        iterations=iteration,
        converged=converged,
        log_likelihood=history,
    )


def e_step(
    rel: np.ndarray,
    clamp: tuple[np.ndarray, np.ndarray] | None,
    pool: Pool = None,
    n_chunks: int = 1,
) -> tuple[np.ndarray, float]:
    """Posteriors (n_classes, n_items), computed in place from ``rel``: each
    class's log joint minus the last class's, so ``rel[-1]`` is 0. Also returns
    the sum over items of log p(item's labels), likewise minus the last class's
    log joint (for a clamped item, its true class's term instead)."""
    n_classes, n_items = rel.shape
    body = rel[:-1]
    peak = float(body.max()) if body.size else 0.0
    # Relative to the last class, exp cannot overflow below 709 and the sum is
    # at least 1, so one exp per other class suffices; else shift by each max.
    direct = peak < 700.0
    tops, totals = np.zeros(n_items), np.ones(n_items)
    if clamp is not None:
        index, truth = clamp
        clamped = rel[truth, index]

    def run(span: tuple[int, int]) -> None:
        part = rel[:, span[0]:span[1]]
        if direct:
            np.exp(part[:-1], out=part[:-1])
            total = part[:-1].sum(axis=0) + 1.0
            part[:-1] /= total
            np.divide(1.0, total, out=part[-1])
        else:
            top = part.max(axis=0)
            part -= top
            np.exp(part, out=part)
            total = part.sum(axis=0)
            part /= total
            tops[span[0]:span[1]] = top
        totals[span[0]:span[1]] = total

    cuts = np.linspace(0, n_items, max(1, n_chunks) + 1).astype(int)
    spans = list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))
    if pool is None or len(spans) == 1:
        run(spans[0])
    else:
        for _ in pool.map(run, spans):
            pass
    bound = 1.0 + (n_classes - 1) * np.exp(max(peak, 0.0)) if direct else n_classes
    log_total = tops.sum() + _sum_of_logs(totals, bound)
    if clamp is not None:
        log_total += (clamped - tops[index] - np.log(totals[index])).sum()
        rel[:, index] = 0.0
        rel[truth, index] = 1.0
    return rel, float(log_total)


def _sum_of_logs(values: np.ndarray, bound: float) -> float:
    """sum(log(values)) for values in [1, bound], as logs of block products small
    enough not to overflow: one logarithm per block (np.log is slow per element)."""
    block = max(1, int(700 // max(np.log(bound), 1.0)))
    padded = np.ones(-(-len(values) // block) * block)
    padded[:len(values)] = values
    return float(np.log(padded.reshape(-1, block).prod(axis=1)).sum())


def start_posteriors(
    items: np.ndarray,
    classes: np.ndarray,
    n_items: int,
    n_classes: int,
    init_posteriors: np.ndarray | None,
    known: np.ndarray | None,
) -> np.ndarray:
    """The first posteriors, class-major (n_classes, n_items), known items clamped."""
    if init_posteriors is None:
        post = vote_shares(items, classes, n_items, n_classes, None)
    else:
        init = np.asarray(init_posteriors, dtype=float)
        if init.shape != (n_items, n_classes):
            raise ValueError(f"init_posteriors must have shape ({n_items}, {n_classes})")
        post = np.array(init.T, order="C")
    clamp = clamp_targets(known, n_items, n_classes)
    if clamp is not None:
        index, truth = clamp
        post[:, index] = 0.0
        post[truth, index] = 1.0
    return post


def vote_shares(
    items: np.ndarray,
    classes: np.ndarray,
    n_items: int,
    n_classes: int,
    weights: np.ndarray | None,
) -> np.ndarray:
    """Class-major vote shares (n_classes, n_items); uniform where no votes."""
    cells = classes.astype(np.intp) * n_items
    cells += items
    votes = np.bincount(cells, weights, minlength=n_classes * n_items)
    votes = votes.reshape(n_classes, n_items).astype(float, copy=False)
    totals = votes.sum(axis=0)
    shares = np.full_like(votes, 1.0 / max(n_classes, 1))
    np.divide(votes, totals, out=shares, where=totals > 0)
    return shares


def class_priors(post: np.ndarray, prior_smoothing: float) -> np.ndarray:
    """Class priors (n_classes,) from class-major posteriors plus pseudo-counts."""
    priors = post.sum(axis=1) + prior_smoothing
    return priors / priors.sum()


def clamp_targets(
    known: np.ndarray | None, n_items: int, n_classes: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(item indices, their classes) of the items whose truth is known."""
    if known is None:
        return None
    known = np.asarray(known)
    if known.shape != (n_items,) or not np.issubdtype(known.dtype, np.integer):
        raise ValueError(f"known must be an int array of shape ({n_items},)")
    if n_items and (known.min() < -1 or known.max() >= n_classes):
        raise ValueError("known holds a class outside [-1, n_classes)")
    index = np.flatnonzero(known >= 0)
    return (index, known[index].astype(np.intp)) if len(index) else None


def check_smoothing(smoothing: float, prior_smoothing: float) -> None:
    """Refuse pseudo-counts that would let a log-probability reach -inf."""
    if not smoothing > 0 or not prior_smoothing > 0:
        raise ValueError("smoothing and prior_smoothing must be positive")


def checked_labels(
    items: np.ndarray,
    workers: np.ndarray,
    classes: np.ndarray,
    n_items: int,
    n_workers: int | None,
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The label arrays, checked: 1-D ints of one length, each within its size
    (None: unchecked). They keep their dtype; callers widen what they index with
    repeatedly, since np.take and np.bincount convert int32 on every call."""
    arrays = []
    for name, values, size in (
        ("items", items, n_items),
        ("workers", workers, n_workers),
        ("classes", classes, n_classes),
    ):
        values = np.asarray(values)
        if values.ndim != 1 or (values.size and not np.issubdtype(values.dtype, np.integer)):
            raise ValueError(f"{name} must be a 1-D int array")
        if size is not None and values.size and (values.min() < 0 or values.max() >= size):
            raise ValueError(f"{name} holds an index outside [0, {size})")
        arrays.append(values)
    if not len(arrays[0]) == len(arrays[1]) == len(arrays[2]):
        raise ValueError("items, workers and classes differ in length")
    return arrays[0], arrays[1], arrays[2]
