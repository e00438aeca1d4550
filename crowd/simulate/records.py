"""What the simulator knows of its project, and what it read back from the server."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass
class Project:
    """The simulated project as the simulator knows it: ids and hidden truth."""

    id: int
    labels: list[str]
    truth: dict[str, int]  # external id -> true class (work and gold items)
    gold: set[str]


@dataclass
class Collected:
    """Everything read back from the server at the end of a run."""

    project: dict[str, Any]
    results: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    workers: list[dict[str, Any]]
    histories: dict[str, list[dict[str, Any]]]
    reviews: Counter[str]
    aggregations: int
    aggregation_seconds: float
    aggregation_changes: Counter[str]
    answers: int
    seconds: float
    statuses: Counter[int]
    reconnects: int
    problems: list[str]
