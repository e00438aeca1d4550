"""Which state changes a manager may make from a worker's state, and what each is
called (pure). Only changes to another state are offered, so the form never
suggests that a suspended worker is active."""
from __future__ import annotations

from dataclasses import dataclass

OVERRIDE_STATES = ("active", "retraining", "suspended")


@dataclass(frozen=True)
class Transition:
    """A change to ``to_state``, named ``action`` with what it does in ``meaning``."""

    to_state: str
    action: str
    meaning: str


def transitions(state: str) -> list[Transition]:
    """The changes a manager may make to a worker now in ``state``."""
    offered = []
    if state != "active":
        action = "Activate (skip qualification)" if state == "qualification" else "Reinstate"
        offered.append(Transition("active", action,
                                  "back to work at once; their gold record is kept"))
    if state != "retraining":
        offered.append(Transition("retraining", "Retrain",
                                  "a new round of gold with feedback before more work"))
    if state != "suspended":
        offered.append(Transition("suspended", "Suspend",
                                  "no more items; their live leases are released"))
    return offered


def allowed(state: str, to_state: str) -> bool:
    """Whether a manager may move a worker from ``state`` to ``to_state``."""
    return any(t.to_state == to_state for t in transitions(state))
