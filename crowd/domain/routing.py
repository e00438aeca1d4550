"""Choosing what kind of item a worker gets next (pure).

The database finds candidates; this module decides which pools to try, in
order, for a worker in a given state.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from crowd.domain.errors import Forbidden
from crowd.domain.gold import wants_gold

Pool = Literal["gold", "work"]
Mode = Literal["qualification", "training", "work"]


@dataclass(frozen=True)
class Pick:
    """Try this pool; serve what it yields in this mode."""

    pool: Pool
    mode: Mode


def plan_next(state: str, gold_rate: float, rng: np.random.Generator) -> list[Pick]:
    """The pools to try, in order, for a worker in ``state``.

    Qualification and retraining serve gold only, with feedback. An active
    worker gets hidden gold with probability ``gold_rate`` (served as ``work``,
    indistinguishable), falling back to work when no unseen gold is left; when
    there is no work, nothing is served, so gold is never spent on an idle queue.
    Raises ``Forbidden`` (code ``suspended``) for a suspended worker.
    """
    if state == "suspended":
        raise Forbidden("you are suspended from this project", code="suspended")
    if state == "qualification":
        return [Pick("gold", "qualification")]
    if state == "retraining":
        return [Pick("gold", "training")]
    if wants_gold(rng, gold_rate):
        return [Pick("gold", "work"), Pick("work", "work")]
    return [Pick("work", "work")]


def gold_start_key(rng: np.random.Generator, key_space: int) -> int:
    """A uniform random point on the gold shuffle ring, in ``[0, key_space)``."""
    return int(rng.integers(0, key_space))


def round_class(rng: np.random.Generator, labels: Sequence[str]) -> str:
    """The gold label a qualification or training offer is drawn from first:
    uniform over the project's labels (the round falls back to any unseen gold
    when that class has none left). So a round covers the classes evenly
    whatever the mix of the gold set, and a worker who gives one label to
    everything scores about 1/K, not the share of the commonest class (0.55 on
    a 55/25/15/5 gold set, enough to pass a 0.5 bar)."""
    return labels[int(rng.integers(len(labels)))]
