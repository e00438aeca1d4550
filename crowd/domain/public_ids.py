"""Opaque item ids: what workers and experts know an item by (pure).

An item's ``public_id`` is drawn uniformly from ``[1, PUBLIC_ID_MAX]`` when it
is imported, for gold and work alike, so it carries no import order and no
grouping: gold imported in a batch of its own is spread over the whole range
like any other batch. The bound keeps every id exact as a JavaScript number.
"""
from __future__ import annotations

import secrets
from collections.abc import Collection

import numpy as np

PUBLIC_ID_MAX = 2**53 - 1


def random_public_id() -> int:
    """One id from the operating system's generator (for rows made outside an import)."""
    return secrets.randbelow(PUBLIC_ID_MAX) + 1


def draw_public_ids(rng: np.random.Generator, n: int,
                    taken: Collection[int] = ()) -> list[int]:
    """``n`` distinct ids, uniform on ``[1, PUBLIC_ID_MAX]``, none in ``taken``.

    A clash (about ``n**2 / 2**54`` likely in a batch) is simply drawn again.
    """
    chosen: list[int] = []
    seen = set(taken)
    while len(chosen) < n:
        for value in rng.integers(1, PUBLIC_ID_MAX, size=n - len(chosen), endpoint=True):
            if int(value) not in seen:
                seen.add(int(value))
                chosen.append(int(value))
    return chosen
