"""How each kind of simulated worker acts on an offer, seeing only what a client sees.

A ``Mind`` is one worker's strategy and memory. It is shown a ``Seen`` (the
offer as the API gave it: item id, data, mode, labels, and how long ``next``
took) and the class of the item as a person looking at it would perceive it
(``truth``), and returns a ``Choice``: the class to give, the ``duration_ms``
to report and, for gold sniffers, whether it guessed the offer to be gold.
After the answer it ``learn``s from the response (feedback in qualification
and training). It is never told whether a work offer is gold: the simulator
keeps that to score the guesses afterwards.

The kinds added here: lazy majority clickers, colluding groups, slow
drifters and speed bots; the three gold sniffers are in ``sniffers``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crowd.simulate.workers import KINDS, WorkerModel, make_worker, reliable_confusion

# The kinds added to the original four, in the order of their share options.
NEW_KINDS = ("lazy", "colluder", "sniffer_id", "sniffer_content", "sniffer_timing",
             "slow_drifter", "speed_bot")
ALL_KINDS = KINDS + NEW_KINDS
SNIFFERS = ("sniffer_id", "sniffer_content", "sniffer_timing")
ROUND_MODES = ("qualification", "training")  # every offer is gold, with feedback


@dataclass(frozen=True)
class Seen:
    """An offer as the client sees it."""

    item_id: int | str
    data: Any
    mode: str
    labels: tuple[str, ...]
    latency: float = 0.0  # seconds the ``next`` call took

    @property
    def known_gold(self) -> bool:
        """Qualification and training serve only gold, and say so by their mode."""
        return self.mode in ROUND_MODES


@dataclass(frozen=True)
class Choice:
    """What a worker answers: a class index, the duration reported, a gold guess."""

    given: int
    duration_ms: int
    guess_gold: bool | None = None


def human_duration(rng: np.random.Generator, median_ms: float = 4000.0) -> int:
    """A person's time on an item: log-normal around ``median_ms``."""
    return int(rng.lognormal(np.log(median_ms), 0.5))


class Mind:
    """A worker answering from its confusion matrix (the original four kinds)."""

    def __init__(self, model: WorkerModel) -> None:
        self.model = model

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def n_classes(self) -> int:
        return int(self.model.confusion.shape[0])

    def is_degraded(self, work_answers: int) -> bool:
        return self.model.is_degraded(work_answers)

    def honest(self, truth: int, work_answers: int, rng: np.random.Generator) -> int:
        return self.model.answer(truth, work_answers, rng)

    def choose(self, seen: Seen, truth: int, work_answers: int,
               rng: np.random.Generator) -> Choice:
        given = self.honest(truth, work_answers, rng)
        return Choice(given, human_duration(rng))

    def learn(self, seen: Seen, given: int, response: Mapping[str, Any]) -> None:
        """Take in the answer's response (feedback, in qualification and training)."""


class Lazy(Mind):
    """Always gives one class: ``fixed``, or (``fixed`` None) the class most often
    expected in the feedback seen so far (``start`` before any feedback)."""

    def __init__(self, model: WorkerModel, fixed: int | None, start: int) -> None:
        super().__init__(model)
        self.fixed, self.start = fixed, start
        self.expected: Counter[int] = Counter()

    def choose(self, seen: Seen, truth: int, work_answers: int,
               rng: np.random.Generator) -> Choice:
        if self.fixed is not None:
            given = self.fixed
        elif self.expected:
            top = max(self.expected.values())
            given = min(c for c, n in self.expected.items() if n == top)
        else:
            given = self.start
        return Choice(given, human_duration(rng, 1500.0))

    def learn(self, seen: Seen, given: int, response: Mapping[str, Any]) -> None:
        expected = (response.get("feedback") or {}).get("expected")
        if expected in seen.labels:
            self.expected[seen.labels.index(expected)] += 1


class Colluder(Mind):
    """One of a group that, in work mode, gives ``pushed`` for every item of class
    ``target`` and is honest otherwise (qualification and training included:
    there the group knows it is watched)."""

    def __init__(self, model: WorkerModel, group: int, target: int, pushed: int) -> None:
        super().__init__(model)
        self.group, self.target, self.pushed = group, target, pushed

    def choose(self, seen: Seen, truth: int, work_answers: int,
               rng: np.random.Generator) -> Choice:
        if seen.mode == "work" and truth == self.target:
            return Choice(self.pushed, human_duration(rng))
        return super().choose(seen, truth, work_answers, rng)


def slow_drift_accuracy(work_answers: int, start: float, end: float, after: int,
                        over: int) -> float:
    """``start`` for ``after`` work answers, then linearly down to ``end`` over the
    next ``over`` answers, and ``end`` from then on."""
    if work_answers < after:
        return start
    if over <= 0 or work_answers >= after + over:
        return end
    return start + (end - start) * (work_answers - after) / over


