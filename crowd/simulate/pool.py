"""Sharing a few client threads fairly among many simulated workers."""
from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from crowd.simulate.client import Api
from crowd.simulate.kinds import Mind
from crowd.simulate.workers import WorkerModel

IDLE_RETRY = 0.3  # seconds before a worker told "nothing left" (204) asks again


@dataclass
class SimWorker:
    """A simulated worker's account, connection and what they did."""

    index: int
    mind: Mind
    username: str
    password: str
    rng: np.random.Generator
    api: Api | None = None
    answers: int = 0
    work_answers: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    onset_ref: str | None = None  # external id of the first degraded answer
    retired: str | None = None  # "suspended", or a problem that stopped them
    idle_epoch: int = -1
    not_before: float = 0.0
    problems: list[str] = field(default_factory=list)
    # Sniffers: (external id, guessed gold) for each work offer answered.
    guesses: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def model(self) -> WorkerModel:
        return self.mind.model

    @property
    def kind(self) -> str:
        return self.mind.kind


class Coordinator:
    """Hands workers to threads, fairly, until every live worker is idle.

    The ``epoch`` moves on with every accepted answer and every aggregation;
    a worker told 204 asks again only once it has moved on (work may have come
    back: a disagreeing item wants one more label). A phase ends when no worker
    is out with a thread and every live one was idle at the current epoch.
    """

    def __init__(self, workers: list[SimWorker]) -> None:
        self.cond = threading.Condition()
        self.epoch = 0
        self.answers = 0
        self.busy = 0
        self.live = {w.index: w for w in workers if w.retired is None}
        for worker in self.live.values():
            worker.idle_epoch, worker.not_before = -1, 0.0
        self.ready: deque[SimWorker] = deque(self.live.values())

    def _done(self) -> bool:
        return self.busy == 0 and all(w.idle_epoch == self.epoch for w in self.live.values())

    def take(self) -> SimWorker | None:
        """The next worker to run, or None when the phase is over."""
        with self.cond:
            while True:
                if self._done():
                    self.cond.notify_all()
                    return None
                now = time.monotonic()
                for _ in range(len(self.ready)):
                    worker = self.ready.popleft()
                    if worker.idle_epoch != self.epoch and worker.not_before <= now:
                        self.busy += 1
                        return worker
                    self.ready.append(worker)
                self.cond.wait(timeout=IDLE_RETRY / 3)

    def give_back(self, worker: SimWorker, outcome: str) -> None:
        """Return a worker after a burst: ``idle`` (204), ``retired`` or ``worked``."""
        with self.cond:
            self.busy -= 1
            if outcome == "retired":
                self.live.pop(worker.index, None)
            else:
                if outcome == "idle":
                    worker.idle_epoch = self.epoch
                    worker.not_before = time.monotonic() + IDLE_RETRY
                self.ready.append(worker)
            self.cond.notify_all()

    def answered(self) -> int:
        """Count an accepted answer; returns the running total."""
        with self.cond:
            self.answers += 1
            self.epoch += 1
            self.cond.notify_all()
            return self.answers

    def moved(self) -> None:
        """Something other than an answer may have made work (an aggregation)."""
        with self.cond:
            self.epoch += 1
            self.cond.notify_all()

    def wait_for(self, answers: int, stop: threading.Event) -> bool:
        """Block until ``answers`` answers in all, or ``stop``; True when reached."""
        with self.cond:
            while self.answers < answers and not stop.is_set():
                self.cond.wait(timeout=0.5)
            return self.answers >= answers
