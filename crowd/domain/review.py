"""Completing an item, asking for one more worker, or sending it to an expert (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np


def item_posterior(
    given: np.ndarray, confusions: np.ndarray, prior: np.ndarray | None = None
) -> np.ndarray:
    """Posterior over the true class of one item.

    given: (k,) class indices of the k labels; confusions: (k, C, C), each
    worker's P(given label | true class) with rows = true class; prior: (C,),
    uniform when None. Returns (C,) probabilities summing to 1.
    """
    log_post = np.log(prior) if prior is not None else np.zeros(confusions.shape[1])
    if len(given):
        # log P(label_j | true = c) for each label j and class c: (k, C)
        picked = confusions[np.arange(len(given)), :, given]
        log_post = log_post + np.log(picked).sum(axis=0)
    log_post -= log_post.max()
    post = np.exp(log_post)
    return post / post.sum()


PRIOR_FLOOR = 0.01  # no class is ruled out by its prior alone


def class_prior(labels: list[str], priors: dict[str, float] | None) -> np.ndarray | None:
    """(C,) class prior from a Dawid-Skene run's ``{label: share}``, each share
    at least ``PRIOR_FLOOR`` before normalising; None (uniform) without one."""
    if not priors:
        return None
    shares = np.array([max(float(priors.get(name, 0.0)), PRIOR_FLOOR) for name in labels])
    return shares / shares.sum()


Outcome = Literal["wait", "complete", "more", "review"]


@dataclass(frozen=True)
class Decision:
    """What to do with an item after a label: ``needed`` is its new label target."""

    outcome: Outcome
    needed: int


def decide(
    top_posterior: float, n_labels: int, needed: int, max_redundancy: int, threshold: float
) -> Decision:
    """Complete once ``needed`` labels are in and the top class is confident enough;
    otherwise ask for one more worker up to ``max_redundancy``; then an expert."""
    if n_labels < needed:
        return Decision("wait", needed)
    if top_posterior >= threshold:
        return Decision("complete", needed)
    if n_labels < max_redundancy:
        return Decision("more", n_labels + 1)
    return Decision("review", needed)


def sample_for_qa(rng: np.random.Generator, review_rate: float) -> bool:
    """Whether a completed item goes to an expert anyway (random QA at ``review_rate``)."""
    return bool(review_rate > 0 and rng.random() < review_rate)
