"""Gold sniffers: workers who try to tell hidden gold from work, and answer honestly
only what they take for gold (at random otherwise).

Qualification and training say by their mode that every offer is gold, and
their feedback confirms it; a sniffer answers those honestly and remembers what
it saw. In work mode it guesses from what it remembered, records the guess
(``Choice.guess_gold``), and answers honestly only when it guessed gold. Three
ways of guessing:

* by id (``sniffer_id``): an item id met in a round again, or (ids that are
  numbers, or strings of digits) within ``radius`` of one;
* by content (``sniffer_content``): the same item data as a gold item met;
* by timing (``sniffer_timing``): a ``next`` that took unusually long or short
  compared with the work offers so far (a robust z-score on the latency).
"""
from __future__ import annotations

import bisect
import json
from collections import deque
from typing import Any

import numpy as np

from crowd.simulate.kinds import Choice, Mind, Seen, human_duration
from crowd.simulate.workers import WorkerModel

ID_RADIUS = 3  # how near a known gold id a numeric id must lie to be taken for gold
TIMING_WARMUP = 10  # work offers timed before any is judged
TIMING_HISTORY = 200  # the latencies kept
TIMING_Z = 3.0  # robust z-score beyond which a latency is "unusual"
TIMING_FLOOR = 0.002  # seconds: the least spread assumed


class Sniffer(Mind):
    """The common part: honest on known gold and on guessed gold, random otherwise."""

    def remember(self, seen: Seen) -> None:
        """Take note of an offer known to be gold."""

    def guess(self, seen: Seen) -> bool:
        """Whether a work offer is taken for gold."""
        return False

    def choose(self, seen: Seen, truth: int, work_answers: int,
               rng: np.random.Generator) -> Choice:
        if seen.known_gold:
            self.remember(seen)
            return Choice(self.honest(truth, work_answers, rng), human_duration(rng))
        guessed = self.guess(seen)
        given = self.honest(truth, work_answers, rng) if guessed else int(
            rng.integers(self.n_classes))
        return Choice(given, human_duration(rng), guess_gold=guessed)


def as_number(item_id: Any) -> int | None:
    """An id as a whole number when it is one (or a string of digits), else None."""
    if isinstance(item_id, bool):
        return None
    if isinstance(item_id, int):
        return item_id
    if isinstance(item_id, str) and item_id.strip().lstrip("-").isdigit():
        return int(item_id.strip())
    return None


class SnifferById(Sniffer):
    """Takes a work offer for gold when its id was met in a round, or lies within
    ``radius`` of such an id (numerically, when ids are numbers)."""

    def __init__(self, model: WorkerModel, radius: int = ID_RADIUS) -> None:
        super().__init__(model)
        self.radius = radius
        self.seen_ids: set[str] = set()
        self.numbers: list[int] = []  # sorted

    def remember(self, seen: Seen) -> None:
        self.seen_ids.add(str(seen.item_id))
        number = as_number(seen.item_id)
        if number is not None:
            bisect.insort(self.numbers, number)

    def guess(self, seen: Seen) -> bool:
        if str(seen.item_id) in self.seen_ids:
            return True
        number = as_number(seen.item_id)
        if number is None or not self.numbers:
            return False
        at = bisect.bisect_left(self.numbers, number)
        near = [self.numbers[i] for i in (at - 1, at) if 0 <= i < len(self.numbers)]
        return min(abs(number - n) for n in near) <= self.radius


def content_key(data: Any) -> str:
    return json.dumps(data, sort_keys=True, default=str)


class SnifferByContent(Sniffer):
    """Takes a work offer for gold when its data repeats that of a gold item met."""

    def __init__(self, model: WorkerModel) -> None:
        super().__init__(model)
        self.contents: set[str] = set()

    def remember(self, seen: Seen) -> None:
        self.contents.add(content_key(seen.data))

    def guess(self, seen: Seen) -> bool:
        return content_key(seen.data) in self.contents


class SnifferByTiming(Sniffer):
    """Takes a work offer for gold when ``next`` took unusually long or short: more
    than ``z`` robust standard deviations (1.4826 x MAD) from the median latency
    of the work offers before it, once ``warmup`` of them were timed."""

    def __init__(self, model: WorkerModel, z: float = TIMING_Z,
                 warmup: int = TIMING_WARMUP) -> None:
        super().__init__(model)
        self.z, self.warmup = z, warmup
        self.latencies: deque[float] = deque(maxlen=TIMING_HISTORY)

    def guess(self, seen: Seen) -> bool:
        history = np.asarray(self.latencies)
        self.latencies.append(seen.latency)
        if len(history) < self.warmup:
            return False
        median = float(np.median(history))
        spread = max(1.4826 * float(np.median(np.abs(history - median))), TIMING_FLOOR)
        return abs(seen.latency - median) > self.z * spread


def make_sniffer(kind: str, model: WorkerModel) -> Sniffer:
    """A sniffer of ``kind`` (``sniffer_id``, ``sniffer_content`` or ``sniffer_timing``)."""
    if kind == "sniffer_id":
        return SnifferById(model)
    if kind == "sniffer_content":
        return SnifferByContent(model)
    if kind == "sniffer_timing":
        return SnifferByTiming(model)
    raise ValueError(f"unknown sniffer {kind!r}")
