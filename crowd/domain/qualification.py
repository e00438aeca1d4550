"""Qualification and retraining rounds: when a worker passes or fails (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StateChange:
    """A decided change of a worker's state, with its recorded reason."""

    to_state: str
    reason_code: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def initial_state(qualification_size: int) -> StateChange:
    """A worker's first state in a project: qualification, unless none is asked."""
    if qualification_size <= 0:
        return StateChange("active", "no_qualification", "the project asks for no qualification")
    return StateChange(
        "qualification", "new_worker",
        f"answer {qualification_size} qualification items to start working",
    )


def round_result(
    state: str, seen: int, correct: int, size: int, threshold: float, *, exhausted: bool = False
) -> StateChange | None:
    """The outcome of a qualification or retraining round, or None while it goes on.

    A round ends after ``size`` gold answers, or early when ``exhausted`` (no
    unseen gold is left for the worker). Passing means accuracy >= ``threshold``.
    A round that ends with no answers at all (the project has no gold to give)
    lets the worker in rather than locking them out.
    """
    if seen < size and not exhausted:
        return None
    kind = "qualification" if state == "qualification" else "retraining"
    evidence = {"seen": seen, "correct": correct, "required_accuracy": threshold}
    if seen == 0:
        return StateChange("active", "no_gold", f"no gold items are left for {kind}", evidence)
    accuracy = correct / seen
    evidence["accuracy"] = round(accuracy, 4)
    if accuracy >= threshold:
        return StateChange(
            "active", f"{kind}_passed",
            f"passed {kind}: {correct}/{seen} correct ({accuracy:.0%})", evidence,
        )
    return StateChange(
        "suspended", f"{kind}_failed",
        f"failed {kind}: {correct}/{seen} correct ({accuracy:.0%}), "
        f"{threshold:.0%} needed", evidence,
    )