class SlowDrifter(Mind):
    """Reliable (about 0.9) for ``after`` work answers, then decaying linearly to
    ``end`` over ``over`` more. The matrix at each step is the worker's own
    blended with uniform guessing so that its mean accuracy follows the schedule."""

    def __init__(self, model: WorkerModel, after: int, over: int, end: float = 0.4) -> None:
        super().__init__(model)
        self.after, self.over, self.end = after, over, end
        self.start = float(np.mean(np.diag(model.confusion)))

    def accuracy(self, work_answers: int) -> float:
        return slow_drift_accuracy(work_answers, self.start, self.end, self.after, self.over)

    def is_degraded(self, work_answers: int) -> bool:
        return work_answers >= self.after

    def matrix(self, work_answers: int) -> np.ndarray:
        c = self.n_classes
        uniform = np.full((c, c), 1.0 / c)
        weight = (self.accuracy(work_answers) - 1.0 / c) / (self.start - 1.0 / c)
        return weight * self.model.confusion + (1.0 - weight) * uniform

    def honest(self, truth: int, work_answers: int, rng: np.random.Generator) -> int:
        row = self.matrix(work_answers)[truth]
        return int(rng.choice(len(row), p=row))


class SpeedBot(Mind):
    """Answers at once, at random, whatever the mode: ``duration_ms`` of 50-400."""

    def choose(self, seen: Seen, truth: int, work_answers: int,
               rng: np.random.Generator) -> Choice:
        return Choice(int(rng.integers(self.n_classes)), int(rng.integers(50, 400)))


@dataclass(frozen=True)
class CrowdConfig:
    """How the crowd is drawn (the options of ``crowd simulate``)."""

    n_classes: int
    onset: int = 40
    reliable_accuracy: tuple[float, float] | None = None  # per-worker range; None: 0.85
    class_shares: Sequence[float] | None = None
    group_size: int = 3
    slow_after: int = 40
    slow_over: int = 80


def _reliable(config: CrowdConfig, rng: np.random.Generator, accuracy: float | None = None,
              spread: float = 0.1) -> WorkerModel:
    if accuracy is None:
        if config.reliable_accuracy is None:
            accuracy = 0.85
        else:
            low, high = config.reliable_accuracy
            accuracy, spread = float(rng.uniform(low, high)), 0.05
    return WorkerModel("reliable", reliable_confusion(config.n_classes, rng, accuracy, spread,
                                                      config.class_shares))


def make_minds(n_workers: int, shares: Sequence[float], config: CrowdConfig,
               rng: np.random.Generator) -> list[Mind]:
    """``n_workers`` minds split over ``ALL_KINDS`` by ``shares``, in that order.

    The original four kinds draw exactly what ``workers.make_crowd`` draws when
    none of the new options is used (so old seeds give old crowds)."""
    from crowd.simulate.sniffers import make_sniffer
    from crowd.simulate.workers import split_counts

    counts = split_counts(n_workers, list(shares) + [0.0] * (len(ALL_KINDS) - len(shares)))
    c = config.n_classes
    minds: list[Mind] = []
    colluders = target = pushed = 0
    for kind, count in zip(ALL_KINDS, counts, strict=True):
        for i in range(count):
            if kind == "reliable":
                minds.append(Mind(_reliable(config, rng)))
            elif kind in KINDS:
                minds.append(Mind(make_worker(kind, c, rng, onset=config.onset)))
            elif kind == "lazy":
                model = WorkerModel(kind, np.full((c, c), 1.0 / c))
                fixed = int(rng.integers(c)) if i % 2 else None
                minds.append(Lazy(model, fixed, int(rng.integers(c))))
            elif kind == "colluder":
                group = colluders // max(1, config.group_size)
                if colluders % max(1, config.group_size) == 0:
                    target = int(rng.integers(c))
                    pushed = int(rng.choice([k for k in range(c) if k != target]))
                colluders += 1
                model = WorkerModel(kind, _reliable(config, rng).confusion)
                minds.append(Colluder(model, group, target, pushed))
            elif kind in SNIFFERS:
                minds.append(make_sniffer(kind, WorkerModel(kind, _reliable(config, rng)
                                                            .confusion)))
            elif kind == "slow_drifter":
                model = WorkerModel(kind, _reliable(config, rng, 0.9, 0.05).confusion)
                minds.append(SlowDrifter(model, config.slow_after, config.slow_over))
            else:  # speed_bot
                minds.append(SpeedBot(WorkerModel(kind, np.full((c, c), 1.0 / c))))
    return minds
