"""The EM machinery shared by Dawid-Skene and one-coin: loop, E-step, start, checks."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


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


# posteriors (n_classes, n_items) -> (each class's log joint minus the last
# class's (n_classes, n_items), the objective's other terms summed, confusions,
# priors); the log joints may overwrite the posteriors, which are then spent.
Step = Callable[[np.ndarray], tuple[np.ndarray, float, np.ndarray, np.ndarray]]


def fit_em(
    step: Step,
    post: np.ndarray,
    known: np.ndarray | None,
    n_labels: int,
    tol: float,
    max_iter: int,
    min_iter: int,
) -> DSResult:
    """Alternate ``step`` (M-step, then the log joint it implies) and E-steps."""
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    e_step = EStep(post.shape[1], clamp_targets(known, post.shape[1], post.shape[0]))
    history: list[float] = []
    converged = False
    iteration = 0
    while iteration < max_iter and not converged:
        iteration += 1
        rel, constant, confusions, priors = step(post)
        post, item_total = e_step(rel)
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


class EStep:
    """The E-step's normalisation, with its per-item buffers kept from one
    iteration to the next; ``clamp`` as ``clamp_targets`` returns it."""

    def __init__(self, n_items: int, clamp: tuple[np.ndarray, np.ndarray] | None) -> None:
        self.clamp = clamp
        self.totals = np.empty(n_items)
        self.tops = np.empty(n_items)

    def __call__(self, rel: np.ndarray) -> tuple[np.ndarray, float]:
        """Posteriors (n_classes, n_items), computed in place from ``rel``: each
        class's log joint minus the last class's, so ``rel[-1]`` is 0. Also returns
        the sum over items of log p(item's labels), likewise minus the last class's
        log joint (for a clamped item, its true class's term instead)."""
        body, totals, tops = rel[:-1], self.totals, self.tops
        peak = float(body.max()) if body.size else 0.0
        # Relative to the last class, exp cannot overflow below 709 and the sum is
        # at least 1, so one exp per other class suffices; else shift by each max.
        direct = peak < 700.0
        if self.clamp is not None:
            index, truth = self.clamp
            clamped = rel[truth, index]
        if direct:
            np.exp(body, out=body)
            np.add.reduce(body, axis=0, out=totals, initial=1.0)
            np.divide(1.0, totals, out=rel[-1])
            body *= rel[-1]
            log_total = _sum_of_logs(totals, 1.0 + len(body) * np.exp(max(peak, 0.0)))
        else:
            np.maximum.reduce(rel, axis=0, out=tops)
            rel -= tops
            np.exp(rel, out=rel)
            np.add.reduce(rel, axis=0, out=totals)
            rel /= totals
            log_total = float(tops.sum()) + _sum_of_logs(totals, len(rel))
        if self.clamp is not None:
            shift = 0.0 if direct else tops[index]
            log_total += float((clamped - shift - np.log(totals[index])).sum())
        return clamp(rel, self.clamp), log_total


def _sum_of_logs(values: np.ndarray, bound: float) -> float:
    """sum(log(values)) for values in [1, bound], as logs of products of groups
    small enough not to overflow: one logarithm per group."""
    group = max(1, int(700 // max(np.log(bound), 1.0)))
    n_groups = len(values) // group
    products = np.multiply.reduce(values[:n_groups * group].reshape(group, n_groups), axis=0)
    return float(np.log(products).sum() + np.log(values[n_groups * group:]).sum())


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
        post = given_start(init_posteriors, n_items, n_classes)
    return clamp(post, clamp_targets(known, n_items, n_classes))


def given_start(init_posteriors: np.ndarray, n_items: int, n_classes: int) -> np.ndarray:
    """``init_posteriors`` (n_items, n_classes), checked, as a class-major copy."""
    init = np.asarray(init_posteriors, dtype=float)
    if init.shape != (n_items, n_classes):
        raise ValueError(f"init_posteriors must have shape ({n_items}, {n_classes})")
    return np.array(init.T, order="C")


def clamp(post: np.ndarray, targets: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """``post`` (n_classes, n_items) with the items of ``targets`` (as
    ``clamp_targets`` gives them) set to their class, in place."""
    if targets is not None:
        index, truth = targets
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
