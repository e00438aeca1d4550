"""Per-app runtime services: the clock and the seeded random generator."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import numpy as np
from flask import Flask, current_app

from crowd.persistence import utcnow


class RandomSource:
    """A seeded master generator handing each request a generator of its own.

    numpy generators are not thread-safe; drawing a child seed under a lock
    keeps threads apart while a fixed seed still makes a test repeatable.
    """

    def __init__(self, seed: int | None) -> None:
        self._master = np.random.default_rng(seed)
        self._lock = threading.Lock()

    def child(self) -> np.random.Generator:
        with self._lock:
            seed = int(self._master.integers(0, 2**63 - 1))
        return np.random.default_rng(seed)


def init_app(app: Flask) -> None:
    """Attach the clock and random source to ``app``."""
    app.extensions["crowd_random"] = RandomSource(app.config.get("RANDOM_SEED"))
    app.extensions.setdefault("crowd_clock", utcnow)


def rng() -> np.random.Generator:
    """A fresh generator for this request, drawn from the app's seeded source."""
    return current_app.extensions["crowd_random"].child()


def now() -> datetime:
    """The app's current time (tests may swap the clock)."""
    clock: Callable[[], datetime] = current_app.extensions["crowd_clock"]
    return clock()
